import { ReloadOutlined } from "@ant-design/icons";
import { Button, Card, Empty, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import {
  type InteractionRow,
  remainingParts,
  useInteractionsLive,
  useOpenInteractions,
} from "../../api/interactions";
import { formatTime } from "../jobs/JobsPage";

/**
 * 48 小时内互动的用户: the users whose customer-service window is open, newest first, with
 * checkboxes that fill the recipients. Live: the feed's events for the account refetch it.
 */
export function InteractionsTable({
  appid,
  selected,
  onSelect,
}: {
  appid: string;
  /** openids chosen as recipients (some may be typed and not in the table). */
  selected: string[];
  /** The openids ticked in the table now, and every openid the table shows. */
  onSelect: (ticked: string[], shown: Set<string>) => void;
}) {
  const { t } = useTranslation();
  useInteractionsLive(appid);
  const q = useOpenInteractions(appid);
  const rows = q.data?.pages.flatMap((p) => p.rows) ?? [];
  const total = q.data?.pages[0]?.total ?? 0;

  const columns: ColumnsType<InteractionRow> = [
    {
      title: t("interactions.user"),
      key: "user",
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          {r.remark && <Typography.Text strong>{r.remark}</Typography.Text>}
          <Typography.Text code copyable={{ text: r.openid }} data-testid="interaction-openid">
            {r.openid}
          </Typography.Text>
        </Space>
      ),
    },
    // The preview is at most 40 characters (the core cuts it), so it needs no ellipsis.
    {
      title: t("interactions.lastAction"),
      key: "action",
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <Space size={4}>
            <Tag color={r.kind === "text" ? "green" : "blue"}>
              {t(`interactions.action.${r.kind}`)}
            </Tag>
            <Typography.Text type="secondary">{formatTime(r.last_at)}</Typography.Text>
          </Space>
          {r.preview && <Typography.Text>“{r.preview}”</Typography.Text>}
        </Space>
      ),
    },
    {
      title: t("interactions.remaining"),
      key: "remaining",
      width: 140,
      render: (_, r) => {
        const { unit, count } = remainingParts(r.remaining_secs);
        const urgent = r.remaining_secs < 3 * 3600;
        return (
          <Typography.Text type={urgent ? "warning" : undefined}>
            {unit === "hours"
              ? t("interactions.hoursLeft", { count })
              : t("interactions.minutesLeft", { count })}
          </Typography.Text>
        );
      },
    },
  ];

  const inTable = new Set(rows.map((r) => r.openid));
  return (
    <Card
      size="small"
      data-testid="interactions-card"
      title={t("interactions.title")}
      style={{ marginBottom: 16 }}
      extra={
        <Space>
          {total > 0 && (
            <Typography.Text type="secondary">
              {t("interactions.count", { count: total })}
            </Typography.Text>
          )}
          <Button
            size="small"
            icon={<ReloadOutlined />}
            loading={q.isFetching}
            onClick={() => void q.refetch()}
            data-testid="interactions-refresh"
          >
            {t("interactions.refresh")}
          </Button>
        </Space>
      }
    >
      <Table<InteractionRow>
        size="small"
        rowKey="openid"
        columns={columns}
        dataSource={rows}
        loading={q.isLoading}
        pagination={false}
        scroll={{ y: 280 }}
        rowSelection={{
          selectedRowKeys: selected.filter((o) => inTable.has(o)),
          onChange: (keys) => onSelect(keys.map(String), inTable),
        }}
        onRow={(r) => ({
          // A click anywhere on the row toggles it, as the checkbox does.
          onClick: (e) => {
            const target = e.target as HTMLElement;
            if (target.closest(".ant-table-selection-column, .ant-typography-copy")) return;
            const ticked = selected.filter((o) => inTable.has(o));
            onSelect(
              ticked.includes(r.openid)
                ? ticked.filter((o) => o !== r.openid)
                : [...ticked, r.openid],
              inTable,
            );
          },
          style: { cursor: "pointer" },
        })}
        locale={{
          emptyText: q.isError ? (
            <Typography.Text type="danger">{String(q.error)}</Typography.Text>
          ) : (
            <Empty
              image={Empty.PRESENTED_IMAGE_SIMPLE}
              data-testid="interactions-empty"
              description={
                <Space direction="vertical" size={4} style={{ maxWidth: 560 }}>
                  <Typography.Text strong>{t("interactions.emptyTitle")}</Typography.Text>
                  <Typography.Text type="secondary">{t("interactions.emptyHow")}</Typography.Text>
                  <Typography.Text type="secondary">{t("interactions.emptyFeed")}</Typography.Text>
                </Space>
              }
            />
          ),
        }}
      />
      {q.hasNextPage && (
        <Button
          type="link"
          onClick={() => void q.fetchNextPage()}
          loading={q.isFetchingNextPage}
          style={{ marginTop: 8 }}
        >
          {t("interactions.loadMore")}
        </Button>
      )}
    </Card>
  );
}
