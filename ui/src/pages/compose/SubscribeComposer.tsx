import { open } from "@tauri-apps/plugin-dialog";
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
  Table,
  Tag,
  Typography,
} from "antd";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useLists } from "../../api/audience";
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
import { keywordRule } from "../templates/keywordRules";
import { useDebounced } from "./useDebounced";

type RecKind = "receiver" | "list" | "file";

/**
 * 订阅通知: a subscription template's values, where it opens, and recipients — picked among
 * the users who can receive it now, or a list / file of which only those who can receive it
 * are sent to (the others would get 43101 and are left out before sending).
 */
export function SubscribeComposer({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const templates = useSubscribeTemplates(appid);
  const sync = useSyncSubscribeTemplates(appid);
  const lists = useLists(appid);
  const [templateId, setTemplateId] = useState<string>();
  const [data, setData] = useState<Record<string, string>>({});
  const [jumpKind, setJumpKind] = useState<Jump["type"]>("none");
  const [page, setPage] = useState("");
  const [miniAppid, setMiniAppid] = useState("");
  const [miniPage, setMiniPage] = useState("");
  const [recKind, setRecKind] = useState<RecKind>("receiver");
  const [openid, setOpenid] = useState<string>();
  const [listId, setListId] = useState<number>();
  const [filePath, setFilePath] = useState<string>();
  const [sending, setSending] = useState(false);
  const template = templates.data?.find((x) => x.template_id === templateId);
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
    const p = await open({
      multiple: false,
      filters: [{ name: "CSV / XLSX", extensions: ["csv", "txt", "xlsx"] }],
    });
    if (typeof p === "string") setFilePath(p);
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
            <Form.Item label={t("messaging.compose.template")} required>
              <Select
                data-testid="subscribe-template"
                placeholder={t("messaging.compose.templatePlaceholder")}
                value={templateId}
                onChange={(v) => {
                  setTemplateId(v);
                  setData({});
                  setOpenid(undefined);
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
                      {reach.data.refused.slice(0, 10).join("、")}
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
