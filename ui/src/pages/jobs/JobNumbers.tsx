// A job's numbers as every page shows them: the bar and the counts of 任务's rows, and the same
// summary above 发送记录 when it is filtered by one job. They come from one place: core's job
// (its counts are its rows' counts) and, while a runner of the app works on the job, core's
// progress reports of the same counts — never a copy kept after the job stopped.
import { theme as antdTheme, Flex, Space, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { type JobView, pendingOf, useJobProgress } from "../../api/send";
import {
  CANCELLED_TEXT,
  formatDuration,
  JOB_SHOWN_COLOR,
  jobStatusLabel,
  jobTitle,
} from "./labels";

/** The numbers of one job now: the live report while one streams, else the stored counts. */
export function useJobNumbers(job: JobView) {
  const live = useJobProgress(job.id, job.status === "running", job.shown);
  const c = job.counts;
  return {
    live,
    shown: live?.shown ?? job.shown,
    total: live?.total ?? c.total,
    sent: live?.sent ?? c.sent,
    failed: live?.failed ?? c.failed_retryable + c.failed_permanent,
    uncertain: live?.uncertain ?? c.uncertain,
    skipped: live?.skipped ?? c.skipped,
    cancelled: live?.cancelled ?? c.cancelled,
    pending: live?.pending ?? pendingOf(c),
    delivered: c.delivered,
  };
}

/** The rows a job's bar stands for, each share its own segment. */
export type BarCounts = {
  total: number;
  sent: number;
  failed: number;
  uncertain: number;
  skipped: number;
  cancelled: number;
};

/**
 * The segments of a job's bar, in order, with their share of the rows in percent. Rows still
 * pending are the empty track. Cancelled rows were never sent, so they are a segment of their
 * own and do not count as handled: a job cancelled after 130 of 200 reads 130/200, not 200/200.
 */
export function barSegments(c: BarCounts) {
  const share = (n: number) => (c.total > 0 ? (n / c.total) * 100 : 0);
  const segments = [
    { key: "sent", n: c.sent },
    { key: "failed", n: c.failed },
    { key: "uncertain", n: c.uncertain },
    { key: "skipped", n: c.skipped },
    { key: "cancelled", n: c.cancelled },
  ] as const;
  return {
    handled: c.sent + c.failed + c.uncertain + c.skipped,
    segments: segments.filter((s) => s.n > 0).map((s) => ({ ...s, percent: share(s.n) })),
  };
}

/** The bar of one job: sent, failed, uncertain, skipped and cancelled shares, then the rest. */
export function JobBar({ id, counts }: { id: number; counts: BarCounts }) {
  const { t } = useTranslation();
  const { token } = antdTheme.useToken();
  const { handled, segments } = barSegments(counts);
  const fill: Record<(typeof segments)[number]["key"], string> = {
    sent: token.colorSuccess,
    failed: token.colorError,
    uncertain: token.colorWarning,
    skipped: token.colorTextQuaternary,
    // Greyed and hatched in the cancelled purple: rows that will never go out, distinct from
    // both what was sent and the pending track.
    cancelled: `repeating-linear-gradient(135deg, ${CANCELLED_TEXT}55 0 3px, ${CANCELLED_TEXT}22 3px 6px)`,
  };
  const label = [
    ...segments.map((s) => `${t(`send.jobs.${s.key}`)} ${s.n}`),
    t("send.jobs.barTotal", { total: counts.total }),
  ].join(" · ");
  return (
    <Flex align="center" gap={8} data-testid={`job-bar-${id}`}>
      <div
        role="img"
        aria-label={label}
        title={label}
        style={{
          flex: 1,
          minWidth: 100,
          display: "flex",
          height: 8,
          borderRadius: 4,
          overflow: "hidden",
          background: token.colorFillSecondary,
        }}
      >
        {segments.map((s) => (
          <div
            key={s.key}
            data-testid={`job-bar-${id}-${s.key}`}
            data-percent={s.percent.toFixed(1)}
            style={{ width: `${s.percent}%`, minWidth: 2, background: fill[s.key] }}
          />
        ))}
      </div>
      <Typography.Text
        type="secondary"
        style={{ fontSize: 12, whiteSpace: "nowrap" }}
        data-testid={`job-bar-${id}-text`}
      >
        {handled}/{counts.total}
      </Typography.Text>
    </Flex>
  );
}

/** The bar and counts of one job. */
export function JobProgressCell({ job }: { job: JobView }) {
  const { t } = useTranslation();
  const n = useJobNumbers(job);
  const { live, total, sent, failed, uncertain, skipped, cancelled, pending } = n;
  const running = n.shown === "running";
  return (
    <Flex vertical gap={2} data-testid={`job-progress-${job.id}`}>
      <JobBar id={job.id} counts={{ total, sent, failed, uncertain, skipped, cancelled }} />
      <Space size={8} wrap style={{ fontSize: 12 }}>
        <Typography.Text type="success" data-testid={`job-sent-${job.id}`}>
          {t("send.jobs.sent")} {sent}
        </Typography.Text>
        <Typography.Text
          type={failed ? "danger" : "secondary"}
          data-testid={`job-failed-${job.id}`}
        >
          {t("send.jobs.failed")} {failed}
        </Typography.Text>
        <Typography.Text type="secondary" data-testid={`job-pending-${job.id}`}>
          {t("send.jobs.pending")} {pending}
        </Typography.Text>
        {cancelled > 0 && (
          <Typography.Text
            style={{ color: CANCELLED_TEXT }}
            data-testid={`job-cancelled-${job.id}`}
          >
            {t("send.jobs.cancelled")} {cancelled}
          </Typography.Text>
        )}
        {uncertain > 0 && (
          <Typography.Text type="warning">
            {t("send.jobs.uncertain")} {uncertain}
          </Typography.Text>
        )}
        {skipped > 0 && (
          <Typography.Text type="secondary">
            {t("send.jobs.skipped")} {skipped}
          </Typography.Text>
        )}
        {n.delivered > 0 && (
          <Typography.Text type="secondary">
            {t("send.jobs.delivered")} {n.delivered}
          </Typography.Text>
        )}
        {live && running && live.rate_per_sec > 0 && (
          <Typography.Text type="secondary">
            {t("send.jobs.rate", { rate: live.rate_per_sec.toFixed(1) })}
            {live.eta_secs !== null &&
              ` · ${t("send.jobs.eta", { eta: formatDuration(t, live.eta_secs) })}`}
          </Typography.Text>
        )}
      </Space>
    </Flex>
  );
}

/** A job's status tag, from core's shown state. */
export function JobStatusTag({ job }: { job: JobView }) {
  const { t } = useTranslation();
  return (
    <Tag color={JOB_SHOWN_COLOR[job.shown]} data-testid={`job-status-${job.id}`}>
      {jobStatusLabel(t, job)}
    </Tag>
  );
}

/** 发送记录's header when it shows one job: its title, tag and the same numbers as 任务. */
export function JobSummary({ job }: { job: JobView }) {
  const { t } = useTranslation();
  return (
    <Flex gap={12} align="center" data-testid="history-job-summary">
      <Typography.Text strong style={{ whiteSpace: "nowrap" }}>
        #{job.id} {jobTitle(t, job)}
      </Typography.Text>
      <JobStatusTag job={job} />
      <div style={{ flex: 1, minWidth: 240 }}>
        <JobProgressCell job={job} />
      </div>
    </Flex>
  );
}
