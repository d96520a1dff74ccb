import { FileExcelOutlined } from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Flex,
  Input,
  Statistic,
  Table,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type ImportInput,
  pickSpreadsheet,
  type Unmatched,
  type UnmatchedLine,
  useBridgePreview,
  useBridgeSave,
} from "../../api/audience";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { ConflictsTable, SampleTable } from "./ImportPreview";

/** 小程序用户映射: a mini-program user file → the account's openids through unionid. */
export function BridgeTab({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const [input, setInput] = useState<(ImportInput & { kind: "file" }) | null>(null);
  const [name, setName] = useState("");
  const preview = useBridgePreview(appid);
  const save = useBridgeSave(appid);
  const r = preview.data;

  const choose = async () => {
    const path = await pickSpreadsheet(t("audience.create.fileDialogTitle"));
    if (!path) return;
    const i = { kind: "file" as const, path };
    setInput(i);
    save.reset();
    preview.mutate(i);
  };

  const submit = async () => {
    if (!input || !name.trim()) return;
    await save.mutateAsync({ name: name.trim(), input });
    message.success(t("audience.create.saved", { name: name.trim() }));
    setName("");
  };

  return (
    <Flex vertical gap={12}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("audience.bridge.intro")}
      </Typography.Paragraph>
      <Flex gap={8} align="center">
        <Button
          icon={<FileExcelOutlined />}
          loading={preview.isPending}
          onClick={() => void choose()}
        >
          {t("audience.bridge.choose")}
        </Button>
        {input && (
          <Typography.Text ellipsis style={{ maxWidth: 520 }}>
            {input.path}
          </Typography.Text>
        )}
      </Flex>
      {(preview.error || save.error) && <ErrorAlert error={preview.error ?? save.error} />}
      {r && (
        <Card size="small" data-testid="bridge-report">
          <Flex vertical gap={12}>
            <Flex gap={32} wrap>
              <Statistic title={t("audience.bridge.rows")} value={r.rows_read} />
              <Statistic
                title={t("audience.bridge.matched")}
                value={r.matched}
                styles={{ content: { color: "#389e0d" } }}
                data-testid="bridge-matched"
              />
              <Statistic title={t("audience.bridge.noUnionid")} value={r.no_unionid} />
              <Statistic title={t("audience.bridge.notFollowing")} value={r.not_following} />
              <Statistic title={t("audience.bridge.unsubscribed")} value={r.unsubscribed} />
              <Statistic title={t("audience.bridge.duplicates")} value={r.duplicates_removed} />
            </Flex>
            {r.followers_without_details > 0 && (
              <Alert
                type="warning"
                showIcon
                title={t("audience.bridge.detailsMissing", { count: r.followers_without_details })}
              />
            )}
            {r.unmatched.length > 0 && (
              <div>
                <Typography.Text strong>{t("audience.bridge.unmatchedTitle")}</Typography.Text>
                <Table<UnmatchedLine>
                  size="small"
                  rowKey={(u) => `${u.line}:${u.mini_openid}`}
                  dataSource={r.unmatched}
                  pagination={r.unmatched.length > 5 ? { pageSize: 5, size: "small" } : false}
                  tableLayout="fixed"
                  columns={[
                    { title: "#", dataIndex: "line", width: 60 },
                    {
                      title: t("audience.bridge.miniOpenid"),
                      dataIndex: "mini_openid",
                      width: 240,
                      ellipsis: true,
                    },
                    {
                      title: t("audience.bridge.unionid"),
                      dataIndex: "unionid",
                      width: 220,
                      ellipsis: true,
                    },
                    {
                      title: t("audience.bridge.why"),
                      dataIndex: "why",
                      ellipsis: true,
                      render: (why: Unmatched) => t(`audience.bridge.reason.${why}`),
                    },
                  ]}
                />
              </div>
            )}
            <ConflictsTable
              variables={r.variables}
              count={r.conflicting_count}
              rows={r.conflicting}
              testid="bridge-conflicts"
            />
            {r.sample.length > 0 && <SampleTable variables={r.variables} rows={r.sample} />}
            {r.matched > 0 ? (
              <Flex gap={8} align="center">
                <Typography.Text>{t("audience.bridge.saveTitle")}</Typography.Text>
                <Input
                  style={{ width: 260 }}
                  placeholder={t("audience.create.namePlaceholder")}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
                <Button
                  type="primary"
                  disabled={!name.trim()}
                  loading={save.isPending}
                  onClick={() => void submit().catch(() => undefined)}
                >
                  {t("audience.bridge.save", { count: r.matched })}
                </Button>
              </Flex>
            ) : (
              <Alert type="info" showIcon title={t("audience.bridge.nothing")} />
            )}
          </Flex>
        </Card>
      )}
    </Flex>
  );
}
