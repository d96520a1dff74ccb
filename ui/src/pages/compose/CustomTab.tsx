import { Alert, App, Button, Form, Input, List, Segmented, Select, Spin, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useOpenInteractions } from "../../api/interactions";
import { type CustomMessage, composeApi, type TestSendResult } from "../../api/send";
import { isEnglish, rowHint, stateLabel } from "../jobs/labels";
import { type Cover, CoverUpload, coverExpired, uploadCover } from "./CoverUpload";
import { DraftBar } from "./DraftBar";
import { InteractionsTable } from "./InteractionsTable";
import { type ComposerDraft, num, oneOf, str, strMap, useComposerDraft } from "./useComposerDraft";

type Kind = CustomMessage["type"];

/** The outcome of one recipient's send. */
type Outcome = { openid: string; ok: boolean; detail: string };

/** Splits typed text into openids (spaces, commas, semicolons or new lines between them). */
export function splitOpenids(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const o of v.split(/[\s,，;；]+/)) {
      if (o && !out.includes(o)) out.push(o);
    }
  }
  return out;
}

function message(kind: Kind, v: Record<string, string>): CustomMessage {
  if (kind === "text") return { type: "text", content: v.content ?? "" };
  if (kind === "news")
    return {
      type: "news",
      title: v.title ?? "",
      description: v.description ?? "",
      url: v.url ?? "",
      picurl: v.picurl ?? "",
    };
  return {
    type: "mini",
    title: v.title ?? "",
    appid: v.appid ?? "",
    pagepath: v.pagepath ?? "",
    thumb_media_id: v.thumb ?? "",
  };
}

/** The customer-service composer has no template: its one draft per account has this key. */
const NO_TEMPLATE = "";
/** The form's fields (all kinds'; a draft keeps those of the kinds not shown too). */
const FIELDS = ["content", "title", "description", "url", "picurl", "appid", "pagepath", "thumb"];

/** What the draft holds. */
interface Fill {
  kind: Kind;
  values: Record<string, string>;
  recipients: string[];
  cover: Cover | null;
}

function coverOf(body: unknown): Cover | null {
  const c = body && typeof body === "object" ? (body as Record<string, unknown>).cover : null;
  const media_id = str(c, "media_id");
  const path = str(c, "path");
  const expires_at = num(c, "expires_at");
  if (!media_id || !path || expires_at === undefined) return null;
  return {
    media_id,
    path,
    expires_at,
    file_name: str(c, "file_name"),
    size: num(c, "size") ?? 0,
    created_at: num(c, "created_at") ?? 0,
  };
}

function fillOf(body: unknown): Fill {
  const r = body && typeof body === "object" ? (body as Record<string, unknown>).recipients : [];
  return {
    kind: oneOf(str(body, "kind"), ["text", "news", "mini"] as const, "text"),
    values: strMap(body, "values"),
    recipients: Array.isArray(r) ? r.filter((o): o is string => typeof o === "string") : [],
    cover: coverOf(body),
  };
}

function hasContent(f: Fill): boolean {
  return (
    f.kind !== "text" ||
    f.recipients.length > 0 ||
    f.cover !== null ||
    Object.values(f.values).some((v) => v.trim() !== "")
  );
}

/** Only the form's string values (antd hands back undefined for untouched fields). */
function valuesOf(all: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FIELDS) if (typeof all[k] === "string" && all[k]) out[k] = all[k];
  return out;
}

/**
 * 客服消息: pick users whose 48-hour window is open (or type openids) and send them a text,
 * link card or mini-program card, one request per user, with each outcome shown. What is typed
 * is kept as the account's draft until it has gone to everyone or is cleared.
 */
export function CustomTab({ appid }: { appid: string }) {
  const draftStore = useComposerDraft("custom", appid);
  if (!draftStore.ready) return <Spin />;
  return <CustomForm appid={appid} drafts={draftStore} />;
}

