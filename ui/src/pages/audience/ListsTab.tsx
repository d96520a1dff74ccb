import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import {
  App as AntApp,
  Button,
  Card,
  Drawer,
  Flex,
  Popconfirm,
  Table,
  Tag,
  Typography,
} from "antd";
import type { TFunction } from "i18next";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type ListInfo,
  type ListOrigin,
  useDeleteList,
  useListMembers,
  useLists,
  useTags,
} from "../../api/audience";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { CreateListModal } from "./CreateListModal";
import { SampleTable } from "./ImportPreview";

export function originText(t: TFunction, o: ListOrigin, tagName: (id: number) => string) {
  switch (o.kind) {
    case "followers":
      return o.filter.tag_id == null
        ? t("audience.lists.origin.all")
        : t("audience.lists.origin.tag", { tag: tagName(o.filter.tag_id) });
    case "pasted":
      return t("audience.lists.origin.pasted");
    case "file":
      return t("audience.lists.origin.file", { name: o.file_name });
    case "unionid_bridge":
      return t("audience.lists.origin.bridge", { name: o.file_name });
  }
}

/** Saved lists of the account, a button to make one, and a drawer with a list's members. */
export function ListsTab({ appid }: { appid: string }) {
  const { t, i18n } = useTranslation();
  const { message } = AntApp.useApp();
  const lists = useLists(appid);
  const tags = useTags(appid);
  const del = useDeleteList(appid);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ListInfo | null>(null);
  const tagName = useMemo(() => {
    const m = new Map((tags.data ?? []).map((tg) => [tg.tag_id, tg.name]));
    return (id: number) => m.get(id) ?? String(id);
  }, [tags.data]);

  return (
    <Flex vertical gap={12}>
      <Flex>
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => setCreating(true)}
          data-testid="list-create"
        >
          {t("audience.lists.create")}
        </Button>
      </Flex>
      {(lists.error || del.error) && <ErrorAlert error={lists.error ?? del.error} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<ListInfo>
          data-testid="lists-table"
          rowKey="id"
          size="middle"
          loading={lists.isPending}
          dataSource={lists.data ?? []}
          pagination={false}
          tableLayout="fixed"
          locale={{ emptyText: t("audience.lists.empty") }}
          columns={[
            {
              title: t("audience.lists.col.name"),
              dataIndex: "name",
              ellipsis: true,
              render: (name: string, l) => (
                <Typography.Link onClick={() => setShown(l)}>{name}</Typography.Link>
              ),
            },
            {
              title: t("audience.lists.col.origin"),
              dataIndex: "source",
              width: 200,
              ellipsis: true,
              render: (o: ListOrigin) => originText(t, o, tagName),
            },
            {
              title: t("audience.lists.col.members"),
              dataIndex: "member_count",
              width: 100,
              align: "right",
              render: (n: number) => n.toLocaleString(),
            },
            {
              title: t("audience.lists.col.variables"),
              dataIndex: "variables",
              width: 200,
              render: (vs: string[]) =>
                vs.length ? (
                  <Flex wrap gap={4}>
                    {vs.map((v) => (
                      <Tag key={v} style={{ marginInlineEnd: 0 }}>
                        {v}
                      </Tag>
                    ))}
                  </Flex>
                ) : (
                  <Typography.Text type="secondary">{t("audience.lists.none")}</Typography.Text>
                ),
            },
            {
              title: t("audience.lists.col.created"),
              dataIndex: "created_at",
              width: 170,
              render: (s: number) =>
                new Date(s * 1000).toLocaleString(i18n.language, { hour12: false }),
            },
            {
              title: t("audience.lists.col.actions"),
              key: "actions",
              width: 120,
              render: (_: unknown, l) => (
                <Flex gap={4}>
                  <Button size="small" type="link" onClick={() => setShown(l)}>
                    {t("audience.lists.view")}
                  </Button>
                  <Popconfirm
                    title={t("audience.lists.deleteConfirm", { name: l.name })}
                    okButtonProps={{ danger: true }}
                    onConfirm={() =>
                      del.mutateAsync(l.id).then(() => message.success(t("audience.lists.deleted")))
                    }
                  >
                    <Button size="small" type="link" danger icon={<DeleteOutlined />} />
                  </Popconfirm>
                </Flex>
              ),
            },
          ]}
        />
      </Card>
      <CreateListModal appid={appid} open={creating} onClose={() => setCreating(false)} />
      <Drawer
        open={!!shown}
        size={720}
        onClose={() => setShown(null)}
        title={shown ? t("audience.lists.detailTitle", { name: shown.name }) : ""}
        destroyOnHidden
      >
        {shown && <Members list={shown} />}
      </Drawer>
    </Flex>
  );
}

function Members({ list }: { list: ListInfo }) {
  const { t } = useTranslation();
  const members = useListMembers(list.id);
  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Flex vertical gap={12} data-testid="list-members">
      <Typography.Text type="secondary">
        {t("audience.lists.members", { count: list.member_count })}
      </Typography.Text>
      {members.error && <ErrorAlert error={members.error} />}
      <SampleTable
        variables={list.variables}
        rows={rows.map((m) => ({
          openid: m.openid,
          values: list.variables.map((v) => m.vars[v] ?? ""),
        }))}
      />
      {members.hasNextPage && (
        <Button loading={members.isFetchingNextPage} onClick={() => void members.fetchNextPage()}>
          {t("audience.lists.loadMore")}
        </Button>
      )}
    </Flex>
  );
}
