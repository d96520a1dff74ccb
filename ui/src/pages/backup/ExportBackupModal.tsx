import { save } from "@tauri-apps/plugin-dialog";
import { Alert, App as AntApp, Button, Descriptions, Form, Input, Result, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type BackupResultView,
  backupFilters,
  defaultBackupName,
  MIN_PASSPHRASE_CHARS,
  passphraseProblem,
  useBackupExport,
} from "../../api/backup";
import { BackupDialog, BackupFormActions } from "./BackupDialog";

interface Fields {
  passphrase: string;
  confirm: string;
}

/**
 * 导出加密备份: the passphrase twice (with the rule and the warning that it cannot be
 * recovered), then the save dialog, a spinner while argon2 and the encryption run, and the
 * counts of what the file holds. The passphrase lives only in this form and is cleared on close.
 */
export function ExportBackupModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<Fields>();
  const run = useBackupExport();
  const [done, setDone] = useState<BackupResultView | null>(null);

  const close = () => {
    if (run.isPending) return;
    form.resetFields();
    run.reset();
    setDone(null);
    onClose();
  };

  const submit = async ({ passphrase }: Fields) => {
    run.reset();
    let path: string | null;
    try {
      path = await save({
        title: t("backup.saveDialogTitle"),
        defaultPath: defaultBackupName(t("backup.fileWord")),
        filters: backupFilters(t("backup.filterName")),
      });
    } catch (e) {
      void message.error(String(e));
      return;
    }
    if (!path) return;
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

  return (
    <BackupDialog
      open={open}
      title={t("backup.export")}
      onCancel={close}
      testId="backup-export-modal"
      pending={run.isPending}
      pendingText={t("backup.exporting")}
      result={
        done ? (
          <Result
            status="success"
            title={t("backup.exported")}
            style={{ padding: "16px 0 0" }}
            data-testid="backup-export-done"
            subTitle={
              <Descriptions column={1} bordered size="small" style={{ textAlign: "left" }}>
                <Descriptions.Item label={t("backup.refreshTokens")}>
                  {t("backup.count", { count: done.summary.accounts_with_refresh_token })}
                </Descriptions.Item>
                <Descriptions.Item label={t("backup.secrets")}>
                  {t("backup.count", { count: done.summary.secrets })}
                </Descriptions.Item>
                <Descriptions.Item label={t("backup.file")}>
                  <Typography.Text code copyable style={{ wordBreak: "break-all" }}>
                    {done.path}
                  </Typography.Text>
                </Descriptions.Item>
              </Descriptions>
            }
            extra={
              <Button type="primary" onClick={close}>
                {t("backup.close")}
              </Button>
            }
          />
        ) : null
      }
    >
      <Alert
        type="warning"
        showIcon
        title={t("backup.warnTitle")}
        description={t("backup.warnDesc")}
      />
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        <Form.Item
          name="passphrase"
          label={t("backup.passphrase")}
          extra={t("backup.rule", { min: MIN_PASSPHRASE_CHARS })}
          rules={[
            {
              validator: (_, v: string | undefined) =>
                passphraseProblem(v ?? "", v ?? "") === "tooShort"
                  ? Promise.reject(new Error(t("backup.tooShort", { min: MIN_PASSPHRASE_CHARS })))
                  : Promise.resolve(),
            },
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="backup-passphrase" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t("backup.confirm")}
          dependencies={["passphrase"]}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_, v: string | undefined) =>
                passphraseProblem(getFieldValue("passphrase") ?? "", v ?? "") === "mismatch"
                  ? Promise.reject(new Error(t("backup.mismatch")))
                  : Promise.resolve(),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="backup-confirm" />
        </Form.Item>
        <BackupFormActions
          error={run.error}
          errorTitle={t("backup.exportFailed")}
          errorTestId="backup-export-error"
          pending={run.isPending}
          onCancel={close}
          submitLabel={t("backup.chooseFile")}
          submitTestId="backup-export-go"
        />
      </Form>
    </BackupDialog>
  );
}
