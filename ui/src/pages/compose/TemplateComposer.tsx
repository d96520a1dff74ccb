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
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { pickSpreadsheet, useLists } from "../../api/audience";
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
import { DraftBar } from "./DraftBar";
import { TemplateCard } from "./TemplateCard";
import { TestRecipientPicker } from "./TestRecipientPicker";
import { type ComposerDraft, num, oneOf, str, strMap, useComposerDraft } from "./useComposerDraft";
import { useDebounced } from "./useDebounced";

type RecKind = "openid" | "list" | "file";
type JumpKind = Jump["type"];

/** A mini-program jump to start with (the replacement 统一服务消息 offers). */
export interface MiniPreset {
  miniAppid: string;
  miniPage: string;
}

/** What a template's draft holds (its template id is the draft's key). */
interface Fill {
  title: string;
  data: Record<string, string>;
  jumpKind: JumpKind;
  url: string;
  miniAppid: string;
  miniPage: string;
  recKind: RecKind;
  openid: string;
  listId?: number;
  filePath?: string;
}

/** A saved draft read back; anything missing or malformed starts as a fresh form's. */
function fillOf(body: unknown, preset?: MiniPreset): Fill {
  const fill: Fill = {
    title: str(body, "title"),
    data: strMap(body, "data"),
    jumpKind: oneOf(str(body, "jumpKind"), ["none", "url", "mini"] as const, "none"),
    url: str(body, "url"),
    miniAppid: str(body, "miniAppid"),
    miniPage: str(body, "miniPage"),
    recKind: oneOf(str(body, "recKind"), ["openid", "list", "file"] as const, "list"),
    openid: str(body, "openid"),
    listId: num(body, "listId"),
    filePath: str(body, "filePath") || undefined,
  };
  // The replacement 统一服务消息 offers is what staff asked for just now.
  return preset
    ? { ...fill, jumpKind: "mini", miniAppid: preset.miniAppid, miniPage: preset.miniPage }
    : fill;
}

/** Whether anything was typed or chosen (a draft worth keeping, a 清空 worth asking about). */
function hasContent(f: Fill): boolean {
  return (
    f.title.trim() !== "" ||
    Object.values(f.data).some((v) => v.trim() !== "") ||
    f.jumpKind !== "none" ||
    f.openid.trim() !== "" ||
    f.listId !== undefined ||
    f.filePath !== undefined
  );
}

const typedKeys = (data: Record<string, string>) =>
  new Set(Object.keys(data).filter((k) => data[k]?.trim()));

/**
 * 模板消息. Opens on the account's draft typed in last; each template keeps its own draft, saved
 * as staff type, until it is sent or cleared.
 */
export function TemplateComposer({ appid, preset }: { appid: string; preset?: MiniPreset }) {
  const draftStore = useComposerDraft("template", appid);
  if (!draftStore.ready) {
    return (
      <Card>
        <Spin />
      </Card>
    );
  }
  return <TemplateForm appid={appid} preset={preset} drafts={draftStore} />;
}

