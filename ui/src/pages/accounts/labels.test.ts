import { describe, expect, it } from "vitest";
import type { CheckStep, ErrorReport, TokenHealthView } from "../../api/shell";
import { i18n } from "../../i18n";
import {
  ageText,
  checkStepText,
  errorText,
  permissionName,
  statusText,
  tokenHealthText,
  typeText,
} from "./labels";

const t = i18n.t.bind(i18n);

type Text = ReturnType<typeof checkStepText>;

/** Any CJK character (ideographs and CJK punctuation): none may show in English mode. */
const CJK = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;

async function inEnglish<T>(f: () => T): Promise<T> {
  await i18n.changeLanguage("en");
  try {
    return f();
  } finally {
    await i18n.changeLanguage("zh-CN");
  }
}

const WHITELIST_ERROR: ErrorReport = {
  code: "wechat",
  errcode: 61004,
  message: {
    zh: "微信返回错误 61004：调用方 IP 不在白名单",
    en: "WeChat error 61004: IP not whitelisted",
  },
  hint: { zh: "把出口 IP 加入白名单。", en: "Add the egress IP to the whitelist." },
};

const STEPS: CheckStep[] = [
  {
    step: "relay",
    ok: true,
    skipped: false,
    detail: { code: "relay_reachable", relay_url: "https://relay.example.com" },
  },
  {
    step: "ticket",
    ok: false,
    skipped: false,
    detail: { code: "ticket_expired", age_secs: 13 * 3600 + 120 },
  },
  {
    step: "token",
    ok: false,
    skipped: false,
    detail: { code: "failed", error: { ...WHITELIST_ERROR, hint: null } },
  },
  {
    step: "whitelist",
    ok: false,
    skipped: false,
    detail: { code: "whitelist_refused", egress: "direct", error: WHITELIST_ERROR },
  },
];

describe("检测连接 in the window's language", () => {
  it("words each step in Chinese by default, with the hint of what to do", () => {
    const [relay, ticket, token, whitelist] = STEPS.map((s) => checkStepText(t, s)) as [
      Text,
      Text,
      Text,
      Text,
    ];
    expect(relay).toEqual({
      name: "中继可达且密钥有效",
      detail: "https://relay.example.com 可达，密钥已接受",
      hint: null,
    });
    expect(ticket.detail).toBe("最新的 ticket 是13 小时 2 分钟前收到的，已超过 12 小时有效期");
    expect(ticket.hint).toContain("/wechat/component");
    expect(token).toEqual({
      name: "获取 component_access_token",
      detail: "微信返回错误 61004：调用方 IP 不在白名单",
      hint: null,
    });
    expect(whitelist.hint).toBe(
      "把出口 IP 加入白名单。 也可以在设置中把出口模式改为「经中继」，只需把中继服务器的 IP 加入白名单。",
    );
  });

  it("has no Chinese at all in English, the error's English included", async () => {
    const texts = await inEnglish(() => STEPS.map((s) => checkStepText(t, s)));
    const [, ticket, , whitelist] = texts as [Text, Text, Text, Text];
    expect(ticket.detail).toBe(
      "The latest ticket was received 13 h 2 min ago: older than its 12-hour lifetime",
    );
    expect(whitelist.hint).toContain("Add the egress IP to the whitelist.");
    expect(whitelist.hint).toContain("Through the relay");
    for (const x of texts) {
      const all = `${x.name} ${x.detail} ${x.hint ?? ""}`;
      expect(all).not.toMatch(CJK);
    }
  });

  it("names a skipped step's reason and a missing ticket", async () => {
    const skipped: CheckStep = {
      step: "whitelist",
      ok: false,
      skipped: true,
      detail: { code: "skipped", why: "needs_token" },
    };
    expect(checkStepText(t, skipped).detail).toBe("需要先获取 component_access_token");
    const missing: CheckStep = {
      step: "ticket",
      ok: false,
      skipped: false,
      detail: { code: "ticket_missing", push_failed: null },
    };
    expect(await inEnglish(() => checkStepText(t, missing).detail)).toBe(
      "The relay has no ticket yet; WeChat was asked to push one now. Check again shortly",
    );
  });
});

describe("accounts in the window's language", () => {
  it("names status, type and permission sets, unknown ids by number", async () => {
    expect(statusText(t, "needs_reauth")).toBe("需要重新授权");
    expect(typeText(t, { account_type: "service" })).toBe("服务号");
    expect(permissionName(t, 7)).toBe("群发与通知权限");
    expect(permissionName(t, 99)).toBe("权限集 99");
    const en = await inEnglish(() => [
      statusText(t, "unauthorized"),
      typeText(t, { account_type: "subscription" }),
      permissionName(t, 19),
      permissionName(t, 99),
    ]);
    expect(en).toEqual([
      "Authorization cancelled",
      "Subscription account",
      "Customer-service messages",
      "Permission set 99",
    ]);
  });

  it("says what a token check found, from the core's codes", async () => {
    const missing: TokenHealthView = {
      appid: "wx1",
      has_refresh_token: false,
      access_token_ok: false,
      problem: null,
    };
    expect(tokenHealthText(t, missing).detail).toBe("钥匙串中没有此账号的刷新令牌");
    const refused: TokenHealthView = {
      ...missing,
      has_refresh_token: true,
      problem: WHITELIST_ERROR,
    };
    const en = await inEnglish(() => tokenHealthText(t, refused));
    expect(en).toEqual({
      detail: "WeChat error 61004: IP not whitelisted",
      hint: "Add the egress IP to the whitelist.",
    });
  });

  it("counts ages in seconds, minutes and hours", async () => {
    expect(ageText(t, 42)).toBe("42 秒前");
    expect(ageText(t, 125)).toBe("2 分钟前");
    expect(await inEnglish(() => ageText(t, 3 * 3600 + 60))).toBe("3 h 1 min ago");
  });

  it("joins an error's message and hint as the window's language writes", async () => {
    const { AppError } = await import("../../api");
    const e = new AppError({
      code: "invalid",
      message: "名单名称不能为空",
      hint: "请填写名称",
      errcode: null,
    });
    expect(errorText(e)).toBe("名单名称不能为空。请填写名称");
    const en = new AppError({
      code: "invalid",
      message: "The list needs a name",
      hint: "Type one",
      errcode: null,
    });
    expect(await inEnglish(() => errorText(en))).toBe("The list needs a name. Type one");
  });
});