function CustomForm({ appid, drafts }: { appid: string; drafts: ComposerDraft }) {
  const { t, i18n } = useTranslation();
  const english = isEnglish(i18n.language);
  const { message: toast } = App.useApp();
  const [start] = useState(() => fillOf(drafts.latest?.body));
  const [kind, setKind] = useState<Kind>(start.kind);
  const [busy, setBusy] = useState(false);
  const [recipients, setRecipients] = useState<string[]>(start.recipients);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [cover, setCover] = useState<Cover | null>(start.cover);
  const [values, setValues] = useState<Record<string, string>>(start.values);
  const [form] = Form.useForm();
  const fill: Fill = { kind, values, recipients, cover };
  const typed = hasContent(fill);
  const fillKey = JSON.stringify(fill);
  const { track } = drafts;
  useEffect(() => {
    track(NO_TEMPLATE, typed ? fillKey : null);
  }, [typed, fillKey, track]);
  const clearAll = () => {
    setKind("text");
    setRecipients([]);
    setCover(null);
    setValues({});
    form.setFieldsValue(Object.fromEntries(FIELDS.map((k) => [k, undefined])));
    void drafts.clear(NO_TEMPLATE);
    toast.success(t("send.draft.cleared"));
  };
  const open = useOpenInteractions(appid);
  const openRows = open.data?.pages.flatMap((p) => p.rows) ?? [];
  const openSet = new Set(openRows.map((r) => r.openid));
  // Only judge typed openids against a complete list: a later page may hold them.
  const outside = open.data && !open.hasNextPage ? recipients.filter((o) => !openSet.has(o)) : [];

  const onTicked = (ticked: string[], shown: Set<string>) => {
    const typed = recipients.filter((o) => !shown.has(o));
    setRecipients([...typed, ...ticked.filter((o) => !typed.includes(o))]);
  };

  // Customer-service sends return no msgid; show one only if WeChat gave it.
  const sentText = (msgid: string | null) =>
    msgid == null ? t("interactions.resultOk") : `${t("interactions.resultOk")} (msgid ${msgid})`;
  const failedText = (r: TestSendResult) =>
    [stateLabel(t, r.state), r.errcode ?? "", rowHint(t, r, english) ?? ""].join(" ").trim();

  const onCover = (c: Cover) => {
    setCover(c);
    form.setFieldValue("thumb", c.media_id);
    setValues(valuesOf(form.getFieldsValue(true)));
  };

  const submit = async (v: Record<string, string>) => {
    if (recipients.length === 0) return;
    setBusy(true);
    setOutcomes([]);
    const done: Outcome[] = [];
    try {
      // WeChat forgets a cover after 3 days: the one uploaded here goes up again first.
      if (kind === "mini" && cover && v.thumb === cover.media_id && coverExpired(cover)) {
        try {
          const fresh = await uploadCover(appid, cover.path);
          onCover(fresh);
          v = { ...v, thumb: fresh.media_id };
          toast.info(t("send.custom.coverReuploaded"));
        } catch (e) {
          toast.error(e instanceof Error ? e.message : String(e));
          return;
        }
      }
      const msg = message(kind, v);
      // One request at a time, in order, so the outcomes fill in as they come back.
      for (const openid of recipients) {
        try {
          const r = await composeApi.customSend(appid, openid, msg);
          const ok = r.state === "sent";
          done.push({ openid, ok, detail: ok ? sentText(r.msgid) : failedText(r) });
        } catch (e) {
          done.push({ openid, ok: false, detail: e instanceof Error ? e.message : String(e) });
        }
        setOutcomes([...done]);
      }
      const failed = done.filter((o) => !o.ok).length;
      // Gone to everyone: no longer a draft (it stays on screen to send to others). With
      // failures it is kept, to try those again.
      if (failed === 0) await drafts.clear(NO_TEMPLATE);
      const summary = t("interactions.resultTitle", { ok: done.length - failed, failed });
      if (failed === 0) toast.success(summary);
      else toast.warning(summary);
    } finally {
      setBusy(false);
    }
  };

  const failed = outcomes.filter((o) => !o.ok).length;
  return (
    <>
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 16 }}
        title={t("interactions.windowRules")}
        description={
          <>
            <div>{t("interactions.e45015")}</div>
            <div>{t("interactions.e45047")}</div>
          </>
        }
      />
      <InteractionsTable appid={appid} selected={recipients} onSelect={onTicked} />
      <div style={{ maxWidth: 640 }}>
        <DraftBar
          testId="custom-draft"
          savedAt={drafts.savedAt}
          error={drafts.error}
          hasContent={typed}
          clears={t("send.draft.clearsCustom")}
          onClear={clearAll}
        />
      </div>
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        style={{ maxWidth: 640 }}
        initialValues={start.values}
        onValuesChange={() => setValues(valuesOf(form.getFieldsValue(true)))}
      >
        <Form.Item
          label={t("interactions.recipients")}
          help={t("interactions.recipientsHelp")}
          required
        >
          <div data-testid="custom-recipients">
            <Select
              mode="tags"
              value={recipients}
              onChange={(vals: string[]) => setRecipients(splitOpenids(vals))}
              tokenSeparators={[",", " ", "\n", "，", ";", "；"]}
              placeholder={t("interactions.recipientsPlaceholder")}
              options={openRows.map((r) => ({
                value: r.openid,
                label: r.remark
                  ? english
                    ? `${r.remark} (${r.openid})`
                    : `${r.remark}（${r.openid}）`
                  : r.openid,
              }))}
              maxTagCount={8}
            />
          </div>
        </Form.Item>
        {outside.length > 0 && (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 16 }}
            title={t("interactions.notInWindow", { count: outside.length })}
            description={outside.join(english ? ", " : "、")}
          />
        )}
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
        {kind === "text" && (
          <Form.Item name="content" label={t("send.custom.content")} rules={[{ required: true }]}>
            <Input.TextArea rows={4} showCount maxLength={2048} data-testid="custom-content" />
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
            <Form.Item label={t("send.custom.cover")} required>
              <CoverUpload appid={appid} cover={cover} onUploaded={onCover} />
            </Form.Item>
            <Form.Item
              name="thumb"
              label={t("send.custom.thumb")}
              help={t("send.custom.thumbHelp")}
              rules={[{ required: true, message: t("send.custom.thumbRequired") }]}
            >
              <Input data-testid="custom-thumb" />
            </Form.Item>
          </>
        )}
        <Button
          type="primary"
          htmlType="submit"
          loading={busy}
          disabled={recipients.length === 0}
          data-testid="custom-send"
        >
          {recipients.length > 0
            ? t("interactions.sendTo", { count: recipients.length })
            : t("send.custom.send")}
        </Button>
      </Form>
      {outcomes.length > 0 && (
        <List
          data-testid="custom-results"
          style={{ marginTop: 16, maxWidth: 640 }}
          size="small"
          bordered
          header={t("interactions.resultTitle", { ok: outcomes.length - failed, failed })}
          dataSource={outcomes}
          renderItem={(o) => (
            <List.Item>
              <div>
                <Typography.Text code>{o.openid}</Typography.Text>
                <div>
                  <Typography.Text type={o.ok ? "success" : "danger"}>{o.detail}</Typography.Text>
                </div>
              </div>
            </List.Item>
          )}
        />
      )}
    </>
  );
}
