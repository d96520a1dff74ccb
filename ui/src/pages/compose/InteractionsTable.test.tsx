import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import "../../i18n";
import type { InteractionPage, InteractionRow } from "../../api/interactions";
import { InteractionsTable } from "./InteractionsTable";

const APPID = "wx1234567890abcdef";

const row = (openid: string, over: Partial<InteractionRow> = {}): InteractionRow => ({
  openid,
  remark: null,
  kind: "text",
  preview: "",
  last_at: 1_800_000_000,
  window_until: 1_800_000_000 + 48 * 3600,
  remaining_secs: 47 * 3600,
  ...over,
});

/** The table with interactions_open answered page by page; returns the calls' arguments. */
function renderTable(pages: InteractionPage[], selected: string[] = []) {
  const asked: unknown[] = [];
  mockIPC((cmd, args) => {
    if (cmd.startsWith("plugin:event|")) return 1;
    if (cmd !== "interactions_open") throw new Error(`unexpected command ${cmd}`);
    asked.push(args);
    return pages[asked.length - 1] ?? pages[pages.length - 1];
  });
  const onSelect = vi.fn();
  render(
    <QueryClientProvider client={new QueryClient()}>
      <InteractionsTable appid={APPID} selected={selected} onSelect={onSelect} />
    </QueryClientProvider>,
  );
  return { asked, onSelect };
}

describe("the 48-hour interaction list", () => {
  it("says how the window opens when nobody can be written to", async () => {
    renderTable([{ rows: [], total: 0, next: null }]);
    const empty = await screen.findByTestId("interactions-empty");
    expect(empty.textContent).toContain("目前没有可以接收客服消息的用户");
    expect(empty.textContent).toContain("48 小时内");
  });

  it("shows each user's remark, action, preview and time left", async () => {
    renderTable([
      {
        rows: [
          row("oA", { remark: "张三", preview: "请问发货了吗", remaining_secs: 23 * 3600 + 59 }),
          row("oB", { kind: "click", remaining_secs: 30 }),
        ],
        total: 2,
        next: null,
      },
    ]);
    const card = await screen.findByTestId("interactions-card");
    const a = await within(card).findByText("“请问发货了吗”");
    const rowA = a.closest("tr");
    expect(rowA?.textContent).toContain("张三");
    expect(rowA?.textContent).toContain("发来文字");
    expect(rowA?.textContent).toContain("还剩 23 小时");
    const rowB = card.querySelector("tr[data-row-key='oB']");
    expect(rowB?.textContent).toContain("点击菜单");
    expect(rowB?.textContent).toContain("还剩 1 分钟");
    expect(card.textContent).toContain("共 2 人可接收客服消息");
  });

  it("ticks a row with a click and passes every shown openid along", async () => {
    const { onSelect } = renderTable(
      [{ rows: [row("oA"), row("oB")], total: 2, next: null }],
      ["oB", "typed"],
    );
    const card = await screen.findByTestId("interactions-card");
    const openid = await within(card).findByText("oA");
    const tr = openid.closest("tr");
    if (!tr) throw new Error("no row");
    fireEvent.click(tr);
    expect(onSelect).toHaveBeenCalledWith(["oB", "oA"], new Set(["oA", "oB"]));
  });

  it("asks for the next page after the last row's cursor", async () => {
    const { asked } = renderTable([
      { rows: [row("oA")], total: 2, next: { last_at: 1_800_000_000, openid: "oA" } },
      { rows: [row("oB")], total: 2, next: null },
    ]);
    fireEvent.click(await screen.findByText("加载更多"));
    await screen.findByText("oB");
    expect(asked).toEqual([
      { appid: APPID, after: null, limit: 200 },
      { appid: APPID, after: { last_at: 1_800_000_000, openid: "oA" }, limit: 200 },
    ]);
  });
});
