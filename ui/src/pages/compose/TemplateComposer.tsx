import { open } from "@tauri-apps/plugin-dialog";
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Flex,
  Form,
  Input,
  Row,
  Segmented,
  Select,
  Space,
  Spin,
  Typography,
} from "antd";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useLists } from "../../api/audience";
import { loadLastTestOpenid, saveLastTestOpenid } from "../../api/compose";
import {
  composeApi,
  type Jump,
  type RecipientSource,
  type SendEstimate,
  type TemplateDraft,
  useComposeCheck,
} from "../../api/send";
import { useTemplates } from "../../api/templates";
import { isEnglish, rowHint, stateLabel } from "../jobs/labels";
import { ConfirmSend } from "./ConfirmSend";
import { TemplateCard } from "./TemplateCard";
import { TestRecipientPicker } from "./TestRecipientPicker";
import { useDebounced } from "./useDebounced";

type RecKind = "openid" | "list" | "file";
type JumpKind = Jump["type"];

/** A mini-program jump to start with (the replacement 统一服务消息 offers). */
export interface MiniPreset {
  miniAppid: string;
  miniPage: string;
}

export function TemplateComposer({ appid, preset }: { appid: string; preset?: MiniPreset }) {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const { message } = App.useApp();
  const navigate = useNavigate();
  const templates = useTemplates(appid);
  const lists = useLists(appid);
  const [templateId, setTemplateId] = useState<string>();
  const [title, setTitle] = useState("");
  const [data, setData] = useState<Record<string, string>>({});
  // Fields the operator has typed in. A rule is shown only for those: a fresh form does not
  // flag every empty field, and the check's answer (300 ms after choosing a template) does not
  // push the recipients below it down under the pointer.
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const [jumpKind, setJumpKind] = useState<JumpKind>(preset ? "mini" : "none");
  const [url, setUrl] = useState("");
  const [miniAppid, setMiniAppid] = useState(preset?.miniAppid ?? "");
  const [miniPage, setMiniPage] = useState(preset?.miniPage ?? "");
  const [recKind, setRecKind] = useState<RecKind>("list");
  const [openid, setOpenid] = useState("");
  const [listId, setListId] = useState<number>();
  const [filePath, setFilePath] = useState<string>();
  // The last test recipient of this account (the composer is keyed by account).
  const [testOpenid, setTestOpenid] = useState(() => loadLastTestOpenid(appid));
  const [testing, setTesting] = useState(false);
  const [estimate, setEstimate] = useState<SendEstimate | null>(null);
  const [sending, setSending] = useState(false);

  const template = templates.data?.find((x) => x.template_id === templateId);
  const jump: Jump =
    jumpKind === "url"
      ? { type: "url", url }
      : jumpKind === "mini"
        ? { type: "mini", appid: miniAppid, pagepath: miniPage }
        : { type: "none" };
  const draft: TemplateDraft | null = template
    ? { appid, template_id: template.template_id, title, data, jump }
    : null;
  const recipients: RecipientSource | null =
    recKind === "openid"
      ? openid.trim()
        ? { type: "openid", openid }
        : null
      : recKind === "list"
        ? listId !== undefined
          ? { type: "list", list_id: listId }
          : null
        : filePath
          ? { type: "file", path: filePath }
          : null;
  // The check runs on the draft as it stood 300 ms after the last keystroke.
  const debouncedKey = useDebounced(JSON.stringify({ draft, recipients }), 300);
  const debounced = useMemo(
    () =>
      JSON.parse(debouncedKey) as {
        draft: TemplateDraft | null;
        recipients: RecipientSource | null;
      },
    [debouncedKey],
  );
  const check = useComposeCheck(debounced.draft, debounced.recipients);
  const checks = new Map(check.data?.fields.map((f) => [f.key, f]) ?? []);
  const fields = template?.fields.filter((f) => f.shown) ?? [];

  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));
  const pickFile = async () => {
    const p = await open({
      multiple: false,
      filters: [{ name: "CSV / XLSX", extensions: ["csv", "txt", "xlsx"] }],
    });
    if (typeof p === "string") setFilePath(p);
  };
  const testSend = async () => {
    if (!draft) return;
    setTesting(true);
    const to = testOpenid.trim();
    saveLastTestOpenid(appid, to);
    try {
      const r = await composeApi.testSend(draft, recipients, to);
      if (r.state === "sent") message.success(t("send.compose.testOk", { msgid: r.msgid ?? "—" }));
      else
        message.error(
          t("send.compose.testFail", {
            state: `${stateLabel(t, r.state)} ${r.errcode ?? ""} ${rowHint(t, r, english) ?? ""}`,
          }),
        );
    } catch (e) {
      fail(e);
    } finally {
      setTesting(false);
    }
  };
  const askConfirm = async () => {
    if (!draft || !recipients) return;
    if (check.data && !check.data.ok) {
      message.warning(t("send.compose.invalid"));
      return;
    }
    try {
      setEstimate(await composeApi.estimate(appid, recipients));
    } catch (e) {
      fail(e);
    }
  };
  const send = async () => {
    if (!draft || !recipients) return;
    setSending(true);
    try {
      const id = await composeApi.send(draft, recipients);
      message.success(t("send.compose.created", { id }));
      setEstimate(null);
      navigate("/jobs");
    } catch (e) {
      fail(e);
    } finally {
      setSending(false);
    }
  };

  if (templates.data && templates.data.length === 0) {
    return (
      <Card>
        <Empty description={t("send.compose.noTemplates")}>
          <Button type="primary" onClick={() => navigate("/templates")}>
            {t("pages.templates.title")}
          </Button>
        </Empty>
      </Card>
    );
  }
  const variables = check.data?.variables ?? [];
  const listOptions = (lists.data ?? []).map((l) => ({
    value: l.id,
    label: `${l.name}（${t("send.compose.members", { n: l.member_count })}）`,
  }));

  return (
    <Row gutter={16}>
      <Col span={14}>
        <Card>
          <Form layout="vertical" data-testid="composer-form">
            <Form.Item label={t("send.compose.template")} required>
              <Select
                data-testid="compose-template"
                showSearch
                optionFilterProp="label"
                placeholder={t("send.compose.templatePlaceholder")}
                value={templateId}
                onChange={(v) => {
                  setTemplateId(v);
                  setData({});
                  setTouched(new Set());
                }}
                options={(templates.data ?? []).map((x) => ({
                  value: x.template_id,
                  label: x.alias || x.title,
                }))}
              />
            </Form.Item>
            {template && (
              <>
                <Form.Item label={t("send.compose.title")}>
                  <Input
                    value={title}
                    placeholder={t("send.compose.titlePlaceholder")}
                    onChange={(e) => setTitle(e.target.value)}
                  />
                </Form.Item>
                <Typography.Text strong>{t("send.compose.fields")}</Typography.Text>
                <Typography.Paragraph
                  type="secondary"
                  style={{ fontSize: 12, margin: "4px 0 8px" }}
                >
                  {variables.length
                    ? `${t("send.compose.varHint", { var: "{{变量}}" })} ${variables.map((v) => `{{${v}}}`).join("、")}`
                    : t("send.compose.noVars", { example: "{{变量}}" })}
                </Typography.Paragraph>
                {fields.map((f) => {
                  const c = checks.get(f.key);
                  const broken = touched.has(f.key) ? c?.problem : undefined;
                  const problem = broken ? (english ? broken.en : broken.zh) : undefined;
                  return (
                    <Form.Item
                      key={f.key}
                      required
                      label={`${f.label || f.key}（${f.key}）`}
                      validateStatus={problem ? "error" : undefined}
                      help={problem ?? undefined}
                      extra={
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t(`templates.kinds.${f.kind}`, { defaultValue: f.kind })} ·{" "}
                          {t("send.compose.chars", {
                            n: c?.chars ?? [...(data[f.key] ?? "")].length,
                          })}
                        </Typography.Text>
                      }
                    >
                      <Input
                        data-testid={`field-${f.key}`}
                        value={data[f.key] ?? ""}
                        onChange={(e) => {
                          setData({ ...data, [f.key]: e.target.value });
                          if (!touched.has(f.key)) setTouched(new Set(touched).add(f.key));
                        }}
                      />
                    </Form.Item>
                  );
                })}
                {check.data && check.data.missing_variables.length > 0 && (
                  <Alert
                    type="error"
                    showIcon
                    style={{ marginBottom: 16 }}
                    title={t("send.compose.missingVars", {
                      vars: check.data.missing_variables.join("、"),
                    })}
                  />
                )}
                <Form.Item label={t("send.compose.jump")}>
                  <Space direction="vertical" style={{ width: "100%" }}>
                    <Segmented<JumpKind>
                      value={jumpKind}
                      onChange={setJumpKind}
                      options={[
                        { value: "none", label: t("send.compose.jumpNone") },
                        { value: "url", label: t("send.compose.jumpUrl") },
                        { value: "mini", label: t("send.compose.jumpMini") },
                      ]}
                    />
                    {jumpKind === "url" && (
                      <Input
                        placeholder="https://"
                        value={url}
                        onChange={(e) => setUrl(e.target.value)}
                      />
                    )}
                    {jumpKind === "mini" && (
                      <Space.Compact style={{ width: "100%" }}>
                        <Input
                          style={{ width: "40%" }}
                          data-testid="compose-mini-appid"
                          placeholder={t("send.compose.miniAppid")}
                          value={miniAppid}
                          onChange={(e) => setMiniAppid(e.target.value)}
                        />
                        <Input
                          data-testid="compose-mini-page"
                          placeholder={t("send.compose.miniPage")}
                          value={miniPage}
                          onChange={(e) => setMiniPage(e.target.value)}
                        />
                      </Space.Compact>
                    )}
                  </Space>
                </Form.Item>
                <Form.Item label={t("send.compose.recipients")} required>
                  <Space direction="vertical" style={{ width: "100%" }}>
                    <Segmented<RecKind>
                      value={recKind}
                      onChange={setRecKind}
                      options={[
                        { value: "list", label: t("send.compose.recList") },
                        { value: "openid", label: t("send.compose.recOpenid") },
                        { value: "file", label: t("send.compose.recFile") },
                      ]}
                    />
                    {recKind === "list" && (
                      // Not openable until the lists have loaded, so it never opens empty and
                      // then fills under the pointer.
                      <Select
                        data-testid="compose-list"
                        placeholder={
                          lists.isPending
                            ? t("send.compose.listLoading")
                            : t("send.compose.listPlaceholder")
                        }
                        loading={lists.isPending}
                        disabled={lists.isPending}
                        value={listId}
                        onChange={setListId}
                        options={listOptions}
                        notFoundContent={
                          lists.isPending ? <Spin size="small" /> : t("send.compose.noLists")
                        }
                      />
                    )}
                    {recKind === "openid" && (
                      <Input
                        placeholder="openid"
                        value={openid}
                        onChange={(e) => setOpenid(e.target.value)}
                      />
                    )}
                    {recKind === "file" && (
                      <Space>
                        <Button onClick={() => void pickFile()}>
                          {t("send.compose.chooseFile")}
                        </Button>
                        <Typography.Text type="secondary" ellipsis style={{ maxWidth: 360 }}>
                          {filePath}
                        </Typography.Text>
                      </Space>
                    )}
                  </Space>
                </Form.Item>
                <Flex gap={8} wrap>
                  <Space.Compact>
                    <TestRecipientPicker
                      appid={appid}
                      value={testOpenid}
                      onChange={setTestOpenid}
                    />
                    <Button
                      data-testid="test-send"
                      loading={testing}
                      disabled={!testOpenid.trim() || !check.data?.ok}
                      onClick={() => void testSend()}
                    >
                      {t("send.compose.testSend")}
                    </Button>
                  </Space.Compact>
                  <Button
                    data-testid="compose-send"
                    type="primary"
                    style={{ marginLeft: "auto" }}
                    disabled={!recipients || !check.data?.ok}
                    onClick={() => void askConfirm()}
                  >
                    {t("send.compose.send")}
                  </Button>
                </Flex>
              </>
            )}
          </Form>
        </Card>
      </Col>
      <Col span={10}>
        <Card title={t("send.compose.preview")} size="small" data-testid="compose-preview">
          {template && check.data ? (
            <Flex vertical gap={12}>
              {check.data.cards.map((c) => (
                <TemplateCard
                  key={c.openid || "sample"}
                  title={template.title}
                  card={c}
                  jump={jumpKind !== "none"}
                  mini={jumpKind === "mini" ? miniAppid.trim() || "—" : undefined}
                />
              ))}
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t("send.compose.cutNote")}
              </Typography.Text>
            </Flex>
          ) : (
            <Empty
              image={Empty.PRESENTED_IMAGE_SIMPLE}
              description={t("send.compose.templatePlaceholder")}
            />
          )}
        </Card>
      </Col>
      <ConfirmSend
        appid={appid}
        templateTitle={template?.title}
        estimate={estimate}
        sending={sending}
        onOk={() => void send()}
        onCancel={() => setEstimate(null)}
      />
    </Row>
  );
}
