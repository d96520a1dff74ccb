// 模板库 and 草稿箱: the platform's templates (what commits and rollouts use) and the drafts
// uploaded from WeChat DevTools, one click from the library.
import { DeleteOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import {
  App,
  Button,
  Card,
  Empty,
  Flex,
  Popconfirm,
  Select,
  Skeleton,
  Table,
  type TableColumnsType,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type CodeTemplate,
  type Draft,
  useAddTemplate,
  useDeleteTemplate,
  useLibrary,
} from "../../api/code";
import { CodeErrorAlert, fmtTime, useErrorDialog } from "./labels";

function AddDraft({ draft }: { draft: Draft }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const add = useAddTemplate();
  const fail = useErrorDialog();
  const [type, setType] = useState(0);
  return (
    <Flex gap={4}>
      <Select
        size="small"
        value={type}
        onChange={setType}
        style={{ width: 104 }}
        options={[
          { value: 0, label: t("code.library.type0") },
          { value: 1, label: t("code.library.type1") },
        ]}
      />
      <Button
        size="small"
        type="primary"
        icon={<PlusOutlined />}
        loading={add.isPending}
        data-testid={`add-draft-${draft.draft_id}`}
        onClick={() =>
          add.mutate(
            { draftId: draft.draft_id, templateType: type },
            {
              onSuccess: () => message.success(t("code.library.added", { id: draft.draft_id })),
              onError: fail,
            },
          )
        }
      >
        {t("code.library.add")}
      </Button>
    </Flex>
  );
}

export function LibraryTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const library = useLibrary();
  const del = useDeleteTemplate();
  const fail = useErrorDialog();

  const templateColumns: TableColumnsType<CodeTemplate> = [
    { title: t("code.library.colId"), dataIndex: "template_id", width: 120 },
    {
      title: t("code.library.colVersion"),
      dataIndex: "user_version",
      width: 110,
      render: (v: string) => <Typography.Text strong>{v}</Typography.Text>,
    },
    { title: t("code.library.colDesc"), dataIndex: "user_desc", ellipsis: true },
    {
      title: t("code.library.colType"),
      dataIndex: "template_type",
      width: 100,
      render: (ty: number) =>
        ty === 1 ? (
          <Tag color="gold">{t("code.library.type1")}</Tag>
        ) : (
          <Tag>{t("code.library.type0")}</Tag>
        ),
    },
    {
      title: t("code.library.colSource"),
      key: "source",
      width: 190,
      ellipsis: true,
      render: (_, tpl) =>
        tpl.source_miniprogram ? (
          <Tooltip title={tpl.source_miniprogram_appid}>{tpl.source_miniprogram}</Tooltip>
        ) : (
          (tpl.source_miniprogram_appid ?? "—")
        ),
    },
    {
      title: t("code.library.colCreated"),
      dataIndex: "create_time",
      width: 140,
      render: (v: number) => fmtTime(v),
    },
    {
      title: "",
      key: "actions",
      width: 64,
      render: (_, tpl) => (
        <Popconfirm
          title={t("code.library.deleteTitle", { id: tpl.template_id })}
          description={t("code.library.deleteConfirm")}
          okText={t("code.library.delete")}
          cancelText={t("code.cancel")}
          okButtonProps={{ danger: true }}
          onConfirm={() =>
            del
              .mutateAsync(tpl.template_id)
              .then(() => message.success(t("code.library.deleted")))
              .catch(fail)
          }
        >
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("code.library.delete")}
          />
        </Popconfirm>
      ),
    },
  ];

  const draftColumns: TableColumnsType<Draft> = [
    { title: t("code.library.colDraftId"), dataIndex: "draft_id", width: 120 },
    {
      title: t("code.library.colVersion"),
      dataIndex: "user_version",
      width: 110,
      render: (v: string) => <Typography.Text strong>{v}</Typography.Text>,
    },
    { title: t("code.library.colDesc"), dataIndex: "user_desc", ellipsis: true },
    {
      title: t("code.library.colCreated"),
      dataIndex: "create_time",
      width: 140,
      render: (v: number) => fmtTime(v),
    },
    {
      title: "",
      key: "add",
      width: 250,
      render: (_, d) => <AddDraft draft={d} />,
    },
  ];

  if (library.isPending) return <Skeleton active paragraph={{ rows: 6 }} />;
  if (library.error) return <CodeErrorAlert error={library.error} />;
  const { templates, drafts } = library.data;
  // Newest first: the version people look for is the latest.
  const byTime = <T extends { create_time: number }>(a: T, b: T) => b.create_time - a.create_time;
  return (
    <Flex vertical gap={16}>
      <Card
        size="small"
        title={t("code.library.templates")}
        extra={
          <Button
            size="small"
            icon={<ReloadOutlined />}
            loading={library.isFetching}
            onClick={() => void library.refetch()}
          >
            {t("code.refresh")}
          </Button>
        }
      >
        <Table<CodeTemplate>
          data-testid="library-templates"
          rowKey="template_id"
          size="small"
          columns={templateColumns}
          dataSource={[...templates].sort(byTime)}
          pagination={templates.length > 10 ? { pageSize: 10 } : false}
          locale={{
            emptyText: (
              <Empty
                image={Empty.PRESENTED_IMAGE_SIMPLE}
                description={t("code.library.noTemplates")}
              />
            ),
          }}
        />
      </Card>
      <Card size="small" title={t("code.library.drafts")}>
        <Typography.Paragraph type="secondary" style={{ marginTop: 0 }}>
          {t("code.library.draftsHelp")}
        </Typography.Paragraph>
        <Table<Draft>
          data-testid="library-drafts"
          rowKey="draft_id"
          size="small"
          columns={draftColumns}
          dataSource={[...drafts].sort(byTime)}
          pagination={drafts.length > 10 ? { pageSize: 10 } : false}
          locale={{
            emptyText: (
              <Empty
                image={Empty.PRESENTED_IMAGE_SIMPLE}
                description={t("code.library.noDrafts")}
              />
            ),
          }}
        />
      </Card>
    </Flex>
  );
}
