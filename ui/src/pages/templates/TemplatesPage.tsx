import { CloudSyncOutlined, DeleteOutlined, PlusOutlined, ShopOutlined } from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Empty,
  Flex,
  Popconfirm,
  Progress,
  Table,
  type TableColumnsType,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type AccountOption,
  type TemplateInfo,
  useDeleteTemplate,
  useSetTemplateNotes,
  useSyncTemplates,
  useTemplates,
} from "../../api/templates";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { SubscribeTemplates } from "../messaging/SubscribeTemplates";
import { PageShell } from "../PageShell";
import { AccountScope } from "./AccountPicker";
import { AddTemplateModal } from "./AddTemplateModal";
import { IndustryModal } from "./IndustryModal";
import { keywordRule, templateErrorTitle } from "./keywordRules";
import { TemplateDrawer } from "./TemplateDrawer";

const LIMIT = 25;

/** One line, cut with an ellipsis: template ids are 43 characters. */
const idStyle: React.CSSProperties = {
  fontSize: 12,
  whiteSpace: "nowrap",
  overflow: "hidden",
  textOverflow: "ellipsis",
  display: "inline-block",
  maxWidth: 118,
  verticalAlign: "middle",
};

export function TemplatesPage() {
  return (
    <PageShell page="templates">
      <AccountScope page="templates">
        {(account) => <AccountTemplates key={account.appid} account={account} />}
      </AccountScope>
    </PageShell>
  );
}

