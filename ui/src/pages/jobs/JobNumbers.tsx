// A job's numbers as every page shows them: the bar and the counts of 任务's rows, and the same
// summary above 发送记录 when it is filtered by one job. They come from one place: core's job
// (its counts are its rows' counts) and, while a runner of the app works on the job, core's
// progress reports of the same counts — never a copy kept after the job stopped.
import { Flex, Progress, Space, Tag, Typography } from "antd";
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

/** The bar and counts of one job. */
export function JobProgressCell({ job }: { job: JobView }) {
  const { t } = useTranslation();
  const n = useJobNumbers(job);
  const { live, total, sent, failed, uncertain, skipped, cancelled, pending } = n;
  const done = total - pending;
  const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
  const successPct = total > 0 ? Math.floor((sent / total) * 100) : 0;
  const running = n.shown === "running";
  return (
    <Flex vertical gap={2} data-testid={`job-progress-${job.id}`}>
      <Progress
        percent={pct}
        success={{ percent: successPct }}
        status={
          failed + uncertain > 0 && pending === 0 ? "exception" : running ? "active" : "normal"
        }
        size="small"
        format={() => `${done}/${total}`}
      />
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
