import { Card, Table } from "antd";
import { useTranslation } from "react-i18next";
import { type TagInfo, useTags } from "../../api/audience";
import { ErrorAlert } from "../../layout/ErrorAlert";

/** The account's tags with WeChat's count and the synced followers' count. */
export function TagsTab({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const tags = useTags(appid);
  if (tags.error) return <ErrorAlert error={tags.error} />;
  return (
    <Card styles={{ body: { padding: 0 } }}>
      <Table<TagInfo>
        data-testid="tags-table"
        rowKey="tag_id"
        size="middle"
        loading={tags.isPending}
        dataSource={tags.data ?? []}
        pagination={false}
        locale={{ emptyText: t("audience.tags.empty") }}
        columns={[
          { title: t("audience.tags.col.id"), dataIndex: "tag_id", width: 100 },
          { title: t("audience.tags.col.name"), dataIndex: "name", ellipsis: true },
          {
            title: t("audience.tags.col.count"),
            dataIndex: "count",
            width: 160,
            align: "right",
            render: (n: number) => n.toLocaleString(),
          },
          {
            title: t("audience.tags.col.local"),
            dataIndex: "local_count",
            width: 160,
            align: "right",
            render: (n: number) => n.toLocaleString(),
          },
        ]}
      />
    </Card>
  );
}
