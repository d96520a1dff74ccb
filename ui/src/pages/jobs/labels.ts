// The words for core's codes, in the UI's language: job kinds and states, recipient states,
// delivery reports, why a job paused, why a row was skipped or is uncertain, WeChat's errcode
// explanations. Core sends codes (and both languages only where the text comes from a table,
// e.g. a keyword rule or an errcode); nothing here is Chinese-only.
import type { TFunction } from "i18next";
import type {
  Delivery,
  Explanation,
  HistoryRowView,
  JobKind,
  JobPurpose,
  JobShown,
  JobView,
  PauseReason,
  RecipientState,
  RenderProblem,
  RowNote,
} from "../../api/send";

/** Whether the UI speaks English now (texts that come in both languages pick by it). */
export function isEnglish(language: string): boolean {
  return language.startsWith("en");
}

export function kindLabel(t: TFunction, kind: JobKind): string {
  return t(`send.kind.${kind}`);
}

/**
 * A job's title as the window shows it: core stores only what the operator typed (or the
 * template's title) and says by `purpose` when wxdesk made the job itself — a test send reads
 * 测试：X / Test: X, a customer-service message 客服消息 / Customer-service message.
 */
export function jobTitle(t: TFunction, job: { title: string; purpose: JobPurpose }): string {
  const title = job.title.trim();
  if (job.purpose === "plain") return title;
  const what = t(`send.purpose.${job.purpose}`);
  return title ? t("send.purpose.named", { what, title }) : what;
}

export function stateLabel(t: TFunction, state: RecipientState): string {
  return t(`send.history.st.${state}`);
}

export function deliveryLabel(t: TFunction, d: Delivery): string {
  return t(`send.delivery.${d}`);
}

/**
 * The status tag of a job, from core's `shown` (a completed job with failed rows reads 部分失败 /
 * Partly failed, or 失败 / Failed when nothing got through); a job paused by recovery reads
 * 已中断 / Interrupted.
 */
export function jobStatusLabel(t: TFunction, job: Pick<JobView, "shown" | "pause_reason">) {
  if (job.shown === "paused" && job.pause_reason?.code === "interrupted") {
    return t("send.status.interrupted");
  }
  return t(`send.status.${job.shown}`);
}

/** The tag colour of a job's shown state: green only when everything got through. */
export const JOB_SHOWN_COLOR: Record<JobShown, string> = {
  draft: "default",
  running: "processing",
  paused: "warning",
  paused_quota: "warning",
  cancelled: "purple",
  completed: "success",
  partly_failed: "orange",
  failed: "error",
};

/** A recipient state's tag colour; cancelled has its own (never the grey of 待发送). */
export const STATE_COLOR: Record<RecipientState, string> = {
  sent: "blue",
  failed_permanent: "red",
  failed_retryable: "orange",
  uncertain: "gold",
  skipped: "default",
  pending: "default",
  in_flight: "processing",
  cancelled: "purple",
};

/** The text colour of cancelled counts (antd's purple-6, as the purple tag). */
export const CANCELLED_TEXT = "#722ed1";

/** What an errcode means and what to do. */
export function explanationText(x: Explanation, english: boolean): string {
  return english ? `${x.en}. ${x.hint_en}` : `${x.zh}：${x.hint_zh}`;
}

/** "（detail）" / " (detail)" after a status, or nothing. */
function said(detail: string, english: boolean): string {
  if (!detail) return "";
  return english ? ` (${detail})` : `（${detail}）`;
}

export function pauseReasonText(t: TFunction, r: PauseReason, english: boolean): string {
  switch (r.code) {
    case "transport":
      return t("send.reason.transport", { failures: r.failures, detail: r.detail });
    case "relay_key":
      return t("send.reason.relay_key", { status: r.status, detail: said(r.detail, english) });
    case "refused":
      return t("send.reason.refused", { status: r.status, detail: said(r.detail, english) });
    case "account":
      return t("send.reason.account", {
        detail: r.explanation
          ? `${explanationText(r.explanation, english)} (${r.explanation.errcode})`
          : r.detail,
      });
    case "token_refresh":
      return t("send.reason.token_refresh", { detail: r.detail });
    case "token_rejected":
      return t("send.reason.token_rejected", { errcode: r.errcode ?? "" });
    case "internal":
      return t("send.reason.internal", { detail: r.detail });
    case "other":
      return t("send.reason.other", { detail: r.detail });
    default:
      return t(`send.reason.${r.code}`);
  }
}

export function rowNoteText(t: TFunction, n: RowNote, english: boolean): string {
  switch (n.code) {
    case "missing_var":
      return t("send.note.missing_var", { name: n.name });
    case "invalid_value":
      return t("send.note.invalid_value", { key: n.title || n.key, rule: english ? n.en : n.zh });
    case "network":
    case "token":
    case "no_idempotency":
      return t(`send.note.${n.code}`, { detail: n.detail });
    case "refused":
      return t("send.note.refused", { status: n.status, detail: n.detail }).trim();
    default:
      return t(`send.note.${n.code}`);
  }
}

/** Why a recipient of the preview would be skipped. */
export function renderProblemText(t: TFunction, p: RenderProblem, english: boolean): string {
  return p.problem === "missing_var"
    ? t("send.note.missing_var", { name: p.name })
    : t("send.note.invalid_value", { key: p.title || p.key, rule: english ? p.en : p.zh });
}

/** A row's error: wxdesk's note in the UI's language, or WeChat's own errmsg as it came. */
export function rowErrorText(t: TFunction, r: HistoryRowView, english: boolean): string | null {
  if (r.note) return rowNoteText(t, r.note, english);
  return r.errmsg;
}

/** The errcode's meaning and what to do, or the error itself. */
export function rowHint(t: TFunction, r: HistoryRowView, english: boolean): string | null {
  return r.explanation ? explanationText(r.explanation, english) : rowErrorText(t, r, english);
}

export function formatDuration(t: TFunction, secs: number): string {
  if (secs < 60) return t("send.duration.s", { s: Math.max(1, Math.round(secs)) });
  if (secs < 3600)
    return t("send.duration.m", { m: Math.floor(secs / 60), s: Math.round(secs % 60) });
  return t("send.duration.h", {
    h: Math.floor(secs / 3600),
    m: Math.round((secs % 3600) / 60),
  });
}
