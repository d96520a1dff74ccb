import { CloudSyncOutlined, SearchOutlined, StopOutlined } from "@ant-design/icons";
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Empty,
  Flex,
  Input,
  Progress,
  Select,
  Statistic,
  Table,
  type TableColumnsType,
  Tag,
  Typography,
} from "antd";
import type { Dayjs } from "dayjs";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type FollowerQuery,
  type FollowerRow,
  type SyncRun,
  type TagInfo,
  useFollowerCount,
  useFollowerPages,
  useFollowerSync,
  useFollowerSyncState,
  useFollowerTotals,
  useTags,
} from "../../api/audience";
import { ErrorAlert } from "../../layout/ErrorAlert";

/** Pixels from the bottom at which the next keyset page is fetched. */
const PREFETCH_PX = 600;

function time(sec: number | null | undefined, lang: string) {
  return sec ? new Date(sec * 1000).toLocaleString(lang, { hour12: false }) : "—";
}

export function FollowersTab({ appid }: { appid: string }) {
  const { t, i18n } = useTranslation();
  const totals = useFollowerTotals(appid);
  const checkpoint = useFollowerSyncState(appid);
  const tags = useTags(appid);
  const { run, start, cancel } = useFollowerSync(appid);
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState<FollowerQuery>({
    search: null,
    tag_id: null,
    subscribed: null,
    subscribed_from: null,
    subscribed_until: null,
  });
  const count = useFollowerCount(appid, query);
  const pages = useFollowerPages(appid, query);
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const tagNames = useMemo(
    () => new Map((tags.data ?? []).map((tg: TagInfo) => [tg.tag_id, tg.name])),
    [tags.data],
  );
  const interrupted =
    checkpoint.data && checkpoint.data.phase !== "done" && run.state !== "running";
  const lang = i18n.language;

  const columns: TableColumnsType<FollowerRow> = [
    {
      title: t("audience.followers.col.openid"),
      dataIndex: "openid",
      width: 260,
      render: (v: string) => (
        <Typography.Text copyable code style={{ fontSize: 12 }}>
          {v}
        </Typography.Text>
      ),
    },
    {
      title: t("audience.followers.col.unionid"),
      dataIndex: "unionid",
      width: 220,
      ellipsis: true,
      render: (v: string | null, r) =>
        v ? (
          <Typography.Text style={{ fontSize: 12 }}>{v}</Typography.Text>
        ) : (
          <Typography.Text type="secondary">
            {r.has_details ? "—" : t("audience.followers.noDetails")}
          </Typography.Text>
        ),
    },
    {
      title: t("audience.followers.col.subscribe"),
      dataIndex: "subscribe",
      width: 90,
      render: (v: boolean) =>
        v ? (
          <Tag color="success">{t("audience.followers.subscribed")}</Tag>
        ) : (
          <Tag>{t("audience.followers.unsubscribed")}</Tag>
        ),
    },
    {
      title: t("audience.followers.col.subscribeTime"),
      dataIndex: "subscribe_time",
      width: 170,
      render: (v: number | null) => time(v, lang),
    },
    { title: t("audience.followers.col.remark"), dataIndex: "remark", width: 140, ellipsis: true },
    {
      title: t("audience.followers.col.tags"),
      dataIndex: "tagid_list",
      width: 150,
      ellipsis: true,
      render: (ids: number[]) => ids.map((id) => tagNames.get(id) ?? String(id)).join("、"),
    },
  ];

  const onScroll = (e: React.UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    if (
      el.scrollHeight - el.scrollTop - el.clientHeight < PREFETCH_PX &&
      pages.hasNextPage &&
      !pages.isFetchingNextPage
    ) {
      void pages.fetchNextPage();
    }
  };

  const noneYet = totals.data?.total === 0 && run.state !== "running";
  return (
    <Flex vertical gap={12}>
      <Flex gap={8} align="center" wrap>
        {run.state === "running" ? (
          <Button
            danger
            icon={<StopOutlined />}
            onClick={() => void cancel()}
            data-testid="followers-cancel"
          >
            {t("audience.followers.cancel")}
          </Button>
        ) : (
          <Button
            type="primary"
            icon={<CloudSyncOutlined />}
            onClick={() => void start()}
            data-testid="followers-sync"
          >
            {interrupted ? t("audience.followers.resume") : t("audience.followers.sync")}
          </Button>
        )}
        <Typography.Text type="secondary">
          {checkpoint.data?.finished_at
            ? t("audience.followers.lastSync", { time: time(checkpoint.data.finished_at, lang) })
            : checkpoint.data
              ? null
              : t("audience.followers.neverSynced")}
        </Typography.Text>
      </Flex>
      {interrupted && checkpoint.data && (
        <Alert
          type="warning"
          showIcon
          data-testid="followers-interrupted"
          title={t("audience.followers.interrupted", {
            listed: checkpoint.data.listed,
            total: checkpoint.data.total,
          })}
        />
      )}
      <SyncStatus run={run} />
      {totals.data && !noneYet && (
        <Card size="small">
          <Flex gap={48} wrap>
            <Statistic
              title={t("audience.followers.subscribed")}
              value={totals.data.subscribed}
              data-testid="followers-subscribed"
            />
            <Statistic
              title={t("audience.followers.unsubscribed")}
              value={totals.data.unsubscribed}
            />
            <Statistic
              title={t("audience.followers.withUnionid")}
              value={totals.data.with_unionid}
            />
            <Statistic
              title={t("audience.followers.total")}
              value={totals.data.total}
              data-testid="followers-total"
            />
          </Flex>
        </Card>
      )}
      {noneYet ? (
        <Card>
          <Empty
            image={Empty.PRESENTED_IMAGE_SIMPLE}
            description={
              <Flex vertical gap={4} align="center">
                <Typography.Text strong>{t("audience.followers.emptyTitle")}</Typography.Text>
                <Typography.Text type="secondary" style={{ maxWidth: 520 }}>
                  {t("audience.followers.emptyDesc")}
                </Typography.Text>
              </Flex>
            }
          />
        </Card>
      ) : (
        <>
          <Flex gap={8} wrap align="center">
            <Input
              allowClear
              prefix={<SearchOutlined />}
              placeholder={t("audience.followers.search")}
              style={{ width: 300 }}
              value={search}
              onChange={(e) => {
                setSearch(e.target.value);
                if (!e.target.value) setQuery((q) => ({ ...q, search: null }));
              }}
              onPressEnter={() => setQuery((q) => ({ ...q, search: search.trim() || null }))}
              data-testid="followers-search"
            />
            <Select
              allowClear
              style={{ width: 180 }}
              placeholder={t("audience.followers.tag")}
              value={query.tag_id ?? undefined}
              onChange={(v?: number) => setQuery((q) => ({ ...q, tag_id: v ?? null }))}
              options={(tags.data ?? []).map((tg) => ({ value: tg.tag_id, label: tg.name }))}
            />
            <Select
              style={{ width: 120 }}
              value={query.subscribed === null ? "all" : query.subscribed ? "yes" : "no"}
              onChange={(v) =>
                setQuery((q) => ({ ...q, subscribed: v === "all" ? null : v === "yes" }))
              }
              options={[
                { value: "all", label: t("audience.followers.statusAll") },
                { value: "yes", label: t("audience.followers.subscribed") },
                { value: "no", label: t("audience.followers.unsubscribed") },
              ]}
            />
            <DatePicker.RangePicker
              placeholder={[t("audience.followers.subscribeRange"), ""]}
              onChange={(range) =>
                setQuery((q) => ({
                  ...q,
                  subscribed_from: startOf(range?.[0]),
                  subscribed_until: endOf(range?.[1]),
                }))
              }
            />
            <Typography.Text
              type="secondary"
              style={{ marginLeft: "auto" }}
              data-testid="followers-shown"
            >
              {count.data !== undefined ? t("audience.followers.shown", { count: count.data }) : ""}
            </Typography.Text>
          </Flex>
          {(pages.error || count.error) && <ErrorAlert error={pages.error ?? count.error} />}
          <Card styles={{ body: { padding: 0 } }}>
            <Table<FollowerRow>
              virtual
              data-testid="followers-table"
              rowKey="openid"
              size="small"
              columns={columns}
              dataSource={rows}
              loading={pages.isPending}
              pagination={false}
              scroll={{ x: 1000, y: 460 }}
              onScroll={onScroll}
              locale={{ emptyText: t("audience.followers.noMatch") }}
            />
          </Card>
        </>
      )}
    </Flex>
  );
}

