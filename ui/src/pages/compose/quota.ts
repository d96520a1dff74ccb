// What the confirmation says about today's template quota, kept pure so it is tested on its own.
import { AppError } from "../../api";
import type { SendQuotaView } from "../../api/compose";

export type QuotaVerdict =
  /** Still asking WeChat. */
  | { kind: "loading" }
  /** The query failed: say why, sending stays allowed. */
  | { kind: "failed"; reason: string }
  /** Every recipient fits in what is left today. */
  | { kind: "enough"; remaining: number; limit: number }
  /** `over` recipients exceed what is left: the job pauses at 45009 until the daily reset. */
  | { kind: "short"; remaining: number; limit: number; over: number };

/** `sep` joins the shell's message and hint (。 in Chinese, ". " in English). */
export function quotaVerdict(
  recipients: number,
  quota: SendQuotaView | undefined,
  error: unknown,
  sep = "。",
): QuotaVerdict {
  if (error) {
    const reason =
      error instanceof AppError && error.hint
        ? `${error.message}${sep}${error.hint}`
        : error instanceof Error
          ? error.message
          : String(error);
    return { kind: "failed", reason };
  }
  if (!quota) return { kind: "loading" };
  const { remaining, daily_limit: limit } = quota;
  return recipients > remaining
    ? { kind: "short", remaining, limit, over: recipients - remaining }
    : { kind: "enough", remaining, limit };
}

/** 100000 → "100,000" (as the confirmation shows counts). */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
