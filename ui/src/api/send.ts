// 发送 / 任务 / 发送记录 / 概览: typed hooks over the compose_*, job*, history_* and overview_*
// commands, which return core's types (renamed here where that keeps the pages simple). Job
// progress streams over a Channel per watched job. Codes (job status, row states, delivery
// results, pause reasons, row notes) are named by ../pages/jobs/labels.ts in the UI's language.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Channel } from "@tauri-apps/api/core";
import { useEffect, useState } from "react";
import {
  type CustomMessage,
  commands,
  events,
  type HistoryFilter,
  type JobCounts,
  type JobProgress,
  type JobShown,
  type RecipientSource,
  type TemplateDraft,
} from "../bindings";
import { listenWhileMounted, unwrap } from "./index";
import { useTeamMembership } from "./team";

export type {
  CardPreview,
  ComposeCheck,
  CustomMessage,
  DayCounts as DayView,
  Delivery,
  Explanation,
  HistoryDetail as HistoryDetailView,
  HistoryFilter as HistoryQuery,
  HistoryRow as HistoryRowView,
  HistoryRow as TestSendResult,
  HistoryStatus,
  Job as JobView,
  JobCounts,
  JobKind,
  JobProgress as JobProgressView,
  JobPurpose,
  JobShown,
  JobStatus as JobState,
  Jump,
  OverviewStats,
  PauseReason,
  RecipientSource,
  RecipientState,
  RenderProblem,
  RowNote,
  SendEstimate,
  TemplateDraft,
} from "../bindings";

/** Rows not finished yet (pending or in flight): what no final state holds. */
export function pendingOf(c: JobCounts): number {
  const done =
    c.sent + c.failed_retryable + c.failed_permanent + c.uncertain + c.skipped + c.cancelled;
  return Math.max(0, c.total - done);
}

export const HISTORY_PAGE = 100;

export const sendKeys = {
  jobs: ["jobs"] as const,
  history: (q: HistoryFilter) => ["history", q] as const,
  detail: (id: number) => ["history", "detail", id] as const,
  overview: (days: number) => ["overview", days] as const,
};

/** The latest jobs; refreshed every few seconds while any runs. */
export function useJobs() {
  // In a team, a colleague's desk starts jobs this desk hears of only by asking the server.
  const team = useTeamMembership().data != null;
  return useQuery({
    queryKey: sendKeys.jobs,
    queryFn: () => unwrap(commands.jobsList(null)),
    refetchInterval: (q) =>
      q.state.data?.some((j) => j.status === "running") ? 3000 : team ? 5000 : false,
  });
}

/** Every view that shows a job's numbers: the job list, 概览 and 发送记录. */
const NUMBER_VIEWS = [sendKeys.jobs, ["overview"], ["history"]] as const;

function refreshNumbers(qc: ReturnType<typeof useQueryClient>) {
  return Promise.all(NUMBER_VIEWS.map((queryKey) => qc.invalidateQueries({ queryKey })));
}

/**
 * Live progress of one job while a runner of the app works on it (null when none reports).
 *
 * The stream starts when the job starts running and is kept after a pause or cancel: the
 * requests in flight then still finish and are recorded, and the runner's last report carries
 * the numbers they leave. When the stream ends the job list, 概览 and 发送记录 are read again
 * and the list's stored counts take over (the live report is dropped only once they are in, so
 * the row never falls back to older numbers). A report whose state differs from the list's
 * reads them again at once (a pause by the engine, the end of the job).
 */
export function useJobProgress(jobId: number, running: boolean, listed?: JobShown) {
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [watching, setWatching] = useState(running);
  // One stream per start: a job listed as running that no runner of the app works on (the CLI
  // sends it) gives its stored counts once and the stream ends; it is not asked again until
  // the job starts again.
  const [wasRunning, setWasRunning] = useState(running);
  const qc = useQueryClient();
  if (running !== wasRunning) {
    setWasRunning(running);
    if (running) setWatching(true);
  }
  useEffect(() => {
    if (!watching) return;
    let live = true;
    const ch = new Channel<JobProgress>();
    ch.onmessage = (p) => {
      if (live) setProgress(p);
    };
    void commands.jobWatch(jobId, ch).finally(() => {
      if (!live) return;
      void refreshNumbers(qc).finally(() => {
        if (!live) return;
        setProgress(null);
        setWatching(false);
      });
    });
    return () => {
      live = false;
    };
  }, [jobId, watching, qc]);
  const shown = progress?.shown ?? null;
  useEffect(() => {
    if (shown && listed && shown !== listed) void refreshNumbers(qc);
  }, [shown, listed, qc]);
  return progress;
}

