import { Alert } from "antd";
import { useTranslation } from "react-i18next";
import { AppError } from "../../api";
import { errorText } from "../accounts/labels";

// Apart from AccountPicker (which re-exports it for the pages) so 概览, part of the first
// paint, shows an error without pulling in the picker's Select.

/** A failed command as an antd Alert: the code's title, the message and the hint. */
export function ErrorAlert({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const e = error instanceof AppError ? error : null;
  return (
    <Alert
      type="error"
      showIcon
      title={t(`errors.${e?.code ?? "unknown"}`)}
      description={errorText(error)}
    />
  );
}
