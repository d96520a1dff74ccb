import { Alert, App, Button, Card, Flex, Form, Input, Select, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { AppError } from "../../api";
import { messagingApi } from "../../api/messaging";
import { useAccounts } from "../../api/shell";
import { useTemplates } from "../../api/templates";
import { SandboxTag } from "../accounts/PlatformTag";
import type { MiniPreset } from "./TemplateComposer";

/**
 * 统一服务消息, marked 已被微信下线: it can still be attempted (WeChat answers 45109), and the
 * answer offers the replacement — a template message of this account that opens the mini
 * program — one click away.
 */
export function UniformTab({
  appid,
  onReplace,
}: {
  appid: string;
  onReplace: (preset: MiniPreset) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const accounts = useAccounts();
  const templates = useTemplates(appid);
  const minis = (accounts.data ?? []).filter(
    (a) => a.kind === "mini" && a.status === "authorized" && a.current_platform,
  );
  const [mini, setMini] = useState<string>();
  const [templateId, setTemplateId] = useState<string>();
  const [openid, setOpenid] = useState("");
  const [page, setPage] = useState("pages/index/index");
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const attempt = async () => {
    if (!mini || !templateId) return;
    setBusy(true);
    setRefusal(null);
    try {
      const row = await messagingApi.sendUniform(
        {
          appid: mini,
          mp_appid: appid,
          template_id: templateId,
          data: {},
          jump: { type: "mini", appid: mini, pagepath: page },
        },
        openid,
      );
      message.info(t("messaging.uniform.sentAnyway", { state: row.state }));
    } catch (e) {
      setRefusal(e instanceof AppError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card data-testid="uniform-tab">
      <Alert
        type="warning"
        showIcon
        style={{ marginBottom: 16 }}
        title={
          <Space>
            {t("messaging.uniform.title")}
            <Tag color="red">{t("messaging.uniform.withdrawn")}</Tag>
          </Space>
        }
        description={t("messaging.uniform.desc")}
      />
      <Form layout="vertical">
        <Form.Item label={t("messaging.uniform.mini")} required>
          <Select
            data-testid="uniform-mini"
            value={mini}
            onChange={setMini}
            placeholder={t("messaging.uniform.miniPlaceholder")}
            notFoundContent={t("messaging.uniform.noMini")}
            options={minis.map((m) => ({
              value: m.appid,
              title: m.nickname || m.appid,
              label: (
                <Flex gap={6} align="center">
                  {/* Its own element, so the name is found as the option's text. */}
                  <span>{m.nickname || m.appid}</span>
                  {m.sandbox && <SandboxTag />}
                </Flex>
              ),
            }))}
          />
        </Form.Item>
        <Form.Item label={t("messaging.uniform.template")} required>
          <Select
            data-testid="uniform-template"
            value={templateId}
            onChange={setTemplateId}
            options={(templates.data ?? []).map((x) => ({
              value: x.template_id,
              label: x.alias || x.title,
            }))}
          />
        </Form.Item>
        <Form.Item label={t("messaging.uniform.to")} required>
          <Input
            data-testid="uniform-to"
            value={openid}
            onChange={(e) => setOpenid(e.target.value)}
          />
        </Form.Item>
        <Form.Item label={t("messaging.uniform.page")}>
          <Input value={page} onChange={(e) => setPage(e.target.value)} />
        </Form.Item>
        <Button
          data-testid="uniform-attempt"
          loading={busy}
          disabled={!mini || !templateId || !openid.trim()}
          onClick={() => void attempt()}
        >
          {t("messaging.uniform.attempt")}
        </Button>
      </Form>
      {refusal && (
        <Alert
          data-testid="uniform-refusal"
          style={{ marginTop: 16 }}
          type="error"
          showIcon
          title={t("messaging.uniform.refused")}
          description={refusal}
          action={
            <Button
              type="primary"
              data-testid="uniform-replace"
              onClick={() => mini && onReplace({ miniAppid: mini, miniPage: page })}
            >
              {t("messaging.uniform.replace")}
            </Button>
          }
        />
      )}
    </Card>
  );
}
