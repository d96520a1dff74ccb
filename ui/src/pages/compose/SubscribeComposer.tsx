import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Form,
  Input,
  Row,
  Segmented,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Typography,
} from "antd";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { pickSpreadsheet, useLists } from "../../api/audience";
import {
  messagingApi,
  type Receiver,
  type SubscribeDraft,
  useReceivers,
  useSubscribeReach,
  useSubscribeTemplates,
  useSyncSubscribeTemplates,
} from "../../api/messaging";
import type { Jump, RecipientSource } from "../../api/send";
import { isEnglish } from "../jobs/labels";
import { keywordRule } from "../templates/keywordRules";
import { DraftBar } from "./DraftBar";
import { type ComposerDraft, num, oneOf, str, strMap, useComposerDraft } from "./useComposerDraft";
import { useDebounced } from "./useDebounced";

type RecKind = "receiver" | "list" | "file";

/** What a subscription template's draft holds (the template id is the draft's key). */
interface Fill {
  data: Record<string, string>;
  jumpKind: Jump["type"];
  page: string;
  miniAppid: string;
  miniPage: string;
  recKind: RecKind;
  openid?: string;
  listId?: number;
  filePath?: string;
}

function fillOf(body: unknown): Fill {
  return {
    data: strMap(body, "data"),
    jumpKind: oneOf(str(body, "jumpKind"), ["none", "url", "mini"] as const, "none"),
    page: str(body, "page"),
    miniAppid: str(body, "miniAppid"),
    miniPage: str(body, "miniPage"),
    recKind: oneOf(str(body, "recKind"), ["receiver", "list", "file"] as const, "receiver"),
    openid: str(body, "openid") || undefined,
    listId: num(body, "listId"),
    filePath: str(body, "filePath") || undefined,
  };
}

function hasContent(f: Fill): boolean {
  return (
    Object.values(f.data).some((v) => v.trim() !== "") ||
    f.jumpKind !== "none" ||
    f.openid !== undefined ||
    f.listId !== undefined ||
    f.filePath !== undefined
  );
}

/** 订阅通知, once the account's drafts are read (it opens on the one typed in last). */
export function SubscribeComposer({ appid }: { appid: string }) {
  const draftStore = useComposerDraft("subscribe", appid);
  if (!draftStore.ready) {
    return (
      <Card>
        <Spin />
      </Card>
    );
  }
  return <SubscribeForm appid={appid} drafts={draftStore} />;
}

/**
 * 订阅通知: a subscription template's values, where it opens, and recipients — picked among
 * the users who can receive it now, or a list / file of which only those who can receive it
 * are sent to (the others would get 43101 and are left out before sending).
 */
