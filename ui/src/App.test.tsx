import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderApp, SANDBOX_INFO } from "./test/renderApp";

const SIDEBAR_ZH = [
  "概览",
  "授权账号",
  "模板",
  "用户与名单",
  "发送",
  "任务",
  "发送记录",
  "小程序代码",
  "设置",
];
const SIDEBAR_EN = [
  "Overview",
  "Accounts",
  "Templates",
  "Users & lists",
  "Send",
  "Jobs",
  "History",
  "Mini-program code",
  "Settings",
];

function sidebarLabels() {
  const sidebar = screen.getByTestId("sidebar");
  return within(sidebar)
    .getAllByTestId(/^nav-/)
    .map((el) => el.textContent);
}

describe("app frame", () => {
  it("renders the sidebar in Chinese, in product order, by default", async () => {
    renderApp();
    await screen.findByTestId("page-overview");
    expect(sidebarLabels()).toEqual(SIDEBAR_ZH);
    expect(screen.getByTestId("app-title").textContent).toBe("wxdesk");
    expect(document.querySelector(".ant-menu-item-selected")?.textContent).toBe("概览");
  });

  it("shows the 沙箱 badge when app_info reports the sandbox", async () => {
    const { calls } = renderApp();
    const badge = await screen.findByText("沙箱");
    expect(badge.closest("[data-testid=mode-badge]")?.getAttribute("data-mode")).toBe("sandbox");
    expect(calls).toContain("app_info");
  });

  it("shows the 正式 badge when app_info reports a real platform", async () => {
    renderApp({ ...SANDBOX_INFO, mode: "production", platform_appid: null });
    const badge = await screen.findByText("正式");
    expect(badge.closest("[data-testid=mode-badge]")?.getAttribute("data-mode")).toBe("production");
    expect(screen.queryByText("沙箱")).toBeNull();
  });

  it("shows the 未配置 badge before a platform is chosen", async () => {
    renderApp({ ...SANDBOX_INFO, mode: "unconfigured", platform_appid: null });
    const badge = await screen.findByText("未配置");
    expect(badge.closest("[data-testid=mode-badge]")?.getAttribute("data-mode")).toBe(
      "unconfigured",
    );
    expect(screen.queryByText("正式")).toBeNull();
    expect(screen.queryByText("沙箱")).toBeNull();
  });

  it("switches the sidebar, pages and antd's own locale to English and back", async () => {
    renderApp(SANDBOX_INFO, "/settings");
    await screen.findByTestId("app-info");
    // antd's built-in strings (here the copy button's label) follow ConfigProvider's locale.
    expect(screen.getByRole("button", { name: "复制" })).toBeTruthy();

    fireEvent.click(screen.getByTestId("lang-en"));
    await waitFor(() => expect(sidebarLabels()).toEqual(SIDEBAR_EN));
    // The badge shows in the header and on the settings page.
    expect(screen.getAllByText("Sandbox")).toHaveLength(2);
    expect(screen.getByRole("heading", { name: "Settings" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Copy" })).toBeTruthy();
    expect(document.documentElement.lang).toBe("en");

    fireEvent.click(screen.getByTestId("lang-zh-CN"));
    await waitFor(() => expect(sidebarLabels()).toEqual(SIDEBAR_ZH));
    expect(screen.getAllByText("沙箱")).toHaveLength(2);
  });

  it("navigates through the sidebar and leads an empty page to its next step", async () => {
    const { router } = renderApp();
    await screen.findByTestId("page-overview");

    fireEvent.click(screen.getByTestId("nav-accounts"));
    await screen.findByText("还没有授权账号");
    expect(router.state.location.pathname).toBe("/accounts");

    fireEvent.click(screen.getByTestId("empty-action-accounts"));
    await screen.findByTestId("authorize-wizard");
    expect(router.state.location.pathname).toBe("/accounts/authorize");
    // The sub-page keeps 授权账号 selected in the sidebar.
    expect(document.querySelector(".ant-menu-item-selected")?.textContent).toBe("授权账号");
  });

  it("shows the data directory and platform appid on the settings page", async () => {
    renderApp(SANDBOX_INFO, "/settings");
    const info = await screen.findByTestId("app-info");
    expect(within(info).getByText("/tmp/wxdesk-test")).toBeTruthy();
    expect(within(info).getByText("wx5a9d0c0e7f3b1a2c")).toBeTruthy();
  });

  it("shows a failed app_info as its code's title, message and hint, and an unknown badge", async () => {
    renderApp(
      {
        code: "invalid_config",
        message: "WXDESK_MODE 的值「x」无效",
        hint: "设为 sandbox。",
        errcode: null,
      },
      "/settings",
    );
    await screen.findByText("配置有误");
    expect(screen.getByText("WXDESK_MODE 的值「x」无效。设为 sandbox。")).toBeTruthy();
    expect(screen.getByText("状态未知")).toBeTruthy();
  });
});
