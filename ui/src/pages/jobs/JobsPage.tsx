import { ReloadOutlined } from "@ant-design/icons";
import { App, Button, Card, Dropdown, Empty, Flex, Space, Table, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useAccountNames } from "../../api/names";
import {
  type JobView,
  useDeliveryReportsLive,
  useJobCancel,
  useJobCopy,
  useJobPause,
  useJobResendUncertain,
  useJobResume,
  useJobRetry,
  useJobStart,
  useJobs,
} from "../../api/send";
import { useTeamMembership } from "../../api/team";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { NamedId } from "../../layout/NamedId";
import { SandboxMark } from "../accounts/PlatformTag";
import { QuotaModal } from "../messaging/QuotaModal";
import { PageShell } from "../PageShell";
import { JobProgressCell, JobStatusTag } from "./JobNumbers";
import { isEnglish, jobTitle, kindLabel, pauseReasonText } from "./labels";

export function formatTime(unix: number): string {
  const d = new Date(unix * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function JobActions({ job }: { job: JobView }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const pause = useJobPause();
  const resume = useJobResume();
  const start = useJobStart();
  const cancel = useJobCancel();
  const [quotaOpen, setQuotaOpen] = useState(false);
  const retry = useJobRetry();
  const resend = useJobResendUncertain();
  const copy = useJobCopy();
  const team = useTeamMembership().data != null;
  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));
  const c = job.counts;
  const failed = c.failed_retryable + c.failed_permanent;
  const open = job.status !== "cancelled" && job.status !== "completed";
  const items = [
    {
      key: "retry",
      label: t("send.jobs.retryRetryable"),
      disabled: c.failed_retryable === 0 || job.status === "running",
    },
    {
      key: "retryAll",
      label: t("send.jobs.retryAll"),
      disabled: failed === 0 || job.status === "running",
    },
    {
      key: "resend",
      label: t("send.jobs.resendUncertain"),
      disabled: c.uncertain === 0 || job.status === "running",
      danger: true,
    },
    // A team server starts a job as it is created: there is no unstarted copy to offer.
    ...(team ? [] : [{ key: "copy", label: t("send.jobs.copy") }]),
    {
      key: "history",
      label: <span data-testid={`job-history-${job.id}`}>{t("send.jobs.history")}</span>,
    },
    {
      key: "cancel",
      label: <span data-testid={`job-cancel-${job.id}`}>{t("send.jobs.cancel")}</span>,
      disabled: !open,
      danger: true,
    },
  ];
  const onMenu = ({ key }: { key: string }) => {
    if (key === "retry" || key === "retryAll") {
      retry.mutate(
        { id: job.id, all: key === "retryAll" },
        { onSuccess: (n) => message.success(t("send.jobs.queued", { n })), onError: fail },
      );
    } else if (key === "resend") {
      modal.confirm({
        title: t("send.jobs.resendTitle"),
        content: t("send.jobs.resendWarn"),
        okText: t("send.jobs.resendOk"),
        cancelText: t("send.jobs.resendKeep"),
        okButtonProps: { danger: true },
        onOk: () =>
          resend
            .mutateAsync(job.id)
            .then(
              (r) =>
                message.success(
                  t("send.jobs.resendDone", { n: r.rows, outside: r.outside_dedup_window }),
                ),
              fail,
            ),
      });
    } else if (key === "copy") {
      copy.mutate(job.id, {
        onSuccess: (id) => message.success(t("send.jobs.copied", { id })),
        onError: fail,
      });
    } else if (key === "history") {
      navigate(`/history?job=${job.id}`);
    } else if (key === "cancel") {
      modal.confirm({
        title: t("send.jobs.cancel"),
        content: t("send.jobs.cancelConfirm"),
        // 取消/确定 would read "don't cancel" as 取消: each button says what it does.
        okText: t("send.jobs.cancelOk"),
        cancelText: t("send.jobs.cancelKeep"),
        okButtonProps: { danger: true },
        onOk: () => cancel.mutateAsync(job.id).catch(fail),
      });
    }
  };
  return (
    <Space size={4}>
      {job.status === "running" && (
        <Button
          size="small"
          onClick={() => pause.mutate(job.id, { onError: fail })}
          data-testid={`job-pause-${job.id}`}
        >
          {t("send.jobs.pause")}
        </Button>
      )}
      {(job.status === "paused" || job.status === "paused_quota") && (
        <Button
          size="small"
          type="primary"
          onClick={() => resume.mutate(job.id, { onError: fail })}
        >
          {t("send.jobs.resume")}
        </Button>
      )}
      {job.status === "paused_quota" && (
        <>
          <Button
            size="small"
            data-testid={`job-quota-${job.id}`}
            onClick={() => setQuotaOpen(true)}
          >
            {t("messaging.quota.button")}
          </Button>
          <QuotaModal
            appid={job.appid}
            name={job.appid}
            open={quotaOpen}
            onClose={() => setQuotaOpen(false)}
            hint={t("messaging.quota.jobHint")}
          />
        </>
      )}
      {job.status === "draft" && (
        <Button
          size="small"
          type="primary"
          onClick={() => start.mutate(job.id, { onError: fail })}
          data-testid={`job-start-${job.id}`}
        >
          {t("send.jobs.start")}
        </Button>
      )}
      <Dropdown menu={{ items, onClick: onMenu }} trigger={["click"]}>
        <Button size="small" data-testid={`job-more-${job.id}`}>
          {t("send.jobs.more")}
        </Button>
      </Dropdown>
    </Space>
  );
}

