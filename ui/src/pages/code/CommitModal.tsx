// 提交代码 for one mini program: a template of the library, its version and description, and
// this client's ext.json — checked here before anything is sent (core checks it again).
import { App, Flex, Form, Input, Modal, Select, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type CodeTemplate, type Mini, useCommit, useLibrary } from "../../api/code";
import { ExtJsonEditor } from "./ExtJsonEditor";
import { checkExtJson, extJsonTemplate } from "./extJson";
import { CodeErrorAlert } from "./labels";

/** `#12 · 1.2.0 · 描述` as the template pickers show a template. */
export function templateLabel(tpl: CodeTemplate): string {
  return [`#${tpl.template_id}`, tpl.user_version, tpl.user_desc].filter(Boolean).join(" · ");
}

interface Props {
  mini: Mini | null;
  onClose: () => void;
}

export function CommitModal({ mini, onClose }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const appid = mini?.appid ?? "";
  const library = useLibrary();
  const commit = useCommit(appid);
  const [templateId, setTemplateId] = useState<number | null>(null);
  const [version, setVersion] = useState("");
  const [desc, setDesc] = useState("");
  const [ext, setExt] = useState("");
  const templates = library.data?.templates ?? [];

  useEffect(() => {
    if (!mini) return;
    setTemplateId(null);
    setVersion("");
    setDesc("");
    setExt(extJsonTemplate(mini.appid));
    commit.reset();
  }, [mini, commit.reset]);

  const pick = (id: number) => {
    const tpl = templates.find((x) => x.template_id === id);
    setTemplateId(id);
    if (tpl) {
      setVersion(tpl.user_version);
      setDesc(tpl.user_desc);
    }
  };

  const valid = checkExtJson(ext, appid).ok && templateId !== null && version.trim() !== "";
  const submit = () => {
    if (templateId === null) return;
    commit.mutate(
      { template_id: templateId, user_version: version.trim(), user_desc: desc, ext_json: ext },
      {
        onSuccess: () => {
          message.success(t("code.commit.done", { name: mini?.nickname || appid }));
          onClose();
        },
      },
    );
  };

  return (
    <Modal
      open={mini !== null}
      title={t("code.commit.title", { name: mini?.nickname || appid })}
      onCancel={onClose}
      onOk={submit}
      okText={t("code.commit.ok")}
      cancelText={t("code.cancel")}
      okButtonProps={{ disabled: !valid, loading: commit.isPending, id: "commit-ok" }}
      width={640}
      destroyOnHidden
    >
      <Form layout="vertical" requiredMark={false}>
        <Form.Item label={t("code.commit.template")} required>
          <Select
            data-testid="commit-template"
            value={templateId ?? undefined}
            onChange={pick}
            loading={library.isPending}
            placeholder={t("code.commit.templatePlaceholder")}
            options={templates.map((tpl) => ({
              value: tpl.template_id,
              label: templateLabel(tpl),
            }))}
            notFoundContent={t("code.library.noTemplates")}
          />
        </Form.Item>
        <Flex gap={12}>
          <Form.Item label={t("code.commit.version")} required style={{ flex: 1 }}>
            <Input
              data-testid="commit-version"
              value={version}
              maxLength={64}
              onChange={(e) => setVersion(e.target.value)}
            />
          </Form.Item>
          <Form.Item label={t("code.commit.desc")} style={{ flex: 2 }}>
            <Input value={desc} onChange={(e) => setDesc(e.target.value)} />
          </Form.Item>
        </Flex>
        <Form.Item
          label={t("code.commit.ext")}
          extra={<Typography.Text type="secondary">{t("code.commit.extHelp")}</Typography.Text>}
        >
          <ExtJsonEditor value={ext} onChange={setExt} appid={appid} rows={10} />
        </Form.Item>
      </Form>
      {commit.error && <CodeErrorAlert error={commit.error} />}
    </Modal>
  );
}
