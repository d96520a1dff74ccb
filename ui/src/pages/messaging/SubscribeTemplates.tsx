import { CloudSyncOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Flex,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Table,
  type TableColumnsType,
  Tag,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type SubscribeTemplate,
  useAddSubscribeTemplate,
  useDeleteSubscribeTemplate,
  useReceivers,
  useSubscribeCategories,
  useSubscribeKeywords,
  useSubscribeLibrary,
  useSubscribeTemplates,
  useSyncSubscribeTemplates,
} from "../../api/messaging";
import { keywordRule } from "../templates/keywordRules";

function ReceiverCount({ appid, templateId }: { appid: string; templateId: string }) {
  const { t } = useTranslation();
  const r = useReceivers(appid, templateId);
  return <span>{r.data ? t("messaging.subscribe.receiversN", { n: r.data.total }) : "…"}</span>;
}

/** 模板 → 订阅通知模板: the account's chosen templates, chosen from the library, deleted. */
export function SubscribeTemplates({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const list = useSubscribeTemplates(appid);
  const sync = useSyncSubscribeTemplates(appid);
  const del = useDeleteSubscribeTemplate(appid);
  const [adding, setAdding] = useState(false);
  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));
  const columns: TableColumnsType<SubscribeTemplate> = [
    {
      title: t("messaging.subscribe.colTitle"),
      key: "title",
      width: 160,
      render: (_, x) => (
        <Flex vertical>
          <Typography.Text strong>{x.title}</Typography.Text>
          <Typography.Text
            type="secondary"
            copyable={{ text: x.template_id }}
            style={{ fontSize: 12 }}
          >
            {x.template_id.slice(0, 12)}…
          </Typography.Text>
        </Flex>
      ),
    },
    {
      title: t("messaging.subscribe.colKind"),
      key: "kind",
      width: 110,
      render: (_, x) => (
        <Tag color={x.kind === "long_term" ? "purple" : "blue"}>
          {t(`messaging.subscribe.kinds.${x.kind}`)}
        </Tag>
      ),
    },
    {
      title: t("messaging.subscribe.colContent"),
      key: "content",
      render: (_, x) => (
        <Flex wrap gap={4}>
          {x.fields.map((f) => {
            const r = keywordRule(t, f.kind);
            return (
              <Tag key={f.key} color={r.color} title={r.rule}>
                {f.label} · {f.key}
              </Tag>
            );
          })}
        </Flex>
      ),
    },
    {
      title: t("messaging.subscribe.colReceivers"),
      key: "receivers",
      width: 100,
      render: (_, x) => <ReceiverCount appid={appid} templateId={x.template_id} />,
    },
    {
      key: "actions",
      width: 80,
      render: (_, x) => (
        <Popconfirm
          title={t("messaging.subscribe.deleteConfirm", { title: x.title })}
          onConfirm={() =>
            del.mutate(x.template_id, {
              onSuccess: () => void message.success(t("messaging.subscribe.deleted")),
              onError: fail,
            })
          }
        >
          <Button type="link" size="small" danger icon={<DeleteOutlined />}>
            {t("messaging.subscribe.delete")}
          </Button>
        </Popconfirm>
      ),
    },
  ];
  return (
    <Card
      title={t("messaging.subscribe.title")}
      data-testid="subscribe-templates"
      extra={
        <Flex gap={8}>
          <Button
            icon={<CloudSyncOutlined />}
            loading={sync.isPending}
            data-testid="subscribe-templates-sync"
            onClick={() =>
              sync.mutate(undefined, {
                onSuccess: (l) =>
                  void message.success(t("messaging.subscribe.synced", { n: l.length })),
                onError: fail,
              })
            }
          >
            {t("messaging.subscribe.sync")}
          </Button>
          <Button icon={<PlusOutlined />} onClick={() => setAdding(true)}>
            {t("messaging.subscribe.add")}
          </Button>
        </Flex>
      }
    >
      <Typography.Paragraph type="secondary">{t("messaging.subscribe.help")}</Typography.Paragraph>
      {list.error && <Alert type="error" showIcon title={(list.error as Error).message} />}
      <Table<SubscribeTemplate>
        rowKey="template_id"
        size="small"
        loading={list.isPending}
        columns={columns}
        dataSource={list.data ?? []}
        pagination={false}
        locale={{ emptyText: t("messaging.subscribe.empty") }}
      />
      {adding && <AddSubscribeTemplateModal appid={appid} onClose={() => setAdding(false)} />}
    </Card>
  );
}