function AccountTemplates({ account }: { account: AccountOption }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const appid = account.appid;
  const list = useTemplates(appid);
  const sync = useSyncTemplates(appid);
  const del = useDeleteTemplate(appid);
  const notes = useSetTemplateNotes(appid);
  const [detail, setDetail] = useState<TemplateInfo | null>(null);
  const [adding, setAdding] = useState(false);
  const [industry, setIndustry] = useState(false);
  const templates = list.data ?? [];
  const full = templates.length >= LIMIT;

  const runSync = () =>
    sync.mutate(undefined, {
      onSuccess: (r) => void message.success(t("templates.syncDone", { ...r })),
    });

  const saveNotes = (tpl: TemplateInfo, alias: string, note: string) =>
    notes.mutate(
      { templateId: tpl.template_id, alias: alias.trim(), note: note.trim() },
      { onSuccess: () => void message.success(t("templates.saved")) },
    );

  const columns: TableColumnsType<TemplateInfo> = [
    {
      title: t("templates.col.title"),
      dataIndex: "title",
      width: 150,
      ellipsis: true,
      render: (title: string, tpl) => (
        <Typography.Link onClick={() => setDetail(tpl)} data-testid="template-title">
          {title}
        </Typography.Link>
      ),
    },
    {
      title: t("templates.col.templateId"),
      dataIndex: "template_id",
      width: 160,
      render: (id: string) => (
        <Flex align="center" gap={4} style={{ minWidth: 0 }}>
          <Typography.Text code title={id} style={idStyle}>
            {id}
          </Typography.Text>
          <Typography.Text copyable={{ text: id, tooltips: [t("templates.copy"), "✓"] }} />
        </Flex>
      ),
    },
    {
      title: t("templates.col.type"),
      dataIndex: "legacy",
      width: 108,
      render: (legacy: boolean) =>
        legacy ? (
          <Tag>{t("templates.legacy")}</Tag>
        ) : (
          <Tag color="processing">{t("templates.category")}</Tag>
        ),
    },
    {
      title: t("templates.col.fields"),
      dataIndex: "fields",
      render: (_: unknown, tpl) => (
        <Flex wrap gap={4}>
          {tpl.fields.map((f) => {
            const r = keywordRule(t, f.kind);
            return (
              <Tooltip key={f.key} title={`${f.key}：${r.rule}`}>
                <Tag color={r.color} style={{ marginInlineEnd: 0, opacity: f.shown ? 1 : 0.55 }}>
                  {f.label || f.key} · {r.kind}
                </Tag>
              </Tooltip>
            );
          })}
        </Flex>
      ),
    },
    {
      title: t("templates.col.alias"),
      dataIndex: "alias",
      width: 110,
      render: (alias: string, tpl) => (
        <Typography.Text
          type={alias ? undefined : "secondary"}
          editable={{
            text: alias,
            onChange: (v) => v !== alias && saveNotes(tpl, v, tpl.note),
          }}
          ellipsis={!!alias}
        >
          {alias || t("templates.aliasPlaceholder")}
        </Typography.Text>
      ),
    },
    {
      title: t("templates.col.note"),
      dataIndex: "note",
      width: 120,
      render: (note: string, tpl) => (
        <Typography.Text
          type={note ? undefined : "secondary"}
          editable={{ text: note, onChange: (v) => v !== note && saveNotes(tpl, tpl.alias, v) }}
          ellipsis={!!note}
        >
          {note || t("templates.notePlaceholder")}
        </Typography.Text>
      ),
    },
    {
      title: t("templates.col.actions"),
      key: "actions",
      width: 96,
      render: (_: unknown, tpl) => (
        <Flex gap={4}>
          <Button size="small" type="link" onClick={() => setDetail(tpl)}>
            {t("templates.detail")}
          </Button>
          <Popconfirm
            title={t("templates.deleteConfirm", { title: tpl.title })}
            description={t("templates.deleteDesc")}
            okButtonProps={{ danger: true }}
            onConfirm={() =>
              del.mutateAsync(tpl.template_id).then(() => message.success(t("templates.deleted")))
            }
          >
            <Button size="small" type="link" danger icon={<DeleteOutlined />} />
          </Popconfirm>
        </Flex>
      ),
    },
  ];

  const error = sync.error ?? del.error ?? notes.error ?? list.error;
  return (
    <Flex vertical gap={12}>
      <Flex gap={8} align="center" wrap>
        <Button
          type="primary"
          icon={<CloudSyncOutlined />}
          loading={sync.isPending}
          onClick={runSync}
          data-testid="templates-sync"
        >
          {t("templates.sync")}
        </Button>
        <Tooltip title={full ? t("templates.limitReached", { limit: LIMIT }) : undefined}>
          <Button icon={<PlusOutlined />} disabled={full} onClick={() => setAdding(true)}>
            {t("templates.add")}
          </Button>
        </Tooltip>
        <Button icon={<ShopOutlined />} onClick={() => setIndustry(true)}>
          {t("templates.industry")}
        </Button>
        <Flex gap={8} align="center" style={{ marginLeft: "auto", minWidth: 200 }}>
          <Typography.Text type="secondary" data-testid="templates-usage">
            {t("templates.usage", { count: templates.length, limit: LIMIT })}
          </Typography.Text>
          <Progress
            percent={Math.round((templates.length / LIMIT) * 100)}
            showInfo={false}
            size="small"
            status={full ? "exception" : "normal"}
            style={{ width: 100, margin: 0 }}
          />
        </Flex>
      </Flex>
      {sync.isPending && (
        <Alert
          type="info"
          showIcon
          title={t("templates.syncing")}
          data-testid="templates-syncing"
        />
      )}
      {full && (
        <Alert type="warning" showIcon title={t("templates.limitReached", { limit: LIMIT })} />
      )}
      {error && <TemplateError error={error} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<TemplateInfo>
          data-testid="templates-table"
          rowKey="template_id"
          size="middle"
          loading={list.isPending}
          columns={columns}
          dataSource={templates}
          pagination={false}
          tableLayout="fixed"
          locale={{
            emptyText: (
              <Empty
                image={Empty.PRESENTED_IMAGE_SIMPLE}
                description={
                  <Flex vertical gap={4} align="center">
                    <Typography.Text strong>{t("templates.emptyTitle")}</Typography.Text>
                    <Typography.Text type="secondary">{t("templates.emptyDesc")}</Typography.Text>
                  </Flex>
                }
              />
            ),
          }}
        />
      </Card>
      {account.kind === "oa" && <SubscribeTemplates appid={appid} />}
      <TemplateDrawer template={detail} onClose={() => setDetail(null)} />
      <AddTemplateModal appid={appid} open={adding} onClose={() => setAdding(false)} />
      <IndustryModal appid={appid} open={industry} onClose={() => setIndustry(false)} />
    </Flex>
  );
}

/** Errors with the limit/permission title when WeChat's errcode says so. */
export function TemplateError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const title = templateErrorTitle(t, error);
  if (!title) return <ErrorAlert error={error} />;
  return (
    <Alert
      type="error"
      showIcon
      title={title}
      description={error instanceof Error ? error.message : String(error)}
      data-testid="template-error"
    />
  );
}
