// Colours of the code page's states, the error box every action shares, and small formatters.
// Words come from i18n (`code.*`): core sends codes only.
import { App, Flex, Tag, Tooltip, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { AppError } from "../../api";
import { type AuditState, type RolloutStatus, type RowState, useExplain } from "../../api/code";
import { ErrorAlert } from "../../layout/ErrorAlert";

export const ROW_STATE_COLOR: Record<RowState, string> = {
  pending: "default",
  committing: "processing",
  committed: "blue",
  submitting: "processing",
  auditing: "processing",
  audit_delayed: "warning",
  audit_passed: "cyan",
  releasing: "processing",
  released: "success",
  audit_failed: "error",
  failed: "error",
  cancelled: "default",
};

export const AUDIT_STATE_COLOR: Record<AuditState, string> = {
  approved: "success",
  rejected: "error",
  auditing: "processing",
  withdrawn: "default",
  delayed: "warning",
  unknown: "default",
};

export const ROLLOUT_STATUS_COLOR: Record<RolloutStatus, string> = {
  draft: "default",
  running: "processing",
  paused: "warning",
  cancelled: "default",
  completed: "success",
};

/** `2026-12-03 09:37` from unix seconds (local time). */
export function fmtTime(unix: number | null | undefined): string {
  if (!unix) return "—";
  const d = new Date(unix * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** WeChat's reasons come with `<br>` line breaks. */
export function plainReason(reason: string): string {
  return reason
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .trim();
}

/** Whether text has Chinese characters (core's free-text details are Chinese). */
export function hasCjk(text: string): boolean {
  return /[\u3000-\u9fff\uff00-\uffef]/.test(text);
}

/** One line for a toast: the message, then what to do. */
export function errorLine(e: unknown): string {
  if (e instanceof AppError) return e.hint ? `${e.message} — ${e.hint}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * What failed: for a WeChat refusal, what its errcode means in the window's language (core's
 * message carries WeChat's own errmsg), then the message, then what to do.
 */
function ErrorBody({ error }: { error: unknown }) {
  const { i18n } = useTranslation();
  const e = error instanceof AppError ? error : null;
  const explain = useExplain(e?.errcode ?? null);
  const x = explain.data;
  const en = i18n.language === "en";
  return (
    <Flex vertical gap={2} data-testid="code-error-body">
      {x && (
        <Typography.Text strong>
          {en ? x.en : x.zh}
          <Typography.Text type="secondary"> (errcode {x.errcode})</Typography.Text>
        </Typography.Text>
      )}
      <Typography.Text type={x ? "secondary" : undefined} style={x ? { fontSize: 12 } : undefined}>
        {e?.message ?? (error instanceof Error ? error.message : String(error))}
        {e?.errcode && !x ? ` (errcode ${e.errcode})` : null}
      </Typography.Text>
      {e?.hint && <Typography.Text type="secondary">{e.hint}</Typography.Text>}
    </Flex>
  );
}

/** A failed command as an alert box (forms, tabs), with the errcode explained. */
export function CodeErrorAlert({ error }: { error: unknown }) {
  return (
    <ErrorAlert error={error} data-testid="code-error" description={<ErrorBody error={error} />} />
  );
}

/** A failed action as a dialog (table buttons and confirmations have no room for an alert). */
export function useErrorDialog() {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  return (error: unknown) => {
    const e = error instanceof AppError ? error : null;
    modal.error({
      title: t(`errors.${e?.code ?? "unknown"}`),
      content: (
        <div data-testid="code-error">
          <ErrorBody error={error} />
        </div>
      ),
      width: 520,
    });
  };
}

/** A mini program by its name; the appid on hover, copyable. */
export function MiniName({ appid, name }: { appid: string; name: string }) {
  const { t } = useTranslation();
  return (
    <Flex align="center" gap={4} style={{ minWidth: 0 }}>
      <Tooltip title={appid}>
        <Typography.Text strong ellipsis data-testid="mini-name">
          {name}
        </Typography.Text>
      </Tooltip>
      <Typography.Text copyable={{ text: appid, tooltips: [t("code.copyAppid"), "✓"] }} />
    </Flex>
  );
}

export function StateTag({ state }: { state: RowState }) {
  const { t } = useTranslation();
  return (
    <Tag color={ROW_STATE_COLOR[state]} data-testid="row-state" data-state={state}>
      {t(`code.rowState.${state}`)}
    </Tag>
  );
}
