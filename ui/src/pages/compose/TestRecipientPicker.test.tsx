import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import "../../i18n";
import type { InteractionRow } from "../../api/interactions";
import { SANDBOX_INFO } from "../../test/renderApp";
import { TestRecipientPicker } from "./TestRecipientPicker";

const APPID = "wx1234567890abcdef";
const ME = "oMEmeMEmeMEmeMEmeMEmeMEme001";
const FOLLOWER = "oFOLLOWERfollowerFOLLOWER002";

const wrote = (openid: string, over: Partial<InteractionRow> = {}): InteractionRow => ({
  openid,
  remark: null,
  kind: "text",
  preview: "测试",
  last_at: Math.floor(Date.now() / 1000) - 120,
  window_until: Math.floor(Date.now() / 1000) + 47 * 3600,
  remaining_secs: 47 * 3600,
  ...over,
});

const QR_URL = "http://weixin.qq.com/q/sandboxCODE0123456789";

function renderPicker(
  rows: InteractionRow[],
  qr: () => unknown = () => ({ url: QR_URL, expires_at: 0 }),
) {
  mockIPC((cmd) => {
    if (cmd.startsWith("plugin:event|")) return 1;
    if (cmd === "app_info") return SANDBOX_INFO;
    if (cmd === "compose_find_yourself_qr") return qr();
    if (cmd === "interactions_open") return { rows, total: rows.length, next: null };
    if (cmd === "followers_page")
      return { items: [{ openid: FOLLOWER, remark: "李雷" }], total: 1, next: null };
    throw new Error(`unexpected command ${cmd}`);
  });
  const onChange = vi.fn();
  render(
    <QueryClientProvider client={new QueryClient()}>
      <TestRecipientPicker appid={APPID} value="" onChange={onChange} />
    </QueryClientProvider>,
  );
  return onChange;
}

describe("先发给自己's recipient", () => {
  it("offers whoever just wrote to the account first, so staff can pick themselves", async () => {
    const onChange = renderPicker([wrote(ME)]);
    expect((await screen.findByTestId("test-openid-hint")).textContent).toContain(
      "给这个公众号发一条消息",
    );
    fireEvent.mouseDown(screen.getByRole("combobox"));
    const recent = await screen.findByText("刚给公众号发过消息的人");
    expect(recent).toBeTruthy();
    expect(await screen.findByText("2 分钟前发来消息")).toBeTruthy();
    await waitFor(() => expect(screen.getByText("已同步的粉丝")).toBeTruthy());
    fireEvent.click(screen.getByText(ME));
    expect(onChange).toHaveBeenCalledWith(ME);
  });

  it("lists only the followers when nobody wrote", async () => {
    renderPicker([]);
    const box = await screen.findByRole("combobox");
    await waitFor(() => {
      fireEvent.mouseDown(box);
      expect(screen.getAllByText(FOLLOWER).length).toBeGreaterThan(0);
    });
    expect(screen.queryByText("刚给公众号发过消息的人")).toBeNull();
  });

  it("shows the account's code to scan and offers whoever scanned since, not who wrote before", async () => {
    const now = Math.floor(Date.now() / 1000);
    const onChange = renderPicker([
      wrote(ME, { kind: "scan", preview: "", last_at: now }),
      wrote(FOLLOWER, { last_at: now - 3600 }),
    ]);
    fireEvent.click(await screen.findByTestId("find-yourself"));
    const code = await screen.findByTestId("find-yourself-qr");
    expect(code.getAttribute("data-url")).toBe(QR_URL);
    // The sandbox's code cannot be scanned by a phone: said, not hidden.
    expect(await screen.findByText(/手机扫不开/)).toBeTruthy();
    const scanned = await screen.findByTestId("find-yourself-scanned");
    expect(scanned.textContent).toContain(ME);
    expect(scanned.textContent).not.toContain(FOLLOWER);
    fireEvent.click(screen.getByTestId(`find-yourself-pick-${ME}`));
    expect(onChange).toHaveBeenCalledWith(ME);
  });

  it("says why an account cannot make a code and what works instead", async () => {
    renderPicker([], () => {
      throw {
        code: "input",
        message:
          "该账号不能生成带参数二维码（微信只允许已认证的服务号，错误码 48001）。请用手机微信给公众号发一条消息，再在列表中选择刚发消息的自己，或按备注搜索。",
        hint: null,
      };
    });
    fireEvent.click(await screen.findByTestId("find-yourself"));
    const error = await screen.findByTestId("find-yourself-error");
    expect(error.textContent).toContain("48001");
    expect(error.textContent).toContain("按备注搜索");
  });
});
