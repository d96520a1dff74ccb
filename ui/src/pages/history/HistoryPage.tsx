import { DownloadOutlined } from "@ant-design/icons";
import { save } from "@tauri-apps/plugin-dialog";
import {
  App,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Drawer,
  Flex,
  Input,
  InputNumber,
  Select,
  Table,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import type { ColumnsType } from "antd/es/table";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { useAccountNames, useTemplateTitles } from "../../api/names";
import {
  type HistoryQuery,
  type HistoryRowView,
  type HistoryStatus,
  historyApi,
  useDeliveryReportsLive,
  useHistory,
  useHistoryDetail,
  useJobs,
} from "../../api/send";
import { useAccountOptions } from "../../api/templates";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { NamedId } from "../../layout/NamedId";
import { SandboxMark } from "../accounts/PlatformTag";
import { JobSummary } from "../jobs/JobNumbers";
import { formatTime } from "../jobs/JobsPage";
import {
  deliveryLabel,
  isEnglish,
  jobTitle,
  rowErrorText,
  rowHint,
  STATE_COLOR,
  stateLabel,
} from "../jobs/labels";
import { PageShell } from "../PageShell";
import { utcOffsetLabel } from "./zone";

const STATUSES: HistoryStatus[] = [
  "sent",
  "failed_permanent",
  "failed_retryable",
  "uncertain",
  "skipped",
  "pending",
  "cancelled",
  "delivered",
  "user_block",
  "system_failed",
  "delivery_pending",
  "delivery_unknown",
];

const DELIVERY_COLOR: Record<string, string> = {
  delivered: "green",
  user_block: "red",
  system_failed: "red",
  unknown: "default",
  pending: "processing",
};

function Detail({ id, onClose }: { id: number | null; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const { data, error } = useHistoryDetail(id);
  const pre = (s: string | null | undefined) => (
    <pre style={{ margin: 0, whiteSpace: "pre-wrap", wordBreak: "break-all", fontSize: 12 }}>
      {s ?? "—"}
    </pre>
  );
  return (
    <Drawer open={id !== null} onClose={onClose} title={t("send.history.detail")} size={560}>
      {error && <ErrorAlert error={error} />}
      {data && (
        <Descriptions column={1} size="small" bordered data-testid="history-detail">
          <Descriptions.Item label={t("send.history.jobTitle")}>
            #{data.row.job_id} {jobTitle(t, { title: data.job_title, purpose: data.job_purpose })}
          </Descriptions.Item>
          <Descriptions.Item label="openid">{data.row.openid}</Descriptions.Item>
          <Descriptions.Item label={t("send.history.colState")}>
            {stateLabel(t, data.row.state)}
          </Descriptions.Item>
          <Descriptions.Item label={t("send.history.colDelivery")}>
            {data.row.delivery ? deliveryLabel(t, data.row.delivery) : "—"}
            {data.row.delivered_at
              ? t("send.history.deliveredAtValue", { time: formatTime(data.row.delivered_at) })
              : ""}
          </Descriptions.Item>
          <Descriptions.Item label={t("send.history.attempts")}>
            {data.row.attempts}
          </Descriptions.Item>
          <Descriptions.Item label={t("messaging.history.jump")}>
            <span data-testid="history-jump">
              {data.row.jump?.miniprogram
                ? t("messaging.history.jumpMini", {
                    appid: data.row.jump.miniprogram.appid,
                    page: data.row.jump.miniprogram.pagepath,
                  })
                : data.row.jump?.url
                  ? t("messaging.history.jumpUrl", { url: data.row.jump.url })
                  : t("messaging.history.jumpNone")}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label="msgid">{data.row.msgid ?? "—"}</Descriptions.Item>
          <Descriptions.Item label="client_msg_id">{data.client_msg_id ?? "—"}</Descriptions.Item>
          {(data.row.errcode !== null || data.row.note !== null) && (
            <Descriptions.Item label={t("send.history.colError")}>
              {data.row.errcode ?? ""} {rowErrorText(t, data.row, english)}
              {data.row.explanation && (
                <Typography.Paragraph type="secondary" style={{ margin: "4px 0 0" }}>
                  {rowHint(t, data.row, english)}
                </Typography.Paragraph>
              )}
            </Descriptions.Item>
          )}
          <Descriptions.Item label={t("send.history.vars")}>{pre(data.vars)}</Descriptions.Item>
          {/* A row never attempted (waiting, cancelled, skipped) sent nothing: what is shown is
              the request it would send, and says so. */}
          <Descriptions.Item
            label={
              data.row.attempts > 0 ? t("send.history.request") : t("send.history.requestUnsent")
            }
          >
            <span data-testid="history-request" data-sent={data.row.attempts > 0 ? "1" : "0"}>
              {data.row.attempts === 0 && (
                <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
                  {t("send.history.requestUnsentNote")}
                </Typography.Paragraph>
              )}
              {pre(data.request_line)}
              {pre(data.request_body)}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t("send.history.response")}>
            {pre(data.response)}
          </Descriptions.Item>
        </Descriptions>
      )}
    </Drawer>
  );
}

export function HistoryPage() {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const { message } = App.useApp();
  const [params] = useSearchParams();
  const jobParam = params.get("job");
  const [query, setQuery] = useState<HistoryQuery>({
    appid: null,
    template_id: null,
    job_id: jobParam ? Number(jobParam) : null,
    status: null,
    from: null,
    to: null,
    openid: null,
  });
  const [openid, setOpenid] = useState("");
  const [detail, setDetail] = useState<number | null>(null);
  const accounts = useAccountOptions();
  useDeliveryReportsLive();
  const history = useHistory(query);
  // Filtered by one job: its numbers as 任务 shows them, from the same job list.
  const jobs = useJobs();
  const job = query.job_id === null ? undefined : jobs.data?.find((j) => j.id === query.job_id);
  const rows = history.data?.pages.flatMap((p) => p.rows) ?? [];
  const accountName = useAccountNames();
  const templateTitle = useTemplateTitles(rows.map((r) => r.appid));
  const set = (patch: Partial<HistoryQuery>) => setQuery({ ...query, ...patch });

  const onDates = (v: [Dayjs | null, Dayjs | null] | null) =>
    set({
      from: v?.[0] ? v[0].startOf("day").unix() : null,
      to: v?.[1] ? v[1].endOf("day").unix() + 1 : null,
    });
  const exportCsv = async () => {
    const path = await save({
      title: t("send.history.export"),
      defaultPath: t("send.history.exportName"),
      filters: [{ name: "CSV", extensions: ["csv"] }],
    });
    if (!path) return;
    try {
      const n = await historyApi.export(query, path);
      message.success(t("send.history.exported", { n, path }));
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const columns: ColumnsType<HistoryRowView> = [
    {
      // The window's zone, as the export names Beijing's, so a row can be found in both.
      title: t("send.history.colTime", { zone: utcOffsetLabel() }),
      key: "time",
      width: 150,
      render: (_, r) => formatTime(r.done_at ?? r.created_at),
    },
    {
      title: t("send.history.colAccount"),
      dataIndex: "appid",
      width: 160,
      ellipsis: true,
      render: (appid: string) => (
        <Flex gap={4} align="center" style={{ minWidth: 0 }}>
          <NamedId name={accountName(appid)} id={appid} testid="history-account" />
          <SandboxMark appid={appid} />
        </Flex>
      ),
    },
    {
      title: t("send.history.colTemplate"),
      key: "template",
      width: 140,
      render: (_, r) =>
        r.template_id ? (
          <NamedId
            name={templateTitle(r.appid, r.template_id)}
            id={r.template_id}
            testid="history-template"
          />
        ) : (
          "—"
        ),
    },
    { title: t("send.history.colOpenid"), dataIndex: "openid", ellipsis: true },
    {
      title: t("send.history.colState"),
      key: "state",
      width: 100,
      render: (_, r) => (
        <Tag color={STATE_COLOR[r.state] ?? "default"}>{stateLabel(t, r.state)}</Tag>
      ),
    },
    {
      title: t("send.history.colDelivery"),
      key: "delivery",
      width: 84,
      render: (_, r) =>
        r.delivery ? (
          <Tag color={DELIVERY_COLOR[r.delivery] ?? "default"}>{deliveryLabel(t, r.delivery)}</Tag>
        ) : (
          <Typography.Text type="secondary">{t("send.history.noDelivery")}</Typography.Text>
        ),
    },
    {
      title: t("send.history.colError"),
      key: "error",
      width: 120,
      ellipsis: true,
      render: (_, r) => {
        const text = rowErrorText(t, r, english);
        return r.errcode !== null && r.errcode !== 0 ? (
          <Tooltip title={rowHint(t, r, english)}>
            <Typography.Text type="danger">
              {r.errcode} {text}
            </Typography.Text>
          </Tooltip>
        ) : text ? (
          <Tooltip title={text}>
            <Typography.Text type="secondary">{text}</Typography.Text>
          </Tooltip>
        ) : null;
      },
    },
    { title: t("send.history.colMsgid"), dataIndex: "msgid", width: 100, ellipsis: true },
  ];

  return (
    <PageShell page="history">
      <Card size="small">
        <Flex gap={8} wrap align="center">
          <Select
            allowClear
            style={{ width: 220 }}
            placeholder={t("send.history.account")}
            value={query.appid ?? undefined}
            onChange={(v) => set({ appid: v ?? null })}
            options={(accounts.data ?? []).map((a) => ({
              value: a.appid,
              label: a.nickname || a.appid,
            }))}
          />
          <Input
            allowClear
            style={{ width: 180 }}
            placeholder={t("send.history.template")}
            onBlur={(e) => set({ template_id: e.target.value.trim() || null })}
          />
          <InputNumber
            style={{ width: 110 }}
            placeholder={t("send.history.job")}
            value={query.job_id ?? undefined}
            onChange={(v) => set({ job_id: typeof v === "number" ? v : null })}
          />
          <Select
            allowClear
            style={{ width: 150 }}
            placeholder={t("send.history.status")}
            value={query.status ?? undefined}
            onChange={(v) => set({ status: v ?? null })}
            options={STATUSES.map((s) => ({ value: s, label: t(`send.history.st.${s}`) }))}
          />
          <DatePicker.RangePicker onChange={onDates} />
          <Input.Search
            allowClear
            style={{ width: 260 }}
            placeholder={t("send.history.openid")}
            value={openid}
            onChange={(e) => setOpenid(e.target.value)}
            onSearch={(v) => set({ openid: v.trim() || null })}
          />
          <Button
            icon={<DownloadOutlined />}
            style={{ marginLeft: "auto" }}
            onClick={() => void exportCsv()}
          >
            {t("send.history.export")}
          </Button>
        </Flex>
      </Card>
      {history.error && <ErrorAlert error={history.error} />}
      {job && (
        <Card size="small">
          <JobSummary job={job} />
        </Card>
      )}
      <Card size="small">
        <Table<HistoryRowView>
          data-testid="history-table"
          rowKey="id"
          size="small"
          loading={history.isPending}
          columns={columns}
          dataSource={rows}
          pagination={false}
          tableLayout="fixed"
          onRow={(r) => ({ onClick: () => setDetail(r.id), style: { cursor: "pointer" } })}
          locale={{ emptyText: t("send.history.empty") }}
        />
        <Flex justify="center" gap={12} align="center" style={{ marginTop: 12 }}>
          <Typography.Text type="secondary">
            {t("send.history.loaded", { n: rows.length })}
          </Typography.Text>
          {history.hasNextPage ? (
            <Button
              loading={history.isFetchingNextPage}
              onClick={() => void history.fetchNextPage()}
            >
              {t("send.history.loadMore")}
            </Button>
          ) : (
            rows.length > 0 && (
              <Typography.Text type="secondary">{t("send.history.end")}</Typography.Text>
            )
          )}
        </Flex>
      </Card>
      <Detail id={detail} onClose={() => setDetail(null)} />
    </PageShell>
  );
}
