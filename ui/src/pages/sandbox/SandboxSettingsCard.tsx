import { ExperimentOutlined } from "@ant-design/icons";
import { Alert, App as AntApp, Button, Card, Flex, Modal, Typography } from "antd";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useAppInfo } from "../../api";
import { useArchivedPlatforms } from "../../api/archive";
import { useStartSandbox } from "../../api/shell";
import { PurgeArchiveButton } from "../accounts/ArchivedAccounts";
import { errorText } from "../accounts/labels";

/**
 * 设置's 体验沙箱 card: the way into the sandbox while nothing is configured (the welcome on 概览
 * is the other), what is in use once it runs, and — after saving a real platform — the
 * sandbox's archive: right after the switch a dialog asks whether to keep it or remove it,
 * and the card keeps offering removal. Nothing is deleted unless the user chooses it.
 */
export function SandboxSettingsCard() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { message } = AntApp.useApp();
  const { data: info } = useAppInfo();
  const archived = useArchivedPlatforms();
  const start = useStartSandbox(() => {});
  const sandboxArchive = archived.data?.find((p) => p.sandbox);

  // Asked once, right after this window saw the mode change from the sandbox to production.
  const mode = info?.mode;
  const before = useRef(mode);
  const [offer, setOffer] = useState(false);
  useEffect(() => {
    if (before.current === "sandbox" && mode === "production") setOffer(true);
    before.current = mode;
  }, [mode]);

  if (!info) return null;
  const count = sandboxArchive?.appids.length ?? 0;
  return (
    <Card
      data-testid="sandbox-settings"
      title={
        <span>
          <ExperimentOutlined /> {t("archive.sandboxCard")}
        </span>
      }
    >
      {info.mode === "unconfigured" && (
        <Flex vertical gap={12} align="flex-start">
          <Typography.Text type="secondary">{t("archive.sandboxDesc")}</Typography.Text>
          {start.isSuccess ? (
            <Flex gap={12} align="center">
              <Typography.Text type="success">{t("archive.sandboxReady")}</Typography.Text>
              <Button type="primary" onClick={() => navigate("/accounts/authorize")}>
                {t("archive.goAuthorize")}
              </Button>
            </Flex>
          ) : (
            <Button
              type="primary"
              data-testid="settings-start-sandbox"
              loading={start.isPending}
              onClick={() => start.mutate()}
            >
              {t("archive.sandboxStart")}
            </Button>
          )}
          {start.error && (
            <Alert
              type="error"
              showIcon
              title={t("archive.sandboxFailed")}
              description={errorText(start.error)}
            />
          )}
        </Flex>
      )}
      {info.mode === "sandbox" && (
        <Typography.Text type="secondary">{t("archive.sandboxRunning")}</Typography.Text>
      )}
      {info.mode === "production" &&
        (sandboxArchive ? (
          <Flex gap={12} align="center" justify="space-between" wrap>
            <Typography.Text data-testid="sandbox-archive">
              {t("archive.archiveCardDesc", { count })}
            </Typography.Text>
            <PurgeArchiveButton
              componentAppid={sandboxArchive.component_appid}
              count={count}
              sandbox
            />
          </Flex>
        ) : (
          <Typography.Text type="secondary">{t("archive.sandboxProduction")}</Typography.Text>
        ))}
      <Modal
        open={offer && !!sandboxArchive}
        title={t("archive.switchTitle")}
        closable={false}
        maskClosable={false}
        data-testid="sandbox-switch"
        footer={
          <Flex gap={8} justify="flex-end">
            {sandboxArchive && (
              <PurgeArchiveButton
                componentAppid={sandboxArchive.component_appid}
                count={count}
                sandbox
              />
            )}
            <Button
              type="primary"
              data-testid="keep-sandbox-archive"
              onClick={() => {
                setOffer(false);
                void message.info(t("archive.kept"));
              }}
            >
              {t("archive.keep")}
            </Button>
          </Flex>
        }
      >
        {t("archive.switchDesc", { count })}
      </Modal>
    </Card>
  );
}
