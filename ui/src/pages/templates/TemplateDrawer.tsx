import { Alert, Descriptions, Drawer, Flex, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { TemplateField, TemplateInfo } from "../../api/templates";
import { keywordRule } from "./keywordRules";

/** The template's example and its fields, each with its type's rule. */
export function TemplateDrawer({
  template,
  onClose,
}: {
  template: TemplateInfo | null;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Drawer
      open={!!template}
      onClose={onClose}
      size={640}
      title={template ? template.alias || template.title : t("templates.drawer.title")}
      data-testid="template-drawer"
    >
      {template && <DrawerBody template={template} />}
    </Drawer>
  );
}

function DrawerBody({ template }: { template: TemplateInfo }) {
  const { t, i18n } = useTranslation();
  const industry = [template.primary_industry, template.deputy_industry]
    .filter(Boolean)
    .join(" / ");
  return (
    <Flex vertical gap={16}>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t("templates.col.title")}>{template.title}</Descriptions.Item>
        <Descriptions.Item label={t("templates.col.templateId")}>
          <Typography.Text copyable code style={{ wordBreak: "break-all" }}>
            {template.template_id}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t("templates.col.type")}>
          {template.legacy ? t("templates.legacy") : t("templates.category")}
        </Descriptions.Item>
        {industry && (
          <Descriptions.Item label={t("templates.drawer.industry")}>{industry}</Descriptions.Item>
        )}
        <Descriptions.Item label={t("templates.drawer.synced")}>
          {new Date(template.synced_at * 1000).toLocaleString(i18n.language)}
        </Descriptions.Item>
      </Descriptions>
      <div>
        <Typography.Title level={5}>{t("templates.drawer.example")}</Typography.Title>
        <pre className="wx-template-example" data-testid="template-example" style={preStyle}>
          {template.example || template.content}
        </pre>
      </div>
      <div>
        <Typography.Title level={5}>{t("templates.drawer.fields")}</Typography.Title>
        <FieldRules fields={template.fields} />
        {template.legacy && (
          <Alert
            style={{ marginTop: 12 }}
            type="info"
            showIcon
            title={t("templates.drawer.legacyNote")}
          />
        )}
      </div>
    </Flex>
  );
}

const preStyle: React.CSSProperties = {
  whiteSpace: "pre-wrap",
  background: "#fafafa",
  border: "1px solid #f0f0f0",
  borderRadius: 6,
  padding: 12,
  margin: 0,
  fontFamily: "inherit",
};

/** One row per field: key, label, type and the rule a value must follow. */
export function FieldRules({ fields }: { fields: TemplateField[] }) {
  const { t } = useTranslation();
  return (
    <Table<TemplateField>
      data-testid="field-rules"
      size="small"
      rowKey="key"
      pagination={false}
      dataSource={fields}
      tableLayout="fixed"
      columns={[
        {
          title: t("templates.drawer.key"),
          dataIndex: "key",
          width: 172,
          render: (k: string) => <Typography.Text code>{k}</Typography.Text>,
        },
        { title: t("templates.drawer.label"), dataIndex: "label", width: 110, ellipsis: true },
        {
          title: t("templates.drawer.kind"),
          dataIndex: "kind",
          width: 90,
          render: (_: unknown, f) => {
            const r = keywordRule(t, f.kind);
            return <Tag color={r.color}>{r.kind}</Tag>;
          },
        },
        {
          title: t("templates.drawer.rule"),
          key: "rule",
          render: (_: unknown, f) => (
            <span data-testid={`rule-${f.key}`}>
              {keywordRule(t, f.kind).rule}
              {!f.shown && (
                <Typography.Text type="secondary">（{t("templates.hidden")}）</Typography.Text>
              )}
            </span>
          ),
        },
      ]}
    />
  );
}
