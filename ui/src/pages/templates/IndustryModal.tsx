import { App as AntApp, Button, Descriptions, Flex, Form, Input, Modal, Skeleton } from "antd";
import { useTranslation } from "react-i18next";
import { useIndustry, useSetIndustry } from "../../api/templates";
import { TemplateError } from "./TemplatesPage";

/** Shows the account's industries (a WeChat call when opened) and changes them. */
export function IndustryModal({
  appid,
  open,
  onClose,
}: {
  appid: string;
  open: boolean;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const industry = useIndustry(appid, open);
  const set = useSetIndustry(appid);
  const [form] = Form.useForm<{ primaryId: string; secondaryId: string }>();
  const submit = async () => {
    const v = await form.validateFields();
    await set.mutateAsync({ primaryId: v.primaryId.trim(), secondaryId: v.secondaryId.trim() });
    message.success(t("templates.industryModal.setDone"));
  };
  const d = industry.data;
  return (
    <Modal open={open} title={t("templates.industryModal.title")} footer={null} onCancel={onClose}>
      <Flex vertical gap={16}>
        {industry.isPending && <Skeleton active paragraph={{ rows: 2 }} />}
        {industry.error && <TemplateError error={industry.error} />}
        {d && (
          <Descriptions column={1} size="small" bordered data-testid="industry">
            <Descriptions.Item label={t("templates.industryModal.primary")}>
              {[d.primary_first, d.primary_second].filter(Boolean).join(" / ") || "—"}
            </Descriptions.Item>
            <Descriptions.Item label={t("templates.industryModal.secondary")}>
              {[d.secondary_first, d.secondary_second].filter(Boolean).join(" / ") || "—"}
            </Descriptions.Item>
          </Descriptions>
        )}
        <Form form={form} layout="inline" style={{ rowGap: 8 }}>
          <Form.Item name="primaryId" rules={[{ required: true, whitespace: true, message: "" }]}>
            <Input placeholder={t("templates.industryModal.primaryId")} style={{ width: 150 }} />
          </Form.Item>
          <Form.Item name="secondaryId" rules={[{ required: true, whitespace: true, message: "" }]}>
            <Input placeholder={t("templates.industryModal.secondaryId")} style={{ width: 150 }} />
          </Form.Item>
          <Button loading={set.isPending} onClick={() => submit().catch(() => undefined)}>
            {t("templates.industryModal.set")}
          </Button>
        </Form>
        <span style={{ color: "rgba(0,0,0,0.45)" }}>{t("templates.industryModal.idHelp")}</span>
        {set.error && <TemplateError error={set.error} />}
      </Flex>
    </Modal>
  );
}