export function JobsPage() {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const navigate = useNavigate();
  const { data, error, isPending, refetch, isFetching } = useJobs();
  const accountName = useAccountNames();
  useDeliveryReportsLive();
  const columns: ColumnsType<JobView> = [
    {
      title: t("send.jobs.colJob"),
      key: "job",
      width: 220,
      render: (_, j) => (
        <Flex vertical>
          <Typography.Text strong ellipsis={{ tooltip: jobTitle(t, j) }}>
            #{j.id} {jobTitle(t, j)}
          </Typography.Text>
          <Flex gap={4} align="center" style={{ fontSize: 12, minWidth: 0 }}>
            <Typography.Text type="secondary" style={{ fontSize: 12, flex: "none" }}>
              {kindLabel(t, j.kind)} ·
            </Typography.Text>
            <NamedId name={accountName(j.appid)} id={j.appid} testid={`job-account-${j.id}`} />
            <SandboxMark appid={j.appid} />
          </Flex>
        </Flex>
      ),
    },
    {
      title: t("send.jobs.colStatus"),
      key: "status",
      width: 120,
      render: (_, j) =>
        j.pause_reason && j.status !== "running" && j.status !== "completed" ? (
          <Tooltip
            title={t("send.jobs.pauseReason", {
              reason: pauseReasonText(t, j.pause_reason, english),
            })}
          >
            <span>
              <JobStatusTag job={j} />
            </span>
          </Tooltip>
        ) : (
          <JobStatusTag job={j} />
        ),
    },
    {
      title: t("send.jobs.colProgress"),
      key: "progress",
      render: (_, j) => <JobProgressCell job={j} />,
    },
    {
      title: t("send.jobs.colCreated"),
      key: "created",
      width: 170,
      render: (_, j) => (
        <Flex vertical>
          <Typography.Text type="secondary">{formatTime(j.created_at)}</Typography.Text>
          {j.created_by && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("send.jobs.byMember", { name: j.created_by })}
            </Typography.Text>
          )}
        </Flex>
      ),
    },
    {
      title: t("send.jobs.colActions"),
      key: "actions",
      width: 150,
      render: (_, j) => <JobActions job={j} />,
    },
  ];
  return (
    <PageShell page="jobs">
      {error && <ErrorAlert error={error} />}
      <Card
        extra={
          <Button icon={<ReloadOutlined />} loading={isFetching} onClick={() => void refetch()}>
            {t("send.jobs.refresh")}
          </Button>
        }
        title={t("pages.jobs.title")}
      >
        <Table<JobView>
          data-testid="jobs-table"
          rowKey="id"
          loading={isPending}
          columns={columns}
          dataSource={data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          size="middle"
          locale={{
            emptyText: (
              <Empty description={t("send.jobs.emptyDesc")} image={Empty.PRESENTED_IMAGE_SIMPLE}>
                <Button type="primary" onClick={() => navigate("/compose")}>
                  {t("send.jobs.toCompose")}
                </Button>
              </Empty>
            ),
          }}
        />
      </Card>
    </PageShell>
  );
}
