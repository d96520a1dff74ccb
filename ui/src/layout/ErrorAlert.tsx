import { Alert } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { AppError } from "../api";
import { errorText } from "../pages/accounts/labels";

// Its own module, free of any Select or Table, so 概览 (part of the first paint) shows an error
// without pulling a heavier component in. The code page's alert is this one with a richer body.

interface ErrorAlertProps {
  error: unknown;
  /** Below the title; by default the message and the hint. */
  description?: ReactNode;
  "data-testid"?: string;
}

/** A failed command as an antd Alert: the error code's title, then what failed and what to do. */
export function ErrorAlert({ error, description, "data-testid": testId }: ErrorAlertProps) {
  const { t } = useTranslation();
  const e = error instanceof AppError ? error : null;
  return (
    <Alert
      type="error"
      showIcon
      data-testid={testId}
      title={t(`errors.${e?.code ?? "unknown"}`)}
      description={description ?? errorText(error)}
    />
  );
}
