import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckStep } from "../../api/shell";
import { i18n } from "../../i18n";
import { renderApp, SANDBOX_INFO } from "../../test/renderApp";
import { guideBlocks } from "./DeployGuide";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;
const APPID = "wx0123456789abcdef";
const PRODUCTION = { ...SANDBOX_INFO, mode: "production" as const, platform_appid: APPID };
const SAVED = {
  settings: {
    mode: "production",
    component_appid: APPID,
    relay_url: "https://relay.example.com",
    egress: "relay",
    api_base: "https://api.weixin.qq.com",
  },
  appsecret_saved: true,
  token_saved: true,
  aes_key_saved: true,
  relay_key_saved: true,
};

const ok = (step: CheckStep["step"], detail: CheckStep["detail"]): CheckStep => ({
  step,
  ok: true,
  skipped: false,
  detail,
});
const PASSING: CheckStep[] = [
  ok("relay", { code: "relay_reachable", relay_url: "https://relay.example.com" }),
  ok("keys", {
    code: "keys_compared",
    relay_appid: APPID,
    appid_matches: true,
    token: "matches",
    aes_key: "matches",
  }),
  ok("ticket", { code: "ticket_fresh", age_secs: 30 }),
  ok("token", { code: "token_obtained" }),
  ok("whitelist", { code: "whitelist_passed", egress: "relay" }),
];
const TOKEN_DIFFERS: CheckStep[] = PASSING.map((s) =>
  s.step === "keys"
    ? {
        ...s,
        ok: false,
        detail: {
          code: "keys_compared",
          relay_appid: APPID,
          appid_matches: true,
          token: "differs",
          aes_key: "matches",
        },
      }
    : s,
);

afterEach(cleanup);

function count(calls: string[], cmd: string): number {
  return calls.filter((c) => c === cmd).length;
}

describe("设置's connection check", () => {
  it("runs on opening and its summary says what its own steps say", async () => {
    const { calls } = renderApp(PRODUCTION, "/settings", {
      get_settings: SAVED,
      check_connection: TOKEN_DIFFERS,
    });
    const summary = await screen.findByTestId("check-summary", {}, { timeout: 5000 });
    expect(summary.getAttribute("data-ok")).toBe("0");
    expect(summary.textContent).toContain("1 项未通过：中继的平台 AppID、Token 与 EncodingAESKey");
    const steps = screen.getAllByTestId("check-step");
    expect(steps.map((s) => s.getAttribute("data-ok"))).toEqual(["1", "0", "1", "1", "1"]);
    expect(steps[1]?.textContent).toContain("Token 不一致");
    expect(steps[1]?.textContent).toContain("开发资料");
    expect(count(calls, "check_connection")).toBe(1);
  });

  it("says every step passed when they did, and 检测连接 runs it again", async () => {
    const { calls } = renderApp(PRODUCTION, "/settings", {
      get_settings: SAVED,
      check_connection: PASSING,
    });
    const summary = await screen.findByTestId("check-summary", {}, { timeout: 5000 });
    expect(summary.getAttribute("data-ok")).toBe("1");
    expect(summary.textContent).toContain("5 项检测全部通过");
    fireEvent.click(screen.getByTestId("check-connection"));
    await waitFor(() => expect(count(calls, "check_connection")).toBe(2));
  });
});