function useJobAction<T, A>(fn: (a: A) => Promise<T>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => refreshNumbers(qc),
  });
}

export const useJobPause = () => useJobAction((id: number) => unwrap(commands.jobPause(id)));
export const useJobResume = () => useJobAction((id: number) => unwrap(commands.jobResume(id)));
export const useJobCancel = () => useJobAction((id: number) => unwrap(commands.jobCancel(id)));
export const useJobStart = () => useJobAction((id: number) => unwrap(commands.jobStart(id)));
export const useJobCopy = () => useJobAction((id: number) => unwrap(commands.jobCopy(id)));
export const useJobRetry = () =>
  useJobAction((a: { id: number; all: boolean }) => unwrap(commands.jobRetryFailed(a.id, a.all)));
export const useJobResendUncertain = () =>
  useJobAction((id: number) => unwrap(commands.jobResendUncertain(id)));

/** The composer's check (rules, missing variables, cards); the caller debounces the draft. */
export function useComposeCheck(draft: TemplateDraft | null, recipients: RecipientSource | null) {
  return useQuery({
    queryKey: ["compose", "check", draft, recipients],
    queryFn: () => unwrap(commands.composeCheck(draft as TemplateDraft, recipients)),
    enabled: !!draft,
    placeholderData: (prev) => prev,
  });
}

export const composeApi = {
  estimate: (appid: string, r: RecipientSource) => unwrap(commands.composeEstimate(appid, r)),
  send: (d: TemplateDraft, r: RecipientSource) => unwrap(commands.composeSend(d, r)),
  testSend: (d: TemplateDraft, r: RecipientSource | null, openid: string) =>
    unwrap(commands.composeTestSend(d, r, openid)),
  customSend: (appid: string, openid: string, m: CustomMessage) =>
    unwrap(commands.composeCustomSend(appid, openid, m)),
};

/** History pages, newest first, keyset "load more". */
export function useHistory(q: HistoryFilter) {
  return useInfiniteQuery({
    queryKey: sendKeys.history(q),
    queryFn: ({ pageParam }) => unwrap(commands.historyList(q, pageParam, HISTORY_PAGE)),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
}

/**
 * Whether a feed event may carry a delivery report: a template message's, or a subscription
 * notice's (the relay files `subscribe_msg_sent_event` under `other`; the feed reads its XML).
 */
export function isDeliveryReport(kind: string | null): boolean {
  return kind === "template_send_job_finish" || kind === "other";
}

/**
 * Keeps 发送记录, 概览 and 任务 live: a delivery report the relay delivers (applied by the feed
 * before the notice) reads the history pages, the open record, the overview and the job list
 * (its delivered counts) again.
 */
export function useDeliveryReportsLive() {
  const qc = useQueryClient();
  useEffect(
    () =>
      listenWhileMounted(
        events.feedNotice.listen((e) => {
          if (e.payload.notice !== "event" || !isDeliveryReport(e.payload.kind)) return;
          void refreshNumbers(qc);
        }),
      ),
    [qc],
  );
}

export function useHistoryDetail(id: number | null) {
  return useQuery({
    queryKey: sendKeys.detail(id ?? 0),
    queryFn: () => unwrap(commands.historyDetail(id ?? 0)),
    enabled: id !== null,
  });
}

export const historyApi = {
  export: (q: HistoryFilter, path: string) => unwrap(commands.historyExport(q, path)),
};

export function useOverview(days: number) {
  return useQuery({
    queryKey: sendKeys.overview(days),
    queryFn: () => unwrap(commands.overviewStats(days, null)),
    refetchInterval: 10_000,
  });
}
