import { SafetyOutlined } from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Descriptions,
  Flex,
  Form,
  Input,
  Radio,
  Skeleton,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { AppError, useAppInfo } from "../api";
import {
  type CheckStep,
  type PlatformSettingsForm,
  type PlatformSettingsView,
  useCheckSettings,
  useSaveSettings,
  useSettings,
} from "../api/shell";
import { useTeamMembership } from "../api/team";
import { ModeBadge } from "../layout/ModeBadge";
import { errorText } from "./accounts/labels";
import { BackupCard } from "./backup/BackupCard";
import { PageShell } from "./PageShell";
import { SandboxSettingsCard } from "./sandbox/SandboxSettingsCard";
import { CheckSteps, ConnectionCheck, failedSteps } from "./settings/ConnectionCheck";
import { DeployGuideLink } from "./settings/DeployGuide";
import { TeamCard } from "./team/TeamCard";

const APPID = /^wx[0-9a-zA-Z]{16}$/;
const AES_KEY = /^[0-9a-zA-Z]{43}$/;

/** Where to find a field's value, under the field. */
/** Where direct calls go unless the user names another address (core's WECHAT_API_BASE). */
const WECHAT_API_BASE = "https://api.weixin.qq.com";

function Help({ text }: { text: string }) {
  return <Typography.Text type="secondary">{text}</Typography.Text>;
}

/**
 * A write-only secret: never shown; "已保存在系统钥匙串" when present; typing replaces it. Says
 * where to find it; `optional` ones (the desk does not need them) may stay empty.
 */