describe("保存 checks the settings before saving them", () => {
  async function fillAndSave() {
    fireEvent.change(await screen.findByTestId("input-component_token"), {
      target: { value: "a-typed-token" },
    });
    fireEvent.click(screen.getByTestId("save"));
  }

  it("does not save settings whose check failed, shows why, and saves only when told to", async () => {
    const { calls } = renderApp(PRODUCTION, "/settings", {
      get_settings: SAVED,
      check_connection: PASSING,
      check_settings: TOKEN_DIFFERS,
      save_settings: SAVED,
    });
    await screen.findByTestId("check-summary", {}, { timeout: 5000 });
    await fillAndSave();
    const refused = await screen.findByTestId("settings-check-failed");
    expect(refused.textContent).toContain("设置尚未保存");
    // Only the failed step, with what was found and where to look.
    const steps = within(refused).getAllByTestId("check-step");
    expect(steps).toHaveLength(1);
    expect(steps[0]?.textContent).toContain("Token 不一致");
    expect(count(calls, "check_settings")).toBe(1);
    expect(count(calls, "save_settings")).toBe(0);

    fireEvent.click(screen.getByTestId("save-anyway"));
    await waitFor(() => expect(count(calls, "save_settings")).toBe(1));
    await waitFor(() => expect(screen.queryByTestId("settings-check-failed")).toBeNull());
    // The saved settings changed: the card's check runs again.
    await waitFor(() => expect(count(calls, "check_connection")).toBe(2));
  });

  it("saves at once when every step of the form's check passes", async () => {
    const { calls } = renderApp(PRODUCTION, "/settings", {
      get_settings: SAVED,
      check_connection: PASSING,
      check_settings: PASSING,
      save_settings: SAVED,
    });
    await screen.findByTestId("check-summary", {}, { timeout: 5000 });
    await fillAndSave();
    await waitFor(() => expect(count(calls, "save_settings")).toBe(1));
    expect(calls.indexOf("check_settings")).toBeLessThan(calls.indexOf("save_settings"));
    expect(screen.queryByTestId("settings-check-failed")).toBeNull();
  });

  it("offers the direct API address only for direct egress and saves what was typed", async () => {
    const sent: unknown[] = [];
    const { calls } = renderApp(PRODUCTION, "/settings", {
      get_settings: SAVED,
      check_connection: PASSING,
      check_settings: (args: { form: unknown }) => {
        sent.push(args.form);
        return PASSING;
      },
      save_settings: SAVED,
    });
    await screen.findByTestId("check-summary", {}, { timeout: 5000 });
    const field = () => screen.getByTestId("input-api_base").closest(".ant-form-item");
    // Egress through the relay: the address is not asked for.
    expect(field()?.className).toContain("ant-form-item-hidden");
    fireEvent.click(screen.getByLabelText(/本机直连微信/));
    await waitFor(() => expect(field()?.className).not.toContain("ant-form-item-hidden"));
    // WeChat's own address is the placeholder, not a value.
    const input = screen.getByTestId("input-api_base") as HTMLInputElement;
    expect(input.value).toBe("");
    expect(input.placeholder).toBe("https://api.weixin.qq.com");
    fireEvent.change(input, { target: { value: " http://127.0.0.1:7001 " } });
    fireEvent.click(screen.getByTestId("save"));
    await waitFor(() => expect(count(calls, "save_settings")).toBe(1));
    expect(sent).toEqual([
      expect.objectContaining({ egress: "direct", api_base: "http://127.0.0.1:7001" }),
    ]);
  });

  it("says where each value comes from, in English without Chinese", async () => {
    await act(() => i18n.changeLanguage("en"));
    try {
      renderApp(PRODUCTION, "/settings", {
        get_settings: SAVED,
        check_connection: TOKEN_DIFFERS,
      });
      const summary = await screen.findByTestId("check-summary", {}, { timeout: 5000 });
      await waitFor(() => expect(summary.textContent).toContain("1 failed"));
      const where = screen.getByTestId("settings-where");
      expect(where.textContent).toContain("Development settings");
      expect(where.textContent).toContain("Deployment guide");
      const page = screen.getByTestId("page-settings").textContent ?? "";
      expect(page).toContain("(optional)");
      expect(page.match(CJK)).toBeNull();
    } finally {
      await act(() => i18n.changeLanguage("zh-CN"));
    }
  });
});

describe("the deployment guide", () => {
  it("keeps headings, code and tables apart from the text", () => {
    const blocks = guideBlocks(
      "# Title\n\nSome `code` text\nwraps here.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```sh\ncargo build\n```\n## Next",
    );
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "text", text: "Some `code` text wraps here." },
      { kind: "code", text: "| a | b |\n|---|---|\n| 1 | 2 |" },
      { kind: "code", text: "cargo build" },
      { kind: "heading", level: 2, text: "Next" },
    ]);
  });
});
