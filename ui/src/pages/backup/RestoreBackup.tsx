import { CloudUploadOutlined, FileProtectOutlined } from "@ant-design/icons";
import { open as openDialog } from "@tauri-apps/plugin-dialog";
import {
  Alert,
  App as AntApp,
  Button,
  type ButtonProps,
  Flex,
  Form,
  Input,
  Result,
  Tooltip,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type BackupResultView,
  backupFilters,
  restartApp,
  useBackupRestore,
  useBackupStatus,
} from "../../api/backup";
import { BackupDialog, BackupFormActions, errorText } from "./BackupDialog";

/**
 * 从备份恢复: pick the .wxbak file, enter its passphrase, restore. Once restored the dialog
 * cannot be dismissed: it says the app restarts and restarts it, so the feed follower and the
 * send engine start from the restored workspace.
 */
export function RestoreBackupModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<{ passphrase: string }>();
  const [path, setPath] = useState<string | null>(null);
  const [fileMissing, setFileMissing] = useState(false);
  const run = useBackupRestore();
  const [done, setDone] = useState<BackupResultView | null>(null);
  const [restarting, setRestarting] = useState(false);

  const close = () => {
    if (run.isPending || done) return;
    form.resetFields();
    run.reset();
    setPath(null);
    setFileMissing(false);
    onClose();
  };

  const pick = async () => {
    try {
      const chosen = await openDialog({
        title: t("backup.pickFile"),
        multiple: false,
        directory: false,
        filters: backupFilters(t("backup.filterName")),
      });
      if (typeof chosen === "string") {
        setPath(chosen);
        setFileMissing(false);
        run.reset();
      }
    } catch (e) {
      void message.error(String(e));
    }
  };

  const submit = ({ passphrase }: { passphrase: string }) => {
    if (!path) {
      setFileMissing(true);
      return;
    }
    run.mutate(
      { passphrase, path },
      {
        onSuccess: (r) => {
          form.resetFields();
          setDone(r);
        },
      },
    );
  };

  const restart = async () => {
    setRestarting(true);
    try {
      await restartApp();
    } catch {
      setRestarting(false);
      void message.error(t("backup.restartFailed"));
    }
  };

  return (
    <BackupDialog
      open={open}
      title={t("backup.restore")}
      onCancel={close}
      testId="restore-modal"
      pending={run.isPending}
      pendingText={t("backup.restoring")}
      locked={done !== null}
      result={
        done ? (
          <Result
            status="success"
            title={t("backup.restoredTitle")}
            subTitle={t("backup.restoredDesc", {
              tokens: done.summary.accounts_with_refresh_token,
              secrets: done.summary.secrets,
            })}
            data-testid="restore-done"
            extra={
              <Button
                type="primary"
                loading={restarting}
                onClick={restart}
                data-testid="restart-now"
              >
                {t("backup.restartNow")}
              </Button>
            }
          />
        ) : null
      }
    >
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("backup.restoreDesc")}
      </Typography.Paragraph>
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        <Form.Item
          label={t("backup.fileLabel")}
          validateStatus={fileMissing ? "error" : undefined}
          help={fileMissing ? t("backup.fileRequired") : undefined}
        >
          <Flex gap={8} align="center">
            <Button icon={<FileProtectOutlined />} onClick={pick} data-testid="restore-pick">
              {t("backup.pickFile")}
            </Button>
            <Typography.Text
              type={path ? undefined : "secondary"}
              style={{ flex: 1, minWidth: 0, wordBreak: "break-all" }}
              data-testid="restore-file"
            >
              {path ?? t("backup.noFile")}
            </Typography.Text>
          </Flex>
        </Form.Item>
        <Form.Item
          name="passphrase"
          label={t("backup.passphrase")}
          rules={[{ required: true, message: t("backup.passphraseRequired") }]}
        >
          <Input.Password autoComplete="off" data-testid="restore-passphrase" />
        </Form.Item>
        <BackupFormActions
          error={run.error}
          errorTitle={t("backup.restoreFailed")}
          errorTestId="restore-error"
          pending={run.isPending}
          onCancel={close}
          submitLabel={t("backup.restoreGo")}
          submitTestId="restore-go"
        />
      </Form>
    </BackupDialog>
  );
}

/**
 * The 从备份恢复 button: enabled only when the workspace is empty; otherwise disabled with a
 * tooltip pointing to a new data directory or the CLI.
 */
export function RestoreButton(props: Pick<ButtonProps, "size" | "type" | "block">) {
  const { t } = useTranslation();
  const status = useBackupStatus();
  const [open, setOpen] = useState(false);
  const allowed = status.data?.restore_allowed === true;
  const button = (
    <Button
      {...props}
      icon={<CloudUploadOutlined />}
      disabled={!allowed}
      loading={status.isPending}
      onClick={async () => {
        // Asked again: settings saved on this page since the last answer make it non-empty.
        const fresh = await status.refetch();
        if (fresh.data?.restore_allowed) setOpen(true);
      }}
      data-testid="backup-restore"
    >
      {t("backup.restore")}
    </Button>
  );
  return (
    <>
      {status.data && !allowed ? (
        <Tooltip title={t("backup.restoreDisabled")} placement="bottom">
          <span data-testid="restore-disabled" style={{ display: "inline-block" }}>
            {button}
          </span>
        </Tooltip>
      ) : (
        button
      )}
      {status.error && (
        <Alert style={{ marginTop: 8 }} type="error" showIcon title={errorText(status.error)} />
      )}
      <RestoreBackupModal open={open} onClose={() => setOpen(false)} />
    </>
  );
}
