// 小程序代码: typed hooks over the code_* commands (core's types as they come). A rollout's
// progress streams over a Channel per watched rollout; each report refetches the rollout's rows
// and the mini programs' status, so the table follows the runner.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Channel } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";
import { useEffect, useMemo, useState } from "react";
import {
  type AuditForm,
  type CommitInput,
  commands,
  type DomainOp,
  events,
  type RolloutForm,
  type RolloutProgress,
  type ServerLists,
} from "../bindings";
import { listenWhileMounted, unwrap } from "./index";
import { useAccounts } from "./shell";

export type {
  Audit,
  AuditForm,
  AuditPick,
  AuditQuota,
  AuditState,
  Category,
  ClientsForm,
  CodeStatus,
  CodeTemplate,
  CommitInput,
  DomainOp,
  Domains,
  Draft,
  Explanation,
  HistoryVersion,
  Library,
  Pause,
  PauseCode,
  PlannedRow,
  QrCode,
  Rollout,
  RolloutDetail,
  RolloutForm,
  RolloutProgress,
  RolloutRow,
  RolloutStatus,
  RolloutTarget,
  RowCounts,
  RowState,
  ServerLists,
  VersionLine,
  VersionSummary,
} from "../bindings";

export const codeKeys = {
  all: ["code"] as const,
  library: ["code", "library"] as const,
  status: (appid: string) => ["code", "status", appid] as const,
  statusAll: ["code", "status"] as const,
  quota: ["code", "quota"] as const,
  versions: (appids: string[]) => ["code", "versions", appids] as const,
  versionsAll: ["code", "versions"] as const,
  categories: (appid: string) => ["code", "categories", appid] as const,
  pages: (appid: string) => ["code", "pages", appid] as const,
  history: (appid: string) => ["code", "history", appid] as const,
  domains: (appid: string) => ["code", "domains", appid] as const,
  webview: (appid: string) => ["code", "webview", appid] as const,
  explain: (errcode: number) => ["code", "explain", errcode] as const,
  rollouts: ["code", "rollouts"] as const,
  rollout: (id: number) => ["code", "rollout", id] as const,
  rolloutVersions: (id: number) => ["code", "rollout", id, "versions"] as const,
};

/** An authorized mini program, as the page lists it. */
export interface Mini {
  appid: string;
  nickname: string;
}

/** The authorized mini programs (names over appids), from the accounts list. */
export function useMinis() {
  const accounts = useAccounts();
  const minis = useMemo<Mini[] | undefined>(
    () =>
      accounts.data
        // Only the current platform's: another platform's (the sandbox's archive) is never used.
        ?.filter((a) => a.kind === "mini" && a.status === "authorized" && a.current_platform)
        .map((a) => ({ appid: a.appid, nickname: a.nickname })),
    [accounts.data],
  );
  const names = useMemo(
    () => new Map((minis ?? []).map((m) => [m.appid, m.nickname || m.appid])),
    [minis],
  );
  return { ...accounts, minis, names };
}

/**
 * Keeps the page live: an event the relay delivers for a mini program (an audit push, recorded
 * by the feed) reads that mini program's status and the version spread again.
 */
export function useCodeLive() {
  const qc = useQueryClient();
  useEffect(
    () =>
      listenWhileMounted(
        events.feedNotice.listen((e) => {
          const appid = e.payload.appid;
          if (e.payload.notice !== "event" || !appid) return;
          void qc.invalidateQueries({ queryKey: codeKeys.status(appid) });
          void qc.invalidateQueries({ queryKey: codeKeys.versionsAll });
        }),
      ),
    [qc],
  );
}

export function useLibrary() {
  return useQuery({ queryKey: codeKeys.library, queryFn: () => unwrap(commands.codeLibrary()) });
}

export function useAddTemplate() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (a: { draftId: number; templateType: number }) =>
      unwrap(commands.codeAddTemplate(a.draftId, a.templateType)),
    onSuccess: (lib) => qc.setQueryData(codeKeys.library, lib),
  });
}

export function useDeleteTemplate() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (templateId: number) => unwrap(commands.codeDeleteTemplate(templateId)),
    onSettled: () => qc.invalidateQueries({ queryKey: codeKeys.library }),
  });
}

export function useCodeStatus(appid: string) {
  return useQuery({
    queryKey: codeKeys.status(appid),
    queryFn: () => unwrap(commands.codeStatus(appid)),
    staleTime: 10_000,
  });
}

