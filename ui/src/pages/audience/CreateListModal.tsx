import { FileExcelOutlined } from "@ant-design/icons";
import { App as AntApp, Button, Flex, Form, Input, Modal, Radio, Select, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type ImportChoices,
  type ImportInput,
  pickSpreadsheet,
  useCreateListFromFollowers,
  useImportPreview,
  useImportSave,
  useTags,
} from "../../api/audience";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { ImportPreview } from "./ImportPreview";

type Source = "all" | "tag" | "paste" | "file";

const AUTO: ImportChoices = { openid_column: null, has_header: null };

interface Values {
  name: string;
  source: Source;
  tagId?: number;
  text?: string;
}

/** 新建名单: from all followers, a tag, pasted openids or a CSV/XLSX file (with a preview). */
export function CreateListModal({
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
  const source = Form.useWatch("source", form) ?? "all";
  const [file, setFile] = useState<string | null>(null);
  // Detected by core until the user corrects the openid column or the header row.
  const [choices, setChoices] = useState<ImportChoices>(AUTO);
  const tags = useTags(appid);
  const fromFollowers = useCreateListFromFollowers(appid);
  const preview = useImportPreview(appid);
  const save = useImportSave(appid);
  const imports = source === "paste" || source === "file";

  const close = () => {
    form.resetFields();
    setFile(null);
    setChoices(AUTO);
    preview.reset();
    save.reset();
    fromFollowers.reset();
    onClose();
  };

  const input = (v: Values): ImportInput | null =>
    v.source === "paste"
      ? { kind: "pasted", text: v.text ?? "" }
      : file
        ? { kind: "file", path: file }
        : null;

  const runPreview = async () => {
    const v = await form.validateFields(["source", "text"]);
    const i = input(v);
    if (!i) {
      message.warning(t("audience.create.fileRequired"));
      return;
    }
    setChoices(AUTO);
    preview.mutate({ input: i, choices: AUTO });
  };

  const choose = (next: ImportChoices) => {
    const i = input(form.getFieldsValue());
    if (!i) return;
    setChoices(next);
    preview.mutate({ input: i, choices: next });
  };

  const submit = async () => {
    const v = await form.validateFields();
    if (v.source === "all" || v.source === "tag") {
      await fromFollowers.mutateAsync({ name: v.name.trim(), tagId: v.tagId ?? null });
    } else {
      const i = input(v);
      if (!i) return;
      await save.mutateAsync({
        name: v.name.trim(),
        input: i,
        choices,
      });
    }
    message.success(t("audience.create.saved", { name: v.name.trim() }));
    close();
  };

  const chooseFile = async () => {
    const path = await pickSpreadsheet(t("audience.create.fileDialogTitle"));
    if (path) {
      setFile(path);
      setChoices(AUTO);
      preview.mutate({ input: { kind: "file", path }, choices: AUTO });
    }
  };

  const canSave = !imports || (preview.data !== undefined && preview.data.valid > 0);
  const error = preview.error ?? save.error ?? fromFollowers.error;
  return (
    <Modal
      open={open}
      width={imports && preview.data ? 900 : 600}
      title={t("audience.create.title")}
      onCancel={close}
      destroyOnHidden
      footer={
        <Flex gap={8} justify="flex-end">
          <Button onClick={close}>{t("audience.create.cancel")}</Button>
          {imports && (
            <Button
              loading={preview.isPending}
              onClick={() => runPreview().catch(() => undefined)}
              data-testid="list-preview"
            >
              {t("audience.create.preview")}
            </Button>
          )}
          <Button
            type="primary"
            disabled={!canSave}
            loading={save.isPending || fromFollowers.isPending}
            onClick={() => submit().catch(() => undefined)}
            data-testid="list-save"
          >
            {imports && preview.data
              ? t("audience.create.saveN", { count: preview.data.valid })
              : t("audience.create.save")}
          </Button>
        </Flex>
      }
    >
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ source: "all" }}
        onValuesChange={(changed) => {
          if ("source" in changed || "text" in changed) {
            preview.reset();
            setChoices(AUTO);
          }
        }}
      >
        <Form.Item
          name="name"
          label={t("audience.create.name")}
          rules={[{ required: true, whitespace: true, message: t("audience.create.nameRequired") }]}
        >
          <Input placeholder={t("audience.create.namePlaceholder")} data-testid="list-name" />
        </Form.Item>
        <Form.Item name="source" label={t("audience.create.source")}>
          <Radio.Group
            optionType="button"
            options={[
              { value: "all", label: t("audience.create.fromAll") },
              { value: "tag", label: t("audience.create.fromTag") },
              {
                value: "paste",
                label: <span data-testid="source-paste">{t("audience.create.fromPaste")}</span>,
              },
              { value: "file", label: t("audience.create.fromFile") },
            ]}
          />
        </Form.Item>
        {source === "tag" && (
          <Form.Item
            name="tagId"
            label={t("audience.create.tag")}
            rules={[{ required: true, message: t("audience.create.tagRequired") }]}
          >
            <Select
              options={(tags.data ?? []).map((tg) => ({
                value: tg.tag_id,
                label: `${tg.name}（${tg.local_count.toLocaleString()}）`,
              }))}
            />
          </Form.Item>
        )}
        {(source === "all" || source === "tag") && (
          <Typography.Paragraph type="secondary">
            {t("audience.create.followersHint")}
          </Typography.Paragraph>
        )}
        {source === "paste" && (
          <Form.Item
            name="text"
            label={t("audience.create.paste")}
            rules={[
              { required: true, whitespace: true, message: t("audience.create.pasteRequired") },
            ]}
          >
            <Input.TextArea
              rows={6}
              placeholder={t("audience.create.pastePlaceholder")}
              style={{ fontFamily: "monospace" }}
              data-testid="list-paste"
            />
          </Form.Item>
        )}
        {source === "file" && (
          <Form.Item label={t("audience.create.fromFile")}>
            <Flex gap={8} align="center">
              <Button icon={<FileExcelOutlined />} onClick={() => void chooseFile()}>
                {t("audience.create.chooseFile")}
              </Button>
              <Typography.Text
                type={file ? undefined : "secondary"}
                ellipsis
                style={{ maxWidth: 380 }}
              >
                {file ?? t("audience.create.noFile")}
              </Typography.Text>
            </Flex>
          </Form.Item>
        )}
      </Form>
      {error && <ErrorAlert error={error} />}
      {imports && preview.data && <ImportPreview preview={preview.data} onChoose={choose} />}
    </Modal>
  );
}