function startOf(d: Dayjs | null | undefined) {
  return d ? d.startOf("day").unix() : null;
}

function endOf(d: Dayjs | null | undefined) {
  return d ? d.endOf("day").unix() + 1 : null;
}

/** The progress bar of a running sync, and the result or error of the last one. */
export function SyncStatus({ run }: { run: SyncRun }) {
  const { t } = useTranslation();
  if (run.state === "running") {
    const p = run.progress;
    const percent = p && p.total > 0 ? Math.min(100, Math.floor((p.fetched / p.total) * 100)) : 0;
    return (
      <Card size="small" data-testid="followers-progress">
        <Flex vertical gap={4}>
          <Typography.Text>
            {p ? t(`audience.followers.stage.${p.phase}`) : t("audience.followers.preparing")}
            {p && p.total > 1
              ? `  ${p.fetched.toLocaleString()} / ${p.total.toLocaleString()}`
              : ""}
            {/* A first sync asks for details while it lists: say so, or the details bar
                would seem to start half-way. */}
            {p?.phase === "listing" && (p.early_details ?? 0) > 0 ? (
              <Typography.Text type="secondary" data-testid="followers-early-details">
                {` · ${t("audience.followers.earlyDetails", { n: (p.early_details ?? 0).toLocaleString() })}`}
              </Typography.Text>
            ) : null}
          </Typography.Text>
          <Progress percent={percent} status="active" />
        </Flex>
      </Card>
    );
  }
  if (run.state === "done") {
    const r = run.result;
    return r.outcome === "completed" ? (
      <Alert
        type="success"
        showIcon
        closable
        data-testid="followers-sync-done"
        title={t("audience.followers.done", { ...r })}
      />
    ) : (
      <Alert type="warning" showIcon closable title={t("audience.followers.cancelled")} />
    );
  }
  if (run.state === "failed") return <ErrorAlert error={run.error} />;
  return null;
}