export function useQuota(enabled: boolean) {
  return useQuery({
    queryKey: codeKeys.quota,
    queryFn: () => unwrap(commands.codeQuota()),
    enabled,
  });
}

export function useVersions(appids: string[]) {
  return useQuery({
    queryKey: codeKeys.versions(appids),
    queryFn: () => unwrap(commands.codeVersions(appids)),
    enabled: appids.length > 0,
  });
}

export function useCategories(appid: string, enabled: boolean) {
  return useQuery({
    queryKey: codeKeys.categories(appid),
    queryFn: () => unwrap(commands.codeCategories(appid)),
    enabled,
  });
}

export function usePages(appid: string, enabled: boolean) {
  return useQuery({
    queryKey: codeKeys.pages(appid),
    queryFn: () => unwrap(commands.codePages(appid)),
    enabled,
  });
}

export function useHistoryVersions(appid: string, enabled: boolean) {
  return useQuery({
    queryKey: codeKeys.history(appid),
    queryFn: () => unwrap(commands.codeHistory(appid)),
    enabled,
  });
}

/** What an errcode recorded on a rollout row means (null: not in the table). */
export function useExplain(errcode: number | null) {
  return useQuery({
    queryKey: codeKeys.explain(errcode ?? 0),
    queryFn: () => commands.codeExplain(errcode),
    enabled: errcode !== null && errcode !== 0,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** An action on one mini program; its status (and the quota) are read again afterwards. */
function useMiniAction<A, T>(appid: string, fn: (a: A) => Promise<T>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () =>
      Promise.all([
        qc.invalidateQueries({ queryKey: codeKeys.status(appid) }),
        qc.invalidateQueries({ queryKey: codeKeys.quota }),
        qc.invalidateQueries({ queryKey: codeKeys.history(appid) }),
        qc.invalidateQueries({ queryKey: codeKeys.versionsAll }),
      ]),
  });
}

export const useCommit = (appid: string) =>
  useMiniAction(appid, (input: CommitInput) => unwrap(commands.codeCommit(appid, input)));
export const useSubmitAudit = (appid: string) =>
  useMiniAction(appid, (form: AuditForm) => unwrap(commands.codeSubmitAudit(appid, form)));
export const useRelease = (appid: string) =>
  useMiniAction(appid, (_: undefined) => unwrap(commands.codeRelease(appid)));
export const useRollback = (appid: string) =>
  useMiniAction(appid, (appVersion: number | null) =>
    unwrap(commands.codeRollback(appid, appVersion)),
  );
export const useUndoAudit = (appid: string) =>
  useMiniAction(appid, (_: undefined) => unwrap(commands.codeUndoAudit(appid)));
export const useSpeedUp = (appid: string) =>
  useMiniAction(appid, (auditid: number | null) => unwrap(commands.codeSpeedUp(appid, auditid)));

// ---- domains ----

/** The six server-domain lists, all empty (what a get sends: WeChat ignores the lists then). */
export const NO_SERVER_DOMAINS: ServerLists = {
  requestdomain: [],
  wsrequestdomain: [],
  uploaddomain: [],
  downloaddomain: [],
  udpdomain: [],
  tcpdomain: [],
};

/** 服务器域名 as WeChat has them now. */
export function useServerDomains(appid: string) {
  return useQuery({
    queryKey: codeKeys.domains(appid),
    queryFn: async () =>
      (await unwrap(commands.codeDomains(appid, "get", NO_SERVER_DOMAINS))).current,
  });
}

/** Overwrites the six lists; resolves with what is in effect and what WeChat filtered out. */
export function useSetServerDomains(appid: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (lists: ServerLists) => unwrap(commands.codeDomains(appid, "set", lists)),
    onSuccess: (d) => qc.setQueryData(codeKeys.domains(appid), d.current),
  });
}

/** 业务域名 as WeChat has them now. */
export function useWebviewDomains(appid: string) {
  return useQuery({
    queryKey: codeKeys.webview(appid),
    queryFn: () => unwrap(commands.codeWebviewDomains(appid, "get", [])),
  });
}

/** Changes the 业务域名 (`op: null`: add every one the platform registered). */
export function useChangeWebviewDomains(appid: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (a: { op: DomainOp | null; domains: string[] }) =>
      unwrap(commands.codeWebviewDomains(appid, a.op, a.domains)),
    onSuccess: (list) => qc.setQueryData(codeKeys.webview(appid), list),
  });
}

