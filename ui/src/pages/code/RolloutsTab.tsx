// 批量发版: the rollouts, newest first, and the chosen one's live progress — each client's state
// (committed → under review → passed / rejected with WeChat's reason / delayed → released),
// pause / resume / cancel, the audit quota, and where the clients' online versions stand.
import {
  App,
  Button,
  Card,
  Empty,
  Flex,
  Progress,
  Skeleton,
  Space,
  Table,
  type TableColumnsType,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import { useTranslation } from "react-i18next";
import {
  type Pause,
  type Rollout,
  type RolloutRow,
  type RowState,
  useExplain,
  useRollout,
  useRolloutCancel,
  useRolloutPause,
  useRolloutProgress,
  useRolloutResume,
  useRollouts,
  useRolloutVersions,
} from "../../api/code";
import {
  CodeErrorAlert,
  fmtTime,
  hasCjk,
  MiniName,
  plainReason,
  ROLLOUT_STATUS_COLOR,
  StateTag,
  useErrorDialog,
} from "./labels";
import { rolloutPercent, shownRollout } from "./progress";
import { VersionSummaryCard } from "./VersionSummaryCard";

/** The steps in the order a client goes through them (the chips under the bar). */
const STEPS: RowState[] = [
  "pending",
  "committing",
  "committed",
  "submitting",
  "auditing",
  "audit_delayed",
  "audit_passed",
  "releasing",
  "released",
  "audit_failed",
  "failed",
  "cancelled",
];

function PauseText({ pause }: { pause: Pause }) {
  const { t, i18n } = useTranslation();
  const detail = pause.detail && !(i18n.language === "en" && hasCjk(pause.detail));
  return (
    <Typography.Text type="warning" data-testid="rollout-pause">
      {t(`code.pause.${pause.code}`)}
      {detail ? `: ${pause.detail}` : ""}
    </Typography.Text>
  );
}

/** WeChat's reason for a rejection or a delay (its own words), kept after the row moved on. */
function RowReason({ row }: { row: RolloutRow }) {
  const { t } = useTranslation();
  if (!row.reason) return null;
  const rejected = row.state === "audit_failed";
  return (
    <Typography.Text
      type={rejected ? "danger" : row.state === "audit_delayed" ? "warning" : "secondary"}
      style={{ whiteSpace: "pre-line", fontSize: 12 }}
    >
      {t(rejected ? "code.rollouts.rejectReason" : "code.rollouts.delayReason")}
      {plainReason(row.reason)}
    </Typography.Text>
  );
}

/** A row's failure: WeChat's errcode explained in the UI language, else core's words in it. */
function RowProblem({ row }: { row: RolloutRow }) {
  const { t, i18n } = useTranslation();
  const en = i18n.language === "en";
  const explain = useExplain(row.errcode);
  if (!row.error && row.errcode === null) return null;
  const x = explain.data;
  if (x) {
    return (
      <Tooltip title={en ? x.hint_en : x.hint_zh}>
        <Typography.Text type="danger" style={{ fontSize: 12 }}>
          {row.errcode} · {en ? x.en : x.zh}
        </Typography.Text>
      </Tooltip>
    );
  }
  const text = row.error ? (en ? row.error.en : row.error.zh) : t("code.rollouts.stepFailed");
  return (
    <Typography.Text type="danger" style={{ fontSize: 12 }}>
      {row.errcode ? `${row.errcode} · ` : ""}
      {text}
    </Typography.Text>
  );
}

function RolloutDetailCard({
  rollout,
  names,
}: {
  rollout: Rollout;
  names: ReadonlyMap<string, string>;
}) {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  const running = rollout.status === "running";
  const live = useRolloutProgress(rollout.id, running);
  const detail = useRollout(rollout.id, running);
  const pause = useRolloutPause();
  const resume = useRolloutResume();
  const cancel = useRolloutCancel();
  const finished = rollout.status === "completed" || rollout.status === "cancelled";
  const versions = useRolloutVersions(rollout.id, !running);
  const { status, counts } = shownRollout(rollout, live);
  const quota = live?.quota ?? null;
  const bar = rolloutPercent(counts, rollout.target);
  const fail = useErrorDialog();

  const columns: TableColumnsType<RolloutRow> = [
    {
      title: t("code.minis.colName"),
      key: "name",
      width: 200,
      render: (_, r) => <MiniName appid={r.appid} name={names.get(r.appid) ?? r.appid} />,
    },
    {
      title: t("code.rollouts.colState"),
      key: "state",
      width: 130,
      render: (_, r) => <StateTag state={r.state} />,
    },
    {
      title: t("code.rollouts.colDetail"),
      key: "detail",
      render: (_, r) => (
        <Flex vertical>
          {r.auditid !== null && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("code.status.auditid", { id: r.auditid })}
            </Typography.Text>
          )}
          <RowReason row={r} />
          <RowProblem row={r} />
        </Flex>
      ),
    },
    {
      title: t("code.rollouts.colUpdated"),
      dataIndex: "updated_at",
      width: 140,
      render: (v: number) => fmtTime(v),
    },
  ];

  return (
    <Card
      size="small"
      data-testid="rollout-detail"
      data-status={status}
      title={
        <Space size={8}>
          <span>{t("code.rollouts.name", { id: rollout.id, version: rollout.user_version })}</span>
          <Tag color={ROLLOUT_STATUS_COLOR[status]} data-testid="rollout-status">
            {t(`code.rolloutStatus.${status}`)}
          </Tag>
          <Typography.Text type="secondary" style={{ fontWeight: "normal" }}>
            {t(`code.target.${rollout.target}`)}
          </Typography.Text>
        </Space>
      }
      extra={
        <Space size={4}>
          {status === "running" && (
            <Button
              size="small"
              data-testid="rollout-pause-btn"
              onClick={() => pause.mutate(rollout.id, { onError: fail })}
            >
              {t("code.rollouts.pause")}
            </Button>
          )}
          {(status === "paused" || status === "draft") && (
            <Button
              size="small"
              type="primary"
              data-testid="rollout-resume-btn"
              onClick={() => resume.mutate(rollout.id, { onError: fail })}
            >
              {status === "draft" ? t("code.rollouts.start") : t("code.rollouts.resume")}
            </Button>
          )}
          {!finished && (
            <Button
              size="small"
              danger
              onClick={() =>
                modal.confirm({
                  title: t("code.rollouts.cancelTitle", { id: rollout.id }),
                  content: t("code.rollouts.cancelConfirm"),
                  okText: t("code.rollouts.cancel"),
                  cancelText: t("code.back"),
                  okButtonProps: { danger: true },
                  onOk: () => cancel.mutateAsync(rollout.id).catch(fail),
                })
              }
            >
              {t("code.rollouts.cancel")}
            </Button>
          )}
        </Space>
      }
    >
      <Flex vertical gap={12}>
        <Flex vertical gap={4} data-testid="rollout-progress">
          <Progress
            percent={bar.percent}
            success={{ percent: bar.done }}
            status={
              counts.audit_failed + counts.failed > 0 && counts.remaining === 0
                ? "exception"
                : status === "running"
                  ? "active"
                  : "normal"
            }
            format={() => `${counts.done}/${counts.total}`}
          />
          <Flex gap={6} wrap>
            {STEPS.filter((s) => (counts.by_state[s] ?? 0) > 0).map((s) => (
              <span key={s} data-testid={`count-${s}`}>
                <StateTag state={s} />
                <Typography.Text>{counts.by_state[s]}</Typography.Text>
              </span>
            ))}
          </Flex>
          <Space size={16} wrap style={{ fontSize: 12 }}>
            {live?.pause || rollout.pause ? (
              <PauseText pause={(live?.pause ?? rollout.pause) as Pause} />
            ) : null}
            {quota && (
              <Typography.Text type="secondary" data-testid="rollout-quota">
                {t("code.quota.line", { rest: quota.rest, limit: quota.limit })}
              </Typography.Text>
            )}
            <Typography.Text type="secondary">
              {t("code.rollouts.created", { time: fmtTime(rollout.created_at) })}
              {rollout.source ? ` · ${rollout.source}` : ""}
            </Typography.Text>
          </Space>
        </Flex>
        {!running && (
          <VersionSummaryCard
            testid="rollout-versions"
            summary={versions.data}
            error={versions.error}
            loading={versions.isFetching}
            names={names}
            target={rollout.user_version}
            onRefresh={() => void versions.refetch()}
          />
        )}
        {detail.error && <CodeErrorAlert error={detail.error} />}
        <Table<RolloutRow>
          data-testid="rollout-rows"
          rowKey="appid"
          size="small"
          loading={detail.isPending}
          columns={columns}
          dataSource={detail.data?.rows ?? []}
          pagination={(detail.data?.rows.length ?? 0) > 20 ? { pageSize: 20 } : false}
        />
      </Flex>
    </Card>
  );
}

