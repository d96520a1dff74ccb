import { SettingOutlined } from "@ant-design/icons";
import { Alert, Card, Descriptions, Skeleton, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { AppError, useAppInfo } from "../api";
import { ModeBadge } from "../layout/ModeBadge";
import { PageShell } from "./PageShell";

/** Platform settings will be edited here; for now it shows what the shell reports. */
export function SettingsPage() {
  const { t } = useTranslation();
  const { data, error, isPending } = useAppInfo();
  return (
    <PageShell page="settings">
      <Card
        title={
          <span>
            <SettingOutlined style={{ marginRight: 8 }} />
            {t("pages.settings.emptyTitle")}
          </span>
        }
      >
        <Typography.Paragraph type="secondary">
          {t("pages.settings.emptyDesc")}
        </Typography.Paragraph>
        {isPending && <Skeleton active paragraph={{ rows: 3 }} />}
        {error && (
          <Alert
            type="error"
            showIcon
            title={t(`errors.${error instanceof AppError ? error.code : "unknown"}`)}
            description={
              error instanceof AppError && error.hint
                ? `${error.message}。${error.hint}`
                : error.message
            }
          />
        )}
        {data && (
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
        )}
      </Card>
    </PageShell>
  );
}