function SubscribeForm({ appid, drafts }: { appid: string; drafts: ComposerDraft }) {
  const { t, i18n } = useTranslation();
  const sep = isEnglish(i18n.language) ? ", " : "、";
  const { message } = App.useApp();
  const navigate = useNavigate();
  const templates = useSubscribeTemplates(appid);
  const sync = useSyncSubscribeTemplates(appid);
  const lists = useLists(appid);
  const [start] = useState(() => fillOf(drafts.latest?.body));
  const [templateId, setTemplateId] = useState<string | undefined>(drafts.latest?.templateId);
  const [data, setData] = useState<Record<string, string>>(start.data);
  const [jumpKind, setJumpKind] = useState<Jump["type"]>(start.jumpKind);
  const [page, setPage] = useState(start.page);
  const [miniAppid, setMiniAppid] = useState(start.miniAppid);
  const [miniPage, setMiniPage] = useState(start.miniPage);
  const [recKind, setRecKind] = useState<RecKind>(start.recKind);
  const [openid, setOpenid] = useState<string | undefined>(start.openid);
  const [listId, setListId] = useState<number | undefined>(start.listId);
  const [filePath, setFilePath] = useState<string | undefined>(start.filePath);
  const [sending, setSending] = useState(false);
  const fill: Fill = {
    data,
    jumpKind,
    page,
    miniAppid,
    miniPage,
    recKind,
    openid,
    listId,
    filePath,
  };
  const load = (f: Fill) => {
    setData(f.data);
    setJumpKind(f.jumpKind);
    setPage(f.page);
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
  const template = templates.data?.find((x) => x.template_id === templateId);
  const gone = templates.data !== undefined && templateId !== undefined && !template;
  useEffect(() => {
    if (gone) setTemplateId(undefined);
  }, [gone]);
  const receivers = useReceivers(appid, templateId);
  const jump: Jump =
    jumpKind === "url"
      ? { type: "url", url: page }
      : jumpKind === "mini"
        ? { type: "mini", appid: miniAppid, pagepath: miniPage }
        : { type: "none" };
  const draft: SubscribeDraft | null = template
    ? { appid, template_id: template.template_id, title: "", data, jump }
    : null;
  const source: RecipientSource | null =
    recKind === "receiver"
      ? openid
        ? { type: "openid", openid }
        : null
      : recKind === "list"
        ? listId !== undefined
          ? { type: "list", list_id: listId }
          : null
        : filePath
          ? { type: "file", path: filePath }
          : null;
  const key = useDebounced(JSON.stringify({ draft, source }), 300);
  const debounced = useMemo(
    () => JSON.parse(key) as { draft: SubscribeDraft | null; source: RecipientSource | null },
    [key],
  );
  const reach = useSubscribeReach(debounced.draft, debounced.source);
  const complete = template?.fields.every((f) => (data[f.key] ?? "").trim() !== "") ?? false;

  const pickFile = async () => {
    const p = await pickSpreadsheet(t("audience.create.fileDialogTitle"));
    if (p) setFilePath(p);
  };
  const send = async () => {
    if (!draft || !source) return;
    if (!complete) {
      message.warning(t("messaging.compose.fieldMissing"));
      return;
    }
    setSending(true);
    try {
      const r = await messagingApi.sendSubscribe(draft, source);
      // Sent: the job holds it now; a kept draft would only invite sending it twice.
      await drafts.clear(draft.template_id);
      message.success(
        r.refused_count > 0
          ? t("messaging.compose.startedRefused", {
              id: r.job_id,
              n: r.sent_to,
              refused: r.refused_count,
            })
          : t("messaging.compose.started", { id: r.job_id, n: r.sent_to }),
      );
      navigate("/jobs");
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  if (templates.data && templates.data.length === 0) {
    return (
      <Card>
        <Empty description={t("messaging.compose.noTemplates")}>
          <Space>
            <Button
              loading={sync.isPending}
              onClick={() =>
                sync.mutate(undefined, { onError: (e) => void message.error(e.message) })
              }
              data-testid="subscribe-compose-sync"
            >
              {t("messaging.subscribe.sync")}
            </Button>
            <Button type="primary" onClick={() => navigate("/templates")}>
              {t("pages.templates.title")}
            </Button>
          </Space>
        </Empty>
      </Card>
    );
  }
  const receiverRows = receivers.data?.receivers ?? [];
  return (
    <Row gutter={16}>
      <Col span={14}>
        <Card>
          <Form layout="vertical" data-testid="subscribe-form">
            {(templateId || drafts.error) && (
              <DraftBar
                testId="subscribe-draft"
                savedAt={drafts.savedAt}
                error={drafts.error}
                hasContent={typed}
                clears={t("send.draft.clearsSubscribe")}
                onClear={() => {
                  if (!templateId) return;
                  load(fillOf(undefined));
                  void drafts.clear(templateId);
                  message.success(t("send.draft.cleared"));
                }}
              />
            )}
            <Form.Item label={t("messaging.compose.template")} required>
              <Select
                data-testid="subscribe-template"
                placeholder={t("messaging.compose.templatePlaceholder")}
                value={templateId}
                onChange={(v) => {
                  setTemplateId(v);
                  const saved = drafts.get(v);
                  if (saved !== undefined) load(fillOf(saved));
                  else {
                    setData({});
                    setOpenid(undefined);
                  }
                }}
                options={(templates.data ?? []).map((x) => ({
                  value: x.template_id,
                  label: `${x.title} · ${t(`messaging.subscribe.kinds.${x.kind}`)}`,
                }))}
              />
            </Form.Item>
            {template?.fields.map((f) => {
              const r = keywordRule(t, f.kind);
              return (
                <Form.Item
                  key={f.key}
                  required
                  label={
                    <Space>
                      {f.label || f.key}
                      <Tag color={r.color} title={r.rule}>
                        {r.kind}
                      </Tag>
                    </Space>
                  }
                  extra={r.rule}
                >
                  <Input
                    data-testid={`subscribe-field-${f.key}`}
                    value={data[f.key] ?? ""}
                    onChange={(e) => setData((d) => ({ ...d, [f.key]: e.target.value }))}
                  />
                </Form.Item>
              );
            })}
            <Form.Item label={t("messaging.compose.jump")}>
              <Space direction="vertical" style={{ width: "100%" }}>
                <Segmented<Jump["type"]>
                  value={jumpKind}
                  onChange={setJumpKind}
                  options={[
                    { value: "none", label: t("messaging.compose.jumpNone") },
                    { value: "url", label: t("messaging.compose.jumpPage") },
                    { value: "mini", label: t("messaging.compose.jumpMini") },
                  ]}
                />
                {jumpKind === "url" && (
                  <Input
                    placeholder={t("messaging.compose.page")}
                    value={page}
                    onChange={(e) => setPage(e.target.value)}
                  />
                )}
                {jumpKind === "mini" && (
                  <>
                    <Space.Compact style={{ width: "100%" }}>
                      <Input
                        style={{ width: "40%" }}
                        data-testid="subscribe-mini-appid"
                        placeholder={t("messaging.compose.miniAppid")}
                        value={miniAppid}
                        onChange={(e) => setMiniAppid(e.target.value)}
                      />
                      <Input
                        data-testid="subscribe-mini-page"
                        placeholder={t("messaging.compose.miniPage")}
                        value={miniPage}
                        onChange={(e) => setMiniPage(e.target.value)}
                      />
                    </Space.Compact>
                    <Typography.Text type="secondary">
                      {t("messaging.compose.miniHint")}
                    </Typography.Text>
                  </>
                )}
              </Space>
            </Form.Item>
            <Form.Item label={t("messaging.compose.recipients")} required>
              <Space direction="vertical" style={{ width: "100%" }}>
                <Segmented<RecKind>
                  value={recKind}
                  onChange={setRecKind}
                  options={[
                    { value: "receiver", label: t("messaging.compose.recReceivers") },
                    { value: "list", label: t("messaging.compose.recList") },
                    { value: "file", label: t("messaging.compose.recFile") },
                  ]}
                />
                {recKind === "list" && (
                  <Select
                    value={listId}
                    onChange={setListId}
                    options={(lists.data ?? []).map((l) => ({ value: l.id, label: l.name }))}
                  />
                )}
                {recKind === "file" && (
                  <Space>
                    <Button onClick={() => void pickFile()}>
                      {t("messaging.compose.recFile")}
                    </Button>
                    <Typography.Text>{filePath ?? ""}</Typography.Text>
                  </Space>
                )}
              </Space>
            </Form.Item>
            {reach.data && (
              <Alert
                data-testid="subscribe-reach"
                type={reach.data.refused_count > 0 ? "warning" : "success"}
                showIcon
                style={{ marginBottom: 16 }}
                title={
                  reach.data.refused_count > 0
                    ? t("messaging.compose.reach", {
                        allowed: reach.data.allowed,
                        refused: reach.data.refused_count,
                      })
                    : t("messaging.compose.reachAll", { allowed: reach.data.allowed })
                }
                description={
                  reach.data.refused.length > 0 ? (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {t("messaging.compose.refusedList")}:{" "}
                      {reach.data.refused.slice(0, 10).join(sep)}
                    </Typography.Text>
                  ) : undefined
                }
              />
            )}
            {reach.error && (
              <Alert
                type="error"
                showIcon
                title={(reach.error as Error).message}
                style={{ marginBottom: 16 }}
              />
            )}
            <Button
              type="primary"
              data-testid="subscribe-send"
              loading={sending}
              disabled={!draft || !source || (reach.data?.allowed ?? 1) === 0}
              onClick={() => void send()}
            >
              {t("messaging.compose.send")}
            </Button>
          </Form>
        </Card>
      </Col>
      <Col span={10}>
        <Card
          size="small"
          data-testid="subscribe-receivers"
          title={t("messaging.compose.receiversTitle", { n: receivers.data?.total ?? 0 })}
        >
          <Table<Receiver>
            rowKey="openid"
            size="small"
            pagination={{ pageSize: 10 }}
            dataSource={receiverRows}
            locale={{ emptyText: t("messaging.compose.receiversEmpty") }}
            rowSelection={{
              type: "radio",
              selectedRowKeys: recKind === "receiver" && openid ? [openid] : [],
              onChange: (keys) => {
                setRecKind("receiver");
                setOpenid(String(keys[0]));
              },
            }}
            columns={[
              {
                title: "openid",
                dataIndex: "openid",
                ellipsis: true,
                render: (o: string) => <span data-testid={`receiver-${o}`}>{o}</span>,
              },
              {
                key: "left",
                width: 90,
                render: (_: unknown, r: Receiver) =>
                  r.remaining > 0
                    ? t("messaging.compose.remaining", { n: r.remaining })
                    : t("messaging.compose.longTerm"),
              },
            ]}
          />
        </Card>
      </Col>
    </Row>
  );
}