interface Props {
  names: ReadonlyMap<string, string>;
  selected: number | null;
  onSelect: (id: number) => void;
  onNew: () => void;
}

export function RolloutsTab({ names, selected, onSelect, onNew }: Props) {
  const { t } = useTranslation();
  const list = useRollouts();
  if (list.isPending) return <Skeleton active paragraph={{ rows: 4 }} />;
  if (list.error) return <CodeErrorAlert error={list.error} />;
  const rollouts = list.data;
  if (rollouts.length === 0) {
    return (
      <Card>
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("code.rollouts.empty")}>
          <Button type="primary" onClick={onNew}>
            {t("code.rollouts.new")}
          </Button>
        </Empty>
      </Card>
    );
  }
  const current = rollouts.find((r) => r.id === selected) ?? rollouts[0];
  const columns: TableColumnsType<Rollout> = [
    {
      title: t("code.rollouts.colRollout"),
      key: "name",
      render: (_, r) => (
        <Flex vertical>
          <Typography.Text strong>
            {t("code.rollouts.name", { id: r.id, version: r.user_version })}
          </Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("code.rollouts.template", { id: r.template_id })} · {t(`code.target.${r.target}`)}
          </Typography.Text>
        </Flex>
      ),
    },
    {
      title: t("code.rollouts.colStatus"),
      dataIndex: "status",
      width: 110,
      render: (_, r) => (
        <Tag color={ROLLOUT_STATUS_COLOR[r.status]}>{t(`code.rolloutStatus.${r.status}`)}</Tag>
      ),
    },
    {
      title: t("code.rollouts.colProgress"),
      key: "progress",
      width: 140,
      render: (_, r) => `${r.counts.done}/${r.counts.total}`,
    },
    {
      title: t("code.rollouts.colCreated"),
      dataIndex: "created_at",
      width: 140,
      render: (v: number) => fmtTime(v),
    },
  ];
  return (
    <Flex vertical gap={16}>
      <Table<Rollout>
        data-testid="rollouts-table"
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={rollouts}
        pagination={rollouts.length > 5 ? { pageSize: 5 } : false}
        onRow={(r) => ({ onClick: () => onSelect(r.id), style: { cursor: "pointer" } })}
        rowClassName={(r) => (r.id === current?.id ? "ant-table-row-selected" : "")}
      />
      {current && <RolloutDetailCard key={current.id} rollout={current} names={names} />}
    </Flex>
  );
}