/** The 体验版 QR code as a data URL for an <img>. */
export function useTrialQr(appid: string, path: string | null, enabled: boolean) {
  return useQuery({
    queryKey: ["code", "qr", appid, path],
    queryFn: async () => {
      const qr = await unwrap(commands.codeQrcode(appid, path));
      return bytesToDataUrl(qr.content_type || "image/jpeg", qr.bytes);
    },
    enabled,
    staleTime: 0,
    gcTime: 0,
  });
}

/** `data:<type>;base64,…` of raw bytes (chunked: spreading a large array overflows the stack). */
export function bytesToDataUrl(contentType: string, bytes: readonly number[]): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.slice(i, i + 0x8000));
  }
  return `data:${contentType};base64,${btoa(binary)}`;
}

// ---- rollouts ----

export function useRolloutPlan() {
  return useMutation({ mutationFn: (form: RolloutForm) => unwrap(commands.codeRolloutPlan(form)) });
}

/** Writes the rollout, then starts it; resolves with its id (a start refused leaves a draft). */
export function useStartNewRollout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (form: RolloutForm) => {
      const id = (await unwrap(commands.codeRolloutCreate(form))) as number;
      await unwrap(commands.codeRolloutStart(id));
      return id;
    },
    onSettled: () => qc.invalidateQueries({ queryKey: codeKeys.rollouts }),
  });
}

export function useRollouts() {
  return useQuery({
    queryKey: codeKeys.rollouts,
    queryFn: () => unwrap(commands.codeRollouts()),
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === "running") ? 3000 : false),
  });
}

/** A rollout's rows; read again every few seconds while it runs (also when another process
 * drives it, which sends this window no progress). */
export function useRollout(id: number | null, running = false) {
  return useQuery({
    queryKey: codeKeys.rollout(id ?? 0),
    queryFn: () => unwrap(commands.codeRollout(id)),
    enabled: id !== null,
    refetchInterval: running ? 3000 : false,
  });
}

export function useRolloutVersions(id: number, enabled: boolean) {
  return useQuery({
    queryKey: codeKeys.rolloutVersions(id),
    queryFn: () => unwrap(commands.codeRolloutVersions(id)),
    enabled,
  });
}

/**
 * Live progress of a rollout while the app's runner drives it (null until the first report).
 * Every report refetches the rows and the statuses; the end refetches the list too.
 */
export function useRolloutProgress(id: number, running: boolean) {
  const [progress, setProgress] = useState<RolloutProgress | null>(null);
  const qc = useQueryClient();
  useEffect(() => {
    if (!running) return;
    let live = true;
    const ch = new Channel<RolloutProgress>();
    ch.onmessage = (p) => {
      if (!live) return;
      setProgress(p);
      // The runner asks for the quota as it submits: the page's quota line follows it.
      if (p.quota) qc.setQueryData(codeKeys.quota, p.quota);
      void qc.invalidateQueries({ queryKey: codeKeys.rollout(id), exact: true });
      void qc.invalidateQueries({ queryKey: codeKeys.statusAll });
    };
    void commands.codeRolloutWatch(id, ch).finally(() => {
      if (!live) return;
      void qc.invalidateQueries({ queryKey: codeKeys.rollouts });
      void qc.invalidateQueries({ queryKey: codeKeys.rollout(id) });
      void qc.invalidateQueries({ queryKey: codeKeys.quota });
      void qc.invalidateQueries({ queryKey: codeKeys.versionsAll });
    });
    return () => {
      live = false;
    };
  }, [id, running, qc]);
  return progress;
}

function useRolloutAction(fn: (id: number) => Promise<null>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: (_d, _e, id) =>
      Promise.all([
        qc.invalidateQueries({ queryKey: codeKeys.rollouts }),
        qc.invalidateQueries({ queryKey: codeKeys.rollout(id) }),
      ]),
  });
}

export const useRolloutResume = () =>
  useRolloutAction((id) => unwrap(commands.codeRolloutStart(id)));
export const useRolloutPause = () =>
  useRolloutAction((id) => unwrap(commands.codeRolloutPause(id)));
export const useRolloutCancel = () =>
  useRolloutAction((id) => unwrap(commands.codeRolloutCancel(id)));

/** The client table (CSV or Excel) from the open dialog; null when cancelled. */
export async function pickClientTable(title: string): Promise<string | null> {
  const picked = await open({
    title,
    multiple: false,
    directory: false,
    filters: [{ name: "CSV / Excel", extensions: ["csv", "txt", "xlsx"] }],
  });
  return typeof picked === "string" ? picked : null;
}
