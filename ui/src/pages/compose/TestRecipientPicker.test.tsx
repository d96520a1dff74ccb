import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import "../../i18n";
import type { InteractionRow } from "../../api/interactions";
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

function renderPicker(rows: InteractionRow[]) {
  mockIPC((cmd) => {
    if (cmd.startsWith("plugin:event|")) return 1;
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
});
