// 新建批量发版: a template and version, how far to take each client (体验版 / 过审 / 发布), the
// clients (chosen mini programs, or a CSV/XLSX table whose columns become ext.json values), a
// base ext.json — then a preview of every client's ext.json, and only then the start.
import { FileExcelOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  Drawer,
  Flex,
  Form,
  Input,
  Radio,
  Select,
  Table,
  Typography,
} from "antd";
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type Mini,
  type PlannedRow,
  pickClientTable,
  type RolloutForm,
  type RolloutTarget,
  useLibrary,
  useRolloutPlan,
  useStartNewRollout,
} from "../../api/code";
import { templateLabel } from "./CommitModal";
import { ExtJsonEditor } from "./ExtJsonEditor";
import { checkExtJson } from "./extJson";
import { CodeErrorAlert, MiniName } from "./labels";

const BASE_EXT = JSON.stringify({ extEnable: true, ext: {} }, null, 2);
const TARGETS: RolloutTarget[] = ["committed", "audited", "released"];

interface Props {
  /** The mini programs chosen in the table; `null` keeps the drawer closed. */
  appids: string[] | null;
  minis: Mini[];
  names: ReadonlyMap<string, string>;
  onClose: () => void;
  onStarted: (id: number) => void;
}

export function RolloutDrawer({ appids, minis, names, onClose, onStarted }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const library = useLibrary();
  const plan = useRolloutPlan();
  const start = useStartNewRollout();
  const [templateId, setTemplateId] = useState<number | null>(null);
  const [version, setVersion] = useState("");
  const [desc, setDesc] = useState("");
  const [target, setTarget] = useState<RolloutTarget>("released");
  const [source, setSource] = useState<"picked" | "table">("picked");
  const [picked, setPicked] = useState<string[]>([]);
  const [tablePath, setTablePath] = useState<string | null>(null);
  const [ext, setExt] = useState(BASE_EXT);
  const [auditDesc, setAuditDesc] = useState("");
  const [preview, setPreview] = useState<PlannedRow[] | null>(null);
  const templates = library.data?.templates ?? [];
  const planRef = useRef<HTMLDivElement>(null);
  // The preview is below the form: bring it into view once it is there.
  useEffect(() => {
    if (preview) planRef.current?.scrollIntoView({ behavior: "smooth", block: "start" });
  }, [preview]);

  useEffect(() => {
    if (appids === null) return;
    setPicked(appids);
    setSource("picked");
    setPreview(null);
    plan.reset();
    start.reset();
  }, [appids, plan.reset, start.reset]);

  const form: RolloutForm | null = useMemo(() => {
    if (templateId === null || version.trim() === "") return null;
    if (source === "picked" ? picked.length === 0 : !tablePath) return null;
    return {
      template_id: templateId,
      user_version: version.trim(),
      user_desc: desc,
      target,
      base_ext_json: ext,
      clients:
        source === "picked"
          ? { kind: "appids", appids: picked }
          : { kind: "table", path: tablePath ?? "" },
      audit: { items: [], version_desc: auditDesc.trim(), privacy_api_not_use: null },
    };
  }, [templateId, version, desc, target, ext, source, picked, tablePath, auditDesc]);
  // Whatever changes, the preview no longer shows what would start.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the form is the trigger
  useEffect(() => setPreview(null), [form]);

  const extOk = checkExtJson(ext).ok;
  const pickTemplate = (id: number) => {
    const tpl = templates.find((x) => x.template_id === id);
    setTemplateId(id);
    if (tpl) {
      setVersion(tpl.user_version);
      setDesc(tpl.user_desc);
    }
  };
  const chooseFile = async () => {
    const p = await pickClientTable(t("code.rollout.tableTitle"));
    if (p) setTablePath(p);
  };
  const runPlan = () => form && plan.mutate(form, { onSuccess: setPreview });
  const runStart = () =>
    form &&
    start.mutate(form, {
      onSuccess: (id) => {
        message.success(t("code.rollout.started", { id }));
        onStarted(id);
      },
    });

  return (
    <Drawer
      open={appids !== null}
      onClose={onClose}
      size={760}
      title={t("code.rollout.title")}
      destroyOnHidden
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>{t("code.cancel")}</Button>
          <Button
            data-testid="rollout-preview"
            disabled={!form || !extOk}
            loading={plan.isPending}
            onClick={runPlan}
          >
            {t("code.rollout.preview")}
          </Button>
          <Button
            type="primary"
            data-testid="rollout-start"
            disabled={!preview || !form}
            loading={start.isPending}
            onClick={runStart}
          >
            {preview ? t("code.rollout.startN", { n: preview.length }) : t("code.rollout.start")}
          </Button>
        </Flex>
      }
    >
      <Form layout="vertical" requiredMark={false}>
        <Form.Item label={t("code.commit.template")} required>
          <Select
            data-testid="rollout-template"
            value={templateId ?? undefined}
            onChange={pickTemplate}
            loading={library.isPending}
            placeholder={t("code.commit.templatePlaceholder")}
            options={templates.map((tpl) => ({
              value: tpl.template_id,
              label: templateLabel(tpl),
            }))}
            notFoundContent={t("code.library.noTemplates")}
          />
        </Form.Item>
        {library.error && <CodeErrorAlert error={library.error} />}
        <Flex gap={12}>
          <Form.Item label={t("code.commit.version")} required style={{ flex: 1 }}>
            <Input
              data-testid="rollout-version"
              value={version}
              maxLength={64}
              onChange={(e) => setVersion(e.target.value)}
            />
          </Form.Item>
          <Form.Item label={t("code.commit.desc")} style={{ flex: 2 }}>
            <Input value={desc} onChange={(e) => setDesc(e.target.value)} />
          </Form.Item>
        </Flex>
        <Form.Item label={t("code.rollout.target")}>
          <Radio.Group
            data-testid="rollout-target"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            optionType="button"
            options={TARGETS.map((x) => ({ value: x, label: t(`code.target.${x}`) }))}
          />
        </Form.Item>
        <Form.Item label={t("code.rollout.clients")}>
          <Radio.Group
            value={source}
            onChange={(e) => setSource(e.target.value)}
            options={[
              { value: "picked", label: t("code.rollout.picked") },
              { value: "table", label: t("code.rollout.table") },
            ]}
          />
        </Form.Item>
        {source === "picked" ? (
          <Form.Item>
            <Select
              data-testid="rollout-minis"
              mode="multiple"
              value={picked}
              onChange={setPicked}
              optionFilterProp="label"
              options={minis.map((m) => ({
                value: m.appid,
                label: `${m.nickname || m.appid} (${m.appid})`,
              }))}
            />
          </Form.Item>
        ) : (
          <Form.Item extra={t("code.rollout.tableHelp")}>
            <Flex gap={8} align="center">
              <Button icon={<FileExcelOutlined />} onClick={() => void chooseFile()}>
                {t("code.rollout.chooseTable")}
              </Button>
              <Typography.Text type="secondary" ellipsis style={{ maxWidth: 460 }}>
                {tablePath ?? t("code.rollout.noTable")}
              </Typography.Text>
            </Flex>
          </Form.Item>
        )}
        <Form.Item label={t("code.rollout.baseExt")} extra={t("code.rollout.baseExtHelp")}>
          <ExtJsonEditor value={ext} onChange={setExt} rows={6} testid="rollout-ext" />
        </Form.Item>
        {target !== "committed" && (
          <Form.Item label={t("code.audit.versionDesc")} extra={t("code.rollout.auditHelp")}>
            <Input value={auditDesc} onChange={(e) => setAuditDesc(e.target.value)} />
          </Form.Item>
        )}
      </Form>
      {plan.error && <CodeErrorAlert error={plan.error} />}
      {start.error && <CodeErrorAlert error={start.error} />}
      {preview && (
        <Flex vertical gap={8} data-testid="rollout-plan" ref={planRef}>
          <Alert
            type="info"
            showIcon
            title={t("code.rollout.previewTitle", { n: preview.length, version: version.trim() })}
            description={t(`code.rollout.previewTarget.${target}`)}
          />
          <Table<PlannedRow>
            rowKey="appid"
            size="small"
            dataSource={preview}
            pagination={preview.length > 10 ? { pageSize: 10 } : false}
            columns={[
              {
                title: t("code.minis.colName"),
                key: "name",
                width: 200,
                render: (_, r) => <MiniName appid={r.appid} name={names.get(r.appid) ?? r.appid} />,
              },
              {
                title: t("code.rollout.colLine"),
                dataIndex: "line",
                width: 64,
                render: (l: number) => (l > 0 ? l : "—"),
              },
              {
                title: "ext.json",
                dataIndex: "ext_json",
                render: (x: string) => (
                  <Typography.Text code style={{ fontSize: 12, wordBreak: "break-all" }}>
                    {x}
                  </Typography.Text>
                ),
              },
            ]}
          />
        </Flex>
      )}
    </Drawer>
  );
}