/** Category → library template → 2–5 keywords in order → scene description. */
function AddSubscribeTemplateModal({ appid, onClose }: { appid: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [category, setCategory] = useState<number | null>(null);
  const [tid, setTid] = useState<string>();
  const [kids, setKids] = useState<number[]>([]);
  const [scene, setScene] = useState("");
  const cats = useSubscribeCategories(appid, true);
  const lib = useSubscribeLibrary(appid, category === null ? [] : [category], 0, true);
  const kws = useSubscribeKeywords(appid, tid);
  const add = useAddSubscribeTemplate(appid);
  const sceneOk = scene.trim().length > 0 && [...scene.trim()].length <= 15;
  const kidsOk = kids.length >= 2 && kids.length <= 5;
  const submit = () =>
    tid &&
    add.mutate(
      { tid, kids, scene: scene.trim() },
      {
        onSuccess: (x) => {
          message.success(t("messaging.subscribe.added", { title: x.title }));
          onClose();
        },
        onError: (e) => void message.error(e.message),
      },
    );
  return (
    <Modal
      open
      onCancel={onClose}
      title={t("messaging.subscribe.addTitle")}
      onOk={submit}
      okButtonProps={{ disabled: !tid || !kidsOk || !sceneOk, loading: add.isPending }}
    >
      <Form layout="vertical">
        <Form.Item label={t("messaging.subscribe.category")}>
          <Select
            value={category}
            onChange={(v) => {
              setCategory(v);
              setTid(undefined);
              setKids([]);
            }}
            options={[
              { value: null, label: t("messaging.subscribe.allCategories") },
              ...(cats.data ?? []).map((c) => ({ value: c.id, label: c.name })),
            ]}
          />
        </Form.Item>
        <Form.Item label={t("messaging.subscribe.libraryTemplate")} required>
          <Select
            showSearch
            optionFilterProp="label"
            loading={lib.isFetching}
            value={tid}
            onChange={(v) => {
              setTid(v);
              setKids([]);
            }}
            options={(lib.data?.titles ?? []).map((x) => ({
              value: x.tid,
              label: `${x.title} · ${t(`messaging.subscribe.kinds.${x.kind}`)}`,
            }))}
          />
        </Form.Item>
        {tid && (
          <Form.Item
            label={t("messaging.subscribe.keywords")}
            required
            help={kids.length > 0 && !kidsOk ? t("messaging.subscribe.kidsRule") : undefined}
          >
            <Flex vertical gap={4}>
              {(kws.data ?? []).map((k) => (
                <Checkbox
                  key={k.kid}
                  checked={kids.includes(k.kid)}
                  onChange={(e) =>
                    setKids((old) =>
                      e.target.checked ? [...old, k.kid] : old.filter((x) => x !== k.kid),
                    )
                  }
                >
                  {kids.includes(k.kid) ? `${kids.indexOf(k.kid) + 1}. ` : ""}
                  {k.name}{" "}
                  <Typography.Text type="secondary">
                    ({k.key} · {k.example})
                  </Typography.Text>
                </Checkbox>
              ))}
            </Flex>
          </Form.Item>
        )}
        <Form.Item
          label={t("messaging.subscribe.scene")}
          required
          help={scene && !sceneOk ? t("messaging.subscribe.sceneRule") : undefined}
        >
          <Input value={scene} maxLength={30} onChange={(e) => setScene(e.target.value)} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