function TemplateForm({
  appid,
  preset,
  drafts,
}: {
  appid: string;
  preset?: MiniPreset;
  drafts: ComposerDraft;
}) {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const { message } = App.useApp();
  const navigate = useNavigate();
  const templates = useTemplates(appid);
  const lists = useLists(appid);
  const [start] = useState(() => fillOf(drafts.latest?.body, preset));
  const [templateId, setTemplateId] = useState<string | undefined>(drafts.latest?.templateId);
  const [title, setTitle] = useState(start.title);
  const [data, setData] = useState<Record<string, string>>(start.data);
  // Fields the operator has typed in. A rule is shown only for those: a fresh form does not
  // flag every empty field, and the check's answer (300 ms after choosing a template) does not
  // push the recipients below it down under the pointer. A restored draft's values count.
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => typedKeys(start.data));
  const [jumpKind, setJumpKind] = useState<JumpKind>(start.jumpKind);
  const [url, setUrl] = useState(start.url);
  const [miniAppid, setMiniAppid] = useState(start.miniAppid);
  const [miniPage, setMiniPage] = useState(start.miniPage);
  const [recKind, setRecKind] = useState<RecKind>(start.recKind);
  const [openid, setOpenid] = useState(start.openid);
  const [listId, setListId] = useState<number | undefined>(start.listId);
  const [filePath, setFilePath] = useState<string | undefined>(start.filePath);
  const fill: Fill = {
    title,
    data,
    jumpKind,
    url,
    miniAppid,
    miniPage,
    recKind,
    openid,
    listId,
    filePath,
  };
  const load = (f: Fill) => {
    setTitle(f.title);
    setData(f.data);
    setTouched(typedKeys(f.data));
    setJumpKind(f.jumpKind);
    setUrl(f.url);
    setMiniAppid(f.miniAppid);
    setMiniPage(f.miniPage);
    setRecKind(f.recKind);
    setOpenid(f.openid);
    setListId(f.listId);
    setFilePath(f.filePath);
  };
  const typed = hasContent(fill);
  const fillKey = JSON.stringify(fill);
  const { track } = drafts;
  useEffect(() => {
    if (templateId) track(templateId, typed ? fillKey : null);
  }, [templateId, typed, fillKey, track]);
  // The last test recipient of this account (the composer is keyed by account).
  const [testOpenid, setTestOpenid] = useState(() => loadLastTestOpenid(appid));
  const [testing, setTesting] = useState(false);
  const [estimate, setEstimate] = useState<SendEstimate | null>(null);
  const [sending, setSending] = useState(false);

  const template = templates.data?.find((x) => x.template_id === templateId);
  // A draft's template that is no longer synced: start from the choice, not from an id.
  const gone = templates.data !== undefined && templateId !== undefined && !template;
  useEffect(() => {
    if (gone) setTemplateId(undefined);
  }, [gone]);
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
    const p = await pickSpreadsheet(t("audience.create.fileDialogTitle"));
    if (p) setFilePath(p);
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
      // Sent: the job holds the message now (任务 can copy it); the draft would only invite
      // sending it twice.
      await drafts.clear(draft.template_id);
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
  // Any column name works as a variable; the example and the punctuation are the window's.
  const varExample = english ? "{{name}}" : "{{变量}}";
  const sep = english ? ", " : "、";
  const paren = (a: string, b: string) => (english ? `${a} (${b})` : `${a}（${b}）`);
  const listOptions = (lists.data ?? []).map((l) => ({
    value: l.id,
    label: paren(l.name, t("send.compose.members", { n: l.member_count })),
  }));

  return (
    <Row gutter={16}>
      <Col span={14}>
        <Card>
          <Form layout="vertical" data-testid="composer-form">
            {(templateId || drafts.error) && (
              <DraftBar
                testId="template-draft"
                savedAt={drafts.savedAt}
                error={drafts.error}
                hasContent={typed}
                clears={t("send.draft.clearsTemplate")}
                onClear={() => {
                  if (!templateId) return;
                  load(fillOf(undefined));
                  void drafts.clear(templateId);
                  message.success(t("send.draft.cleared"));
                }}
              />
            )}
            <Form.Item label={t("send.compose.template")} required>
              <Select
                data-testid="compose-template"
                showSearch
                optionFilterProp="label"
                placeholder={t("send.compose.templatePlaceholder")}
                value={templateId}
                onChange={(v) => {
                  setTemplateId(v);
                  const saved = drafts.get(v);
                  if (saved !== undefined) load(fillOf(saved));
                  else {
                    setData({});
                    setTouched(new Set());
                  }
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
                    ? `${t("send.compose.varHint", { var: varExample })} ${variables.map((v) => `{{${v}}}`).join(sep)}`
                    : t("send.compose.noVars", { example: varExample })}
                </Typography.Paragraph>
                {fields.map((f) => {
                  const c = checks.get(f.key);
                  const broken = touched.has(f.key) ? c?.problem : undefined;
                  const problem = broken ? (english ? broken.en : broken.zh) : undefined;
                  return (
                    <Form.Item
                      key={f.key}
                      required
                      label={paren(f.label || f.key, f.key)}
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
                {check.data?.empty_source && (
                  <Alert
                    type="warning"
                    showIcon
                    style={{ marginBottom: 16 }}
                    data-testid="empty-source"
                    title={t("send.compose.emptySource")}
                  />
                )}
                {check.data && check.data.missing_variables.length > 0 && (
                  <Alert
                    type="error"
                    showIcon
                    style={{ marginBottom: 16 }}
                    title={t("send.compose.missingVars", {
                      vars: check.data.missing_variables.join(sep),
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
                        data-testid="compose-openid"
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
