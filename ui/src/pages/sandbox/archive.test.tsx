import { QueryClient } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import type { AccountView } from "../../api/shell";
import type { AppInfo } from "../../bindings";
import { routes } from "../../routes";
import { SANDBOX_INFO } from "../../test/renderApp";

// Sandbox and production never mix (#16): the sandbox's accounts kept after switching to a real
// platform are shown apart and marked 沙箱, never as 已授权 / 令牌正常; the switch asks whether
// to keep them or remove them; 体验沙箱 stays reachable while nothing is configured.

const SANDBOX_PLATFORM = "wx5a9d0c0e7f3b1a2c";
const REAL_PLATFORM = "wx0000111122223333";
const SANDBOX_OA = "wx1a2b3c4d5e6f7a8b";
const REAL_OA = "wx9999888877776666";
const PRODUCTION: AppInfo = { ...SANDBOX_INFO, mode: "production", platform_appid: REAL_PLATFORM };
const UNCONFIGURED: AppInfo = { ...SANDBOX_INFO, mode: "unconfigured", platform_appid: null };

function account(appid: string, platform: string, current: boolean): AccountView {
  return {
    appid,
    kind: "oa",
    account_type: "service",
    // The same name on both sides: the user could not tell them apart before.
    nickname: "星辰服务号",
    head_img: "",
    user_name: "gh_1",
    principal: "星辰(深圳)有限公司",
    verified: true,
    verification: "wechat",
    permissions: [1, 7],
    missing_template_permission: false,
    status: "authorized",
    authorized_at: 1_760_000_000,
    updated_at: 1_760_000_000,
    has_refresh_token: true,
    component_appid: platform,
    sandbox: platform === SANDBOX_PLATFORM,
    current_platform: current,
  };
}

const ARCHIVED = { component_appid: SANDBOX_PLATFORM, sandbox: true, appids: [SANDBOX_OA] };

/** The whole app with a shell whose answers the test can change (`state`). */
function renderWith(path: string, state: { info: AppInfo; archived: (typeof ARCHIVED)[] }) {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    switch (cmd) {
      case "app_info":
        return state.info;
      case "list_accounts":
        return [
          account(REAL_OA, REAL_PLATFORM, true),
          account(SANDBOX_OA, SANDBOX_PLATFORM, false),
        ];
      case "archived_platforms":
        return state.archived;
      case "sandbox_appids":
        return [SANDBOX_OA];
      case "purge_archived_accounts":
        state.archived = [];
        return { component_appid: SANDBOX_PLATFORM, appids: [SANDBOX_OA], data_rows: 3 };
      case "get_settings":
        return {
          settings: null,
          appsecret_saved: false,
          token_saved: false,
          aes_key_saved: false,
          relay_key_saved: false,
        };
      case "check_connection":
        return [];
      case "feed_parked":
        return [];
      case "team_membership":
      case "team_status":
        return null;
      case "overview":
      case "jobs_list":
        throw { code: "not_configured", message: "尚未配置", hint: null, errcode: null };
      default:
        if (cmd.startsWith("plugin:")) return null;
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<App router={router} queryClient={queryClient} />);
  return { router, queryClient, calls, asked: () => calls.map((c) => c.cmd) };
}

describe("accounts of another platform", () => {
  it("are listed apart, marked 沙箱 and never shown as authorized", async () => {
    renderWith("/accounts", { info: PRODUCTION, archived: [ARCHIVED] });
    const table = await screen.findByTestId("accounts-table");
    await waitFor(() => expect(table.querySelector(`[data-appid=${REAL_OA}]`)).not.toBeNull());
    expect(table.querySelector(`[data-appid=${SANDBOX_OA}]`)).toBeNull();
    expect(within(table).queryByTestId("sandbox-tag")).toBeNull();

    const archived = await screen.findByTestId("archived-accounts");
    const row = archived.querySelector(`[data-appid=${SANDBOX_OA}]`) as HTMLElement;
    expect(row).not.toBeNull();
    expect(within(row).getByTestId("sandbox-tag").textContent).toBe("沙箱");
    expect(within(row).getByTestId("account-status").textContent).toBe("存档 · 不可用");
    expect(row.textContent).not.toContain("已授权");
    expect(row.textContent).not.toContain("令牌正常");
  });

  it("are removed only after the user confirms it", async () => {
    const { asked } = renderWith("/accounts", { info: PRODUCTION, archived: [ARCHIVED] });
    fireEvent.click(await screen.findByTestId(`purge-archive-${SANDBOX_PLATFORM}`));
    expect(await screen.findByText(/删除 1 个存档账号/)).toBeTruthy();
    expect(asked()).not.toContain("purge_archived_accounts");
    fireEvent.click(screen.getByRole("button", { name: /确\s*定|OK/ }));
    await waitFor(() => expect(asked()).toContain("purge_archived_accounts"));
  });
});

describe("switching from the sandbox to a real platform", () => {
  it("asks whether to keep the sandbox's data, and keeping it deletes nothing", async () => {
    const state = { info: { ...SANDBOX_INFO } as AppInfo, archived: [] as (typeof ARCHIVED)[] };
    const { queryClient, asked } = renderWith("/settings", state);
    expect((await screen.findByTestId("sandbox-settings")).textContent).toContain(
      "正在使用体验沙箱",
    );
    // 保存 of a real platform: the mode changes and the sandbox's accounts are now an archive.
    state.info = PRODUCTION;
    state.archived = [ARCHIVED];
    await act(() => queryClient.invalidateQueries());
    const dialog = await screen.findByText("已切换到正式平台：如何处理体验沙箱的数据？");
    expect(dialog).toBeTruthy();
    fireEvent.click(screen.getByTestId("keep-sandbox-archive"));
    expect(await screen.findByText(/沙箱数据已保留为存档/)).toBeTruthy();
    expect(asked()).not.toContain("purge_archived_accounts");
    // The card keeps offering removal.
    expect((await screen.findByTestId("sandbox-archive")).textContent).toContain("1 个沙箱账号");
  });
});

describe("体验沙箱", () => {
  it("stays on 概览 after looking at another page, and is offered in 设置", async () => {
    const { router } = renderWith("/overview", { info: UNCONFIGURED, archived: [] });
    expect(await screen.findByTestId("start-sandbox")).toBeTruthy();
    await act(() => router.navigate("/history"));
    await waitFor(() => expect(screen.queryByTestId("start-sandbox")).toBeNull());
    await act(() => router.navigate("/overview"));
    expect(await screen.findByTestId("start-sandbox")).toBeTruthy();
    await act(() => router.navigate("/settings"));
    expect(await screen.findByTestId("settings-start-sandbox")).toBeTruthy();
  });
});