function SecretField(props: {
  name: keyof PlatformSettingsForm;
  label: string;
  help: string;
  saved: boolean;
  optional?: boolean;
  rules?: { pattern: RegExp; message: string }[];
}) {
  const { t } = useTranslation();
  const required = !props.saved && !props.optional;
  return (
    <Form.Item
      name={props.name}
      label={props.optional ? t("shell.settings.optional", { label: props.label }) : props.label}
      extra={
        <Flex vertical>
          <Help text={props.help} />
          {props.saved && (
            <Typography.Text type="success" data-testid={`saved-${props.name}`}>
              <SafetyOutlined /> {t("shell.settings.saved")}
            </Typography.Text>
          )}
        </Flex>
      }
      rules={[
        ...(required ? [{ required: true, message: t("shell.settings.required") }] : []),
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

/** The form's values as the command takes them: a blank secret keeps the saved one. */
function toForm(values: PlatformSettingsForm): PlatformSettingsForm {
  return {
    ...values,
    component_appsecret: values.component_appsecret || null,
    component_token: values.component_token || null,
    component_aes_key: values.component_aes_key || null,
    relay_key: values.relay_key || null,
    api_base: values.api_base?.trim() || null,
  };
}

/** What 保存 found wrong with the settings before saving them: the failed steps and a choice. */
function CheckFailed(props: {
  steps: CheckStep[];
  saving: boolean;
  onSaveAnyway: () => void;
  onBack: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Alert
      data-testid="settings-check-failed"
      style={{ marginBottom: 16 }}
      type="error"
      showIcon
      title={t("shell.settings.checkFailed.title")}
      description={
        <Flex vertical gap={8}>
          <span>{t("shell.settings.checkFailed.body")}</span>
          <CheckSteps steps={failedSteps(props.steps)} />
          <Flex gap={8}>
            <Button data-testid="settings-back" onClick={props.onBack}>
              {t("shell.settings.checkFailed.back")}
            </Button>
            <Button
              danger
              data-testid="save-anyway"
              loading={props.saving}
              onClick={props.onSaveAnyway}
            >
              {t("shell.settings.checkFailed.saveAnyway")}
            </Button>
          </Flex>
        </Flex>
      }
    />
  );
}

/**
 * The real platform's settings. 保存 first checks the form's settings as they would be saved
 * (relay and key, the relay's platform settings, ticket, token, whitelist) and saves them only
 * when every step passes, or when the user saves anyway after reading what failed: the mode
 * badge never switches to settings that were not checked.
 */
function SettingsForm({ view }: { view: PlatformSettingsView }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const save = useSaveSettings();
  const check = useCheckSettings();
  const [refused, setRefused] = useState<{ form: PlatformSettingsForm; steps: CheckStep[] } | null>(
    null,
  );
  const [form] = Form.useForm<PlatformSettingsForm>();
  // The sandbox's own settings are not the user's to edit: start from an empty real platform.
  const initial: Partial<PlatformSettingsForm> =
    view.settings?.mode === "production"
      ? {
          component_appid: view.settings.component_appid,
          relay_url: view.settings.relay_url,
          egress: view.settings.egress,
          // WeChat's own address shows as the empty default, not as a value the user typed.
          api_base: view.settings.api_base === WECHAT_API_BASE ? null : view.settings.api_base,
        }
      : { egress: "relay" };
  const egress = Form.useWatch("egress", form);
  const saved = view.settings?.mode === "production";
  const doSave = (f: PlatformSettingsForm) =>
    save.mutate(f, {
      onSuccess: () => {
        setRefused(null);
        void message.success(t("shell.settings.saveOk"));
        form.resetFields([
          "component_appsecret",
          "component_token",
          "component_aes_key",
          "relay_key",
        ]);
      },
    });
  const onFinish = (values: PlatformSettingsForm) => {
    const f = toForm(values);
    setRefused(null);
    save.reset();
    check.mutate(f, {
      onSuccess: (steps) => {
        if (failedSteps(steps).length === 0) doSave(f);
        else setRefused({ form: f, steps });
      },
    });
  };
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
      <Typography.Paragraph type="secondary" data-testid="settings-where">
        {t("shell.settings.help.where")} <DeployGuideLink />
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        initialValues={initial}
        style={{ maxWidth: 640 }}
        onFinish={onFinish}
        onValuesChange={() => setRefused(null)}
      >
        <Form.Item
          name="component_appid"
          label={t("shell.settings.appid")}
          extra={<Help text={t("shell.settings.help.appid")} />}
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
          help={t("shell.settings.help.appsecret")}
          saved={saved && view.appsecret_saved}
        />
        <SecretField
          name="component_token"
          label={t("shell.settings.token")}
          help={t("shell.settings.help.token")}
          saved={saved && view.token_saved}
          optional
        />
        <SecretField
          name="component_aes_key"
          label={t("shell.settings.aesKey")}
          help={t("shell.settings.help.aesKey")}
          saved={saved && view.aes_key_saved}
          optional
          rules={[{ pattern: AES_KEY, message: t("shell.settings.aesKeyInvalid") }]}
        />
        <Form.Item
          name="relay_url"
          label={t("shell.settings.relayUrl")}
          extra={<Help text={t("shell.settings.help.relayUrl")} />}
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
          help={t("shell.settings.help.relayKey")}
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
        {/* Kept registered while hidden, so flipping the egress back and forth keeps what was typed. */}
        <Form.Item
          name="api_base"
          hidden={egress !== "direct"}
          normalize={(v: string) => v.trim()}
          label={t("shell.settings.apiBase")}
          extra={<Help text={t("shell.settings.help.apiBase")} />}
          rules={[{ pattern: /^https?:\/\/\S+$/, message: t("shell.settings.apiBaseInvalid") }]}
        >
          <Input placeholder={WECHAT_API_BASE} data-testid="input-api_base" />
        </Form.Item>
        {check.isPending && (
          <Alert
            style={{ marginBottom: 16 }}
            type="info"
            showIcon
            data-testid="settings-checking"
            title={t("shell.settings.checking")}
          />
        )}
        {refused && (
          <CheckFailed
            steps={refused.steps}
            saving={save.isPending}
            onSaveAnyway={() => doSave(refused.form)}
            onBack={() => setRefused(null)}
          />
        )}
        {(save.error ?? check.error) && (
          <Alert
            style={{ marginBottom: 16 }}
            type="error"
            showIcon
            data-testid="settings-error"
            title={errorText(save.error ?? check.error)}
          />
        )}
        <Button
          type="primary"
          htmlType="submit"
          loading={check.isPending || (save.isPending && !refused)}
          data-testid="save"
        >
          {t("shell.settings.saveChecked")}
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
      {!inTeam && <SandboxSettingsCard />}
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
