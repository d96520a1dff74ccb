import { App as AntApp, Form, Input, Modal } from "antd";
import { useTranslation } from "react-i18next";
import { useAddTemplate } from "../../api/templates";
import { TemplateError } from "./TemplatesPage";

interface Values {
  shortId: string;
  keywords?: string;
}

/** Splits pasted keyword names on new lines and commas (both kinds), dropping blanks. */
export function splitKeywords(text: string | undefined): string[] {
  return (text ?? "")
    .split(/[\n,，、]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function isLegacyId(id: string) {
  return /^(OPEN)?TM/i.test(id.trim());
}

/** 从模板库添加: library number and, for category templates, the keyword names. */
export function AddTemplateModal({
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
  const [form] = Form.useForm<Values>();
  const add = useAddTemplate(appid);
  const close = () => {
    add.reset();
    form.resetFields();
    onClose();
  };
  const submit = async () => {
    const v = await form.validateFields();
    const tpl = await add.mutateAsync({
      shortId: v.shortId.trim(),
      keywords: splitKeywords(v.keywords),
    });
    message.success(t("templates.addModal.added", { title: tpl.title }));
    close();
  };
  return (
    <Modal
      open={open}
      title={t("templates.addModal.title")}
      okText={t("templates.addModal.submit")}
      confirmLoading={add.isPending}
      onOk={() => submit().catch(() => undefined)}
      onCancel={close}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" requiredMark="optional">
        <Form.Item
          name="shortId"
          label={t("templates.addModal.shortId")}
          extra={t("templates.addModal.shortIdHelp")}
          rules={[
            { required: true, whitespace: true, message: t("templates.addModal.shortIdRequired") },
          ]}
        >
          <Input
            placeholder={t("templates.addModal.shortIdPlaceholder")}
            data-testid="add-short-id"
          />
        </Form.Item>
        <Form.Item
          name="keywords"
          label={t("templates.addModal.keywords")}
          extra={t("templates.addModal.keywordsHelp")}
          dependencies={["shortId"]}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_, value: string | undefined) =>
                isLegacyId(getFieldValue("shortId") ?? "") || splitKeywords(value).length > 0
                  ? Promise.resolve()
                  : Promise.reject(new Error(t("templates.addModal.keywordsRequired"))),
            }),
          ]}
        >
          <Input.TextArea
            rows={4}
            placeholder={t("templates.addModal.keywordsPlaceholder")}
            data-testid="add-keywords"
          />
        </Form.Item>
      </Form>
      {add.error && <TemplateError error={add.error} />}
    </Modal>
  );
}
