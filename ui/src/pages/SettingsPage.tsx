import {
  CheckCircleFilled,
  CloseCircleFilled,
  MinusCircleOutlined,
  SafetyOutlined,
} from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Descriptions,
  Flex,
  Form,
  Input,
  List,
  Radio,
  Skeleton,
  Tag,
  Typography,
} from "antd";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { AppError, useAppInfo } from "../api";
import {
  type CheckStep,
  type PlatformSettingsForm,
  type PlatformSettingsView,
  useCheckConnection,
  useEnsureTicket,
  useSaveSettings,
  useSettings,
} from "../api/shell";
import { useTeamMembership } from "../api/team";
import { ModeBadge } from "../layout/ModeBadge";
import { checkStepText, errorText, ticketText } from "./accounts/labels";
import { BackupCard } from "./backup/BackupCard";
import { PageShell } from "./PageShell";
import { TeamCard } from "./team/TeamCard";

const APPID = /^wx[0-9a-zA-Z]{16}$/;
const AES_KEY = /^[0-9a-zA-Z]{43}$/;

/** A write-only secret: never shown; "已保存在系统钥匙串" when present; typing replaces it. */
function SecretField(props: {
  name: keyof PlatformSettingsForm;
  label: string;
  saved: boolean;
  rules?: { pattern: RegExp; message: string }[];
}) {
  const { t } = useTranslation();
  return (
    <Form.Item
      name={props.name}
      label={props.label}
      extra={
        props.saved ? (
          <Typography.Text type="success" data-testid={`saved-${props.name}`}>
            <SafetyOutlined /> {t("shell.settings.saved")}
          </Typography.Text>
        ) : undefined
      }
      rules={[
        ...(props.saved ? [] : [{ required: true, message: t("shell.settings.required") }]),
        ...(props.rules ?? []),
      ]}
    >
      <Input.Password
        autoComplete="new-password"
        visibilityToggle={false}
        placeholder={props.saved ? t("shell.settings.savedPlaceholder") : ""}
        data-testid={`input-${props.name}`}
      />
    </Form.Item>
  );
}

function StepIcon({ s }: { s: CheckStep }) {
  if (s.skipped) return <MinusCircleOutlined style={{ color: "#999", fontSize: 18 }} />;
  return s.ok ? (
    <CheckCircleFilled style={{ color: "#52c41a", fontSize: 18 }} />
  ) : (
    <CloseCircleFilled style={{ color: "#ff4d4f", fontSize: 18 }} />
  );
}

/** 检测连接 and the start-up ticket message. */
function ConnectionCheck() {
  const { t } = useTranslation();
  const check = useCheckConnection();
  const ticket = useEnsureTicket();
  const { mutate: askTicket } = ticket;
  useEffect(() => askTicket(), [askTicket]);
  return (
    <Card
      title={t("shell.settings.checkTitle")}
      extra={
        <Button
          type="primary"
          data-testid="check-connection"
          loading={check.isPending}
          onClick={() => check.mutate()}
        >
          {t("shell.settings.check")}
        </Button>
      }
    >
      {ticket.data && (
        <Alert
          data-testid="ticket-status"
          style={{ marginBottom: 12 }}
          type={ticket.data.present ? "success" : "info"}
          showIcon
          title={t("shell.settings.ticketTitle")}
          description={ticketText(t, ticket.data)}
        />
      )}
      {ticket.error && (
        <Alert
          style={{ marginBottom: 12 }}
          type="warning"
          showIcon
          title={t("shell.settings.ticketTitle")}
          description={errorText(ticket.error)}
        />
      )}
      {!check.data && (
        <Typography.Text type="secondary">{t("shell.settings.checkHint")}</Typography.Text>
      )}
      {check.data && (
        <List
          data-testid="check-steps"
          dataSource={check.data}
          renderItem={(s) => {
            const text = checkStepText(t, s);
            return (
              <List.Item data-testid="check-step" data-ok={s.ok ? "1" : "0"} data-step={s.step}>
                <List.Item.Meta
                  avatar={<StepIcon s={s} />}
                  title={
                    <Flex gap={8} align="center">
                      <span>{text.name}</span>
                      <Tag color={s.skipped ? "default" : s.ok ? "success" : "error"}>
                        {s.skipped
                          ? t("shell.settings.stepSkipped")
                          : s.ok
                            ? t("shell.settings.stepOk")
                            : t("shell.settings.stepFailed")}
                      </Tag>
                    </Flex>
                  }
                  description={
                    <Flex vertical gap={4}>
                      <span>{text.detail}</span>
                      {text.hint && <Typography.Text type="warning">{text.hint}</Typography.Text>}
                    </Flex>
                  }
                />
              </List.Item>
            );
          }}
        />
      )}
    </Card>
  );
}

