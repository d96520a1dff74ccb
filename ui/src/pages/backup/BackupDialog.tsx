import { Alert, Button, Flex, Modal, Spin } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { errorText } from "../accounts/labels";

/** A failure as the dialogs show it: the message, then the hint of what to do, if any. */
export { errorText };

interface DialogProps {
  open: boolean;
  title: string;
  onCancel: () => void;
  /** The dialog's testid, on the element around its content. */
  testId: string;
  /** While the backup runs the dialog cannot be closed and its form is covered by a spinner. */
  pending: boolean;
  pendingText: string;
  /** Once set, shown instead of the form. */
  result: ReactNode;
  /** Neither the close button nor Esc dismiss it (after a restore the app must restart). */
  locked?: boolean;
  children: ReactNode;
}

/**
 * The frame the export and restore dialogs share: the mask does not close it, nothing closes it
 * while the backup runs, and the form gives way to its result.
 */
export function BackupDialog({
  open,
  title,
  onCancel,
  testId,
  pending,
  pendingText,
  result,
  locked = false,
  children,
}: DialogProps) {
  return (
    <Modal
      open={open}
      title={title}
      onCancel={onCancel}
      mask={{ closable: false }}
      closable={!pending && !locked}
      keyboard={!locked}
      footer={null}
      destroyOnHidden
      width={560}
    >
      <div data-testid={testId}>
        {result || (
          <Spin spinning={pending} description={pendingText}>
            <Flex vertical gap={16}>
              {children}
            </Flex>
          </Spin>
        )}
      </div>
    </Modal>
  );
}

interface ActionsProps {
  /** The last run's failure, shown above the buttons until the next attempt. */
  error: Error | null;
  errorTitle: string;
  errorTestId: string;
  /** While the backup runs: cancel is off and the submit button spins. */
  pending: boolean;
  onCancel: () => void;
  submitLabel: string;
  submitTestId: string;
}

/**
 * The end of the export and restore forms: the failure (with its hint) and 取消 / the submit
 * button. One place, so both dialogs fail and wait the same way.
 */
export function BackupFormActions({
  error,
  errorTitle,
  errorTestId,
  pending,
  onCancel,
  submitLabel,
  submitTestId,
}: ActionsProps) {
  const { t } = useTranslation();
  return (
    <>
      {error && (
        <Alert
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={errorTitle}
          description={errorText(error)}
          data-testid={errorTestId}
        />
      )}
      <Flex justify="end" gap={8}>
        <Button onClick={onCancel} disabled={pending}>
          {t("backup.cancel")}
        </Button>
        <Button type="primary" htmlType="submit" loading={pending} data-testid={submitTestId}>
          {submitLabel}
        </Button>
      </Flex>
    </>
  );
}
