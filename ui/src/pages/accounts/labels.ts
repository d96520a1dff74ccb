// The words for the codes the core sends about accounts, the connection check and errors carried
// inside results, in the window's language (the core sends no labels).
import type { TFunction } from "i18next";
import { AppError } from "../../api";
import type { AccountView, CheckStep, ErrorReport, Msg, TokenHealthView } from "../../api/shell";
import { i18n } from "../../i18n";

/** The message in the window's language. */
export function msg(m: Msg): string {
  return i18n.language.startsWith("zh") ? m.zh : m.en;
}

/** An error carried in a result, as `message。hint` in the window's language. */
export function reportText(r: ErrorReport): { message: string; hint: string | null } {
  return { message: msg(r.message), hint: r.hint ? msg(r.hint) : null };
}

export function statusText(t: TFunction, s: AccountView["status"]): string {
  return t(`shell.account.status.${s}`);
}

/** 服务号 / 订阅号 / 小程序 … */
export function typeText(t: TFunction, a: Pick<AccountView, "account_type">): string {
  return t(`shell.account.type.${a.account_type}`);
}

export function kindText(t: TFunction, a: Pick<AccountView, "kind">): string {
  return t(`shell.account.kind.${a.kind}`);
}

export function verificationText(t: TFunction, a: Pick<AccountView, "verification">): string {
  return t(`shell.account.verification.${a.verification}`);
}

/** A permission set's name by its id; unknown ids by number. */
export function permissionName(t: TFunction, id: number): string {
  const key = `shell.account.permission.${id}`;
  return i18n.exists(key)
    ? t(key as "shell.account.permission.1")
    : t("shell.account.permission.other", { id });
}

/** `5 分钟前` / `5 min ago`. */
export function ageText(t: TFunction, secs: number): string {
  if (secs < 60) return t("shell.age.seconds", { s: secs });
  if (secs < 3600) return t("shell.age.minutes", { m: Math.floor(secs / 60) });
  return t("shell.age.hours", { h: Math.floor(secs / 3600), m: Math.floor((secs % 3600) / 60) });
}

/** What a token check found, and what to do. */
export function tokenHealthText(
  t: TFunction,
  h: TokenHealthView,
): { detail: string; hint: string | null } {
  if (!h.has_refresh_token) {
    return {
      detail: t("shell.accounts.token.noRefreshToken"),
      hint: t("shell.accounts.token.noRefreshTokenHint"),
    };
  }
  if (h.problem) {
    const r = reportText(h.problem);
    return { detail: r.message, hint: r.hint };
  }
  return { detail: t("shell.accounts.token.ok"), hint: null };
}

/** One line of 检测连接: its name, what it found and what to do. */
export function checkStepText(
  t: TFunction,
  s: CheckStep,
): { name: string; detail: string; hint: string | null } {
  const name = t(`shell.check.step.${s.step}`);
  const d = s.detail;
  switch (d.code) {
    case "relay_reachable":
      return {
        name,
        detail: t("shell.check.detail.relay_reachable", { url: d.relay_url }),
        hint: null,
      };
    case "keys_compared":
      return {
        name,
        detail: t("shell.check.detail.keys_compared", {
          appid: d.appid_matches
            ? t("shell.check.appid.matches")
            : t("shell.check.appid.differs", { relay: d.relay_appid }),
          token: t(`shell.check.key.${d.token}`),
          aesKey: t(`shell.check.key.${d.aes_key}`),
        }),
        hint: s.ok ? null : t("shell.check.hint.keys"),
      };
    case "ticket_fresh":
      return {
        name,
        detail: t("shell.check.detail.ticket_fresh", { age: ageText(t, d.age_secs) }),
        hint: null,
      };
    case "ticket_expired":
      return {
        name,
        detail: t("shell.check.detail.ticket_expired", { age: ageText(t, d.age_secs) }),
        hint: t("shell.check.hint.ticket_expired"),
      };
    case "ticket_missing":
      return {
        name,
        detail: d.push_failed
          ? t("shell.check.detail.ticket_missing_push_failed", {
              error: msg(d.push_failed.message),
            })
          : t("shell.check.detail.ticket_missing"),
        hint: t("shell.check.hint.ticket_missing"),
      };
    case "token_obtained":
      return { name, detail: t("shell.check.detail.token_obtained"), hint: null };
    case "whitelist_passed":
      return { name, detail: t(`shell.check.detail.whitelist_passed_${d.egress}`), hint: null };
    case "whitelist_refused": {
      const hints = [
        reportText(d.error).hint,
        d.egress === "direct" ? t("shell.check.hint.direct_egress") : null,
      ];
      return {
        name,
        detail: t("shell.check.detail.whitelist_refused"),
        hint: hints.filter((h) => h).join(" ") || null,
      };
    }
    case "failed": {
      const r = reportText(d.error);
      return { name, detail: r.message, hint: r.hint };
    }
    case "skipped":
      return { name, detail: t(`shell.check.skip.${d.why}`), hint: null };
  }
}

/** A failed command as one line, `message` and `hint` joined as the window's language writes. */
export function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const hint = e instanceof AppError ? e.hint : null;
  if (!hint) return message;
  return i18n.language.startsWith("zh") ? `${message}。${hint}` : `${message}. ${hint}`;
}
