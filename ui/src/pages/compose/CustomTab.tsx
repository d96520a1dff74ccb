import { Alert, App, Button, Form, Input, Segmented } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type CustomMessage, composeApi } from "../../api/send";

type Kind = CustomMessage["type"];

/** 客服消息 to one openid that interacted within 48 hours. */
export function CustomTab({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [kind, setKind] = useState<Kind>("text");
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm();
  const submit = async (v: Record<string, string>) => {
    const msg: CustomMessage =
      kind === "text"
        ? { type: "text", content: v.content ?? "" }
        : kind === "news"
          ? {
              type: "news",
              title: v.title ?? "",
              description: v.description ?? "",
              url: v.url ?? "",
              picurl: v.picurl ?? "",
            }
          : {
              type: "mini",
              title: v.title ?? "",
              appid: v.appid ?? "",
              pagepath: v.pagepath ?? "",
              thumb_media_id: v.thumb ?? "",
            };
    setBusy(true);
    try {
      const r = await composeApi.customSend(appid, v.openid ?? "", msg);
      if (r.state === "sent") message.success(t("send.compose.testOk", { msgid: r.msgid ?? "—" }));
      else
        message.error(
          t("send.compose.testFail", {
            state: `${r.state_label} ${r.errcode ?? ""} ${r.hint ?? r.errmsg ?? ""}`,
          }),
        );
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 16 }}
        title={t("send.custom.intro")}
        description={
          <>
            <div>{t("send.custom.e45015")}</div>
            <div>{t("send.custom.e45047")}</div>
          </>
        }
      />
      <Form form={form} layout="vertical" onFinish={submit} style={{ maxWidth: 560 }}>
        <Form.Item label={t("send.custom.type")}>
          <Segmented<Kind>
            value={kind}
            onChange={setKind}
            options={[
              { value: "text", label: t("send.custom.text") },
              { value: "news", label: t("send.custom.news") },
              { value: "mini", label: t("send.custom.mini") },
            ]}
          />
        </Form.Item>
        <Form.Item name="openid" label="openid" rules={[{ required: true }]}>
          <Input placeholder="o..." />
        </Form.Item>
        {kind === "text" && (
          <Form.Item name="content" label={t("send.custom.content")} rules={[{ required: true }]}>
            <Input.TextArea rows={4} showCount maxLength={2048} />
          </Form.Item>
        )}
        {kind !== "text" && (
          <Form.Item name="title" label={t("send.custom.newsTitle")} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
        )}
        {kind === "news" && (
          <>
            <Form.Item name="description" label={t("send.custom.description")}>
              <Input />
            </Form.Item>
            <Form.Item name="url" label={t("send.custom.url")} rules={[{ required: true }]}>
              <Input placeholder="https://" />
            </Form.Item>
            <Form.Item name="picurl" label={t("send.custom.picurl")}>
              <Input placeholder="https://" />
            </Form.Item>
          </>
        )}
        {kind === "mini" && (
          <>
            <Form.Item
              name="appid"
              label={t("send.compose.miniAppid")}
              rules={[{ required: true }]}
            >
              <Input />
            </Form.Item>
            <Form.Item
              name="pagepath"
              label={t("send.compose.miniPage")}
              rules={[{ required: true }]}
            >
              <Input />
            </Form.Item>
            <Form.Item name="thumb" label={t("send.custom.thumb")} rules={[{ required: true }]}>
              <Input />
            </Form.Item>
          </>
        )}
        <Button type="primary" htmlType="submit" loading={busy}>
          {t("send.custom.send")}
        </Button>
      </Form>
    </>
  );
}