function SettingsForm({ view }: { view: PlatformSettingsView }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const save = useSaveSettings();
  const [form] = Form.useForm<PlatformSettingsForm>();
  // The sandbox's own settings are not the user's to edit: start from an empty real platform.
  const initial: Partial<PlatformSettingsForm> =
    view.settings?.mode === "production"
      ? {
          component_appid: view.settings.component_appid,
          relay_url: view.settings.relay_url,
          egress: view.settings.egress,
        }
      : { egress: "relay" };
  const saved = view.settings?.mode === "production";
  return (
    <Card title={t("shell.settings.title")}>
      {view.settings?.mode === "sandbox" && (
        <Alert
          style={{ marginBottom: 16 }}
          type="info"
          showIcon
          title={t("shell.settings.sandboxNote")}
        />
      )}
      <Form
        form={form}
        layout="vertical"
        initialValues={initial}
        style={{ maxWidth: 640 }}
        onFinish={(values) =>
          save.mutate(
            {
              ...values,
              component_appsecret: values.component_appsecret || null,
              component_token: values.component_token || null,
              component_aes_key: values.component_aes_key || null,
              relay_key: values.relay_key || null,
            },
            {
              onSuccess: () => {
                void message.success(t("shell.settings.saveOk"));
                form.resetFields([
                  "component_appsecret",
                  "component_token",
                  "component_aes_key",
                  "relay_key",
                ]);
              },
            },
          )
        }
      >
        <Form.Item
          name="component_appid"
          label={t("shell.settings.appid")}
          rules={[
            { required: true, message: t("shell.settings.required") },
            { pattern: APPID, message: t("shell.settings.appidInvalid") },
          ]}
        >
          <Input placeholder="wx…" data-testid="input-component_appid" />
        </Form.Item>
        <SecretField
          name="component_appsecret"
          label={t("shell.settings.appsecret")}
          saved={saved && view.appsecret_saved}
        />
        <SecretField
          name="component_token"
          label={t("shell.settings.token")}
          saved={saved && view.token_saved}
        />
        <SecretField
          name="component_aes_key"
          label={t("shell.settings.aesKey")}
          saved={saved && view.aes_key_saved}
          rules={[{ pattern: AES_KEY, message: t("shell.settings.aesKeyInvalid") }]}
        />
        <Form.Item
          name="relay_url"
          label={t("shell.settings.relayUrl")}
          rules={[
            { required: true, message: t("shell.settings.required") },
            { pattern: /^https?:\/\/\S+$/, message: t("shell.settings.relayUrlInvalid") },
          ]}
        >
          <Input placeholder="https://relay.example.com" data-testid="input-relay_url" />
        </Form.Item>
        <SecretField
          name="relay_key"
          label={t("shell.settings.relayKey")}
          saved={saved && view.relay_key_saved}
        />
        <Form.Item name="egress" label={t("shell.settings.egress")}>
          <Radio.Group>
            <Flex vertical gap={4}>
              <Radio value="relay">{t("shell.settings.egressRelay")}</Radio>
              <Radio value="direct">{t("shell.settings.egressDirect")}</Radio>
            </Flex>
          </Radio.Group>
        </Form.Item>
        {save.error && (
          <Alert style={{ marginBottom: 16 }} type="error" showIcon title={errorText(save.error)} />
        )}
        <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="save">
          {t("shell.settings.save")}
        </Button>
      </Form>
    </Card>
  );
}

/** 设置: the platform (secrets write-only), 检测连接, 团队, 备份与恢复, and what the app itself is. */
export function SettingsPage() {
  const { t } = useTranslation();
  const settings = useSettings();
  const { data, error } = useAppInfo();
  // In a team workspace the server manages the platform: no form, no secrets to enter.
  const membership = useTeamMembership();
  const inTeam = membership.data != null;
  return (
    <PageShell page="settings">
      {error && (
        <Alert
          type="error"
          showIcon
          title={t(`errors.${error instanceof AppError ? error.code : "unknown"}`)}
          description={errorText(error)}
        />
      )}
      {settings.isPending && <Skeleton active paragraph={{ rows: 6 }} />}
      {settings.error && <Alert type="error" showIcon title={errorText(settings.error)} />}
      {inTeam && (
        <Alert type="info" showIcon title={t("team.platformManaged")} data-testid="team-managed" />
      )}
      {!inTeam && settings.data?.settings && <ConnectionCheck />}
      {!inTeam && settings.data && <SettingsForm view={settings.data} />}
      <TeamCard />
      <BackupCard />
      {data && (
        <Card>
          <Descriptions column={1} bordered size="small" data-testid="app-info">
            <Descriptions.Item label={t("pages.settings.mode")}>
              <ModeBadge />
            </Descriptions.Item>
            <Descriptions.Item label={t("pages.settings.platformAppid")}>
              {data.platform_appid ?? t("pages.settings.notConfigured")}
            </Descriptions.Item>
            <Descriptions.Item label={t("pages.settings.dataDir")}>
              <Typography.Text copyable code style={{ wordBreak: "break-all" }}>
                {data.data_dir}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t("pages.settings.version")}>
              {data.version}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      )}
    </PageShell>
  );
}
