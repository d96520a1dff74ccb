// 小程序用户映射 reports a repeated user whose values differ as the file import does: beside the
// row kept, not dropped unseen into the duplicates count.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen } from "@testing-library/react";
import { App } from "antd";
import { afterEach, describe, expect, it } from "vitest";
import type { BridgeView } from "../../api/audience";
import { i18n } from "../../i18n";
import { BridgeTab } from "./BridgeTab";

const REPORT: BridgeView = {
  format: "csv_utf8",
  rows_read: 4,
  duplicates_removed: 1,
  conflicting_count: 1,
  conflicting: [
    {
      openid: "oFOLLOWERaaaaaaaaaaaaaaaaaaa",
      kept_line: 2,
      kept_values: ["oMINIaaaaaaaaaaaaaaaaaaaaaaa", "10"],
      dropped_line: 4,
      dropped_values: ["oMINIaaaaaaaaaaaaaaaaaaaaaaa", "99"],
    },
  ],
  matched: 2,
  no_unionid: 1,
  not_following: 0,
  unsubscribed: 0,
  followers_without_details: 0,
  unmatched: [],
  variables: ["小程序openid", "积分"],
  sample: [],
};

function renderTab(report: BridgeView) {
  mockIPC((cmd) => {
    if (cmd.startsWith("plugin:event|")) return 1;
    if (cmd === "plugin:dialog|open") return "/home/staff/mini-users.csv";
    if (cmd === "bridge_preview") return report;
    throw new Error(`unexpected command ${cmd}`);
  });
  render(
    <QueryClientProvider
      client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
    >
      <App>
        <BridgeTab appid="wx1234567890abcdef" />
      </App>
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

describe("小程序用户映射", () => {
  for (const l of [
    { lng: "zh-CN", title: "1 个重复的 openid 其他列的值不同", kept: "第 2 行：" },
    { lng: "en", title: "1 repeated", kept: "Line 2: " },
  ]) {
    it(`lists a repeated user whose values differ beside the row kept (${l.lng})`, async () => {
      await i18n.changeLanguage(l.lng);
      renderTab(REPORT);
      fireEvent.click(
        screen.getByRole("button", {
          name: new RegExp(i18n.t("audience.bridge.choose").replace("…", "")),
        }),
      );
      const table = await screen.findByTestId("bridge-conflicts");
      expect(screen.getByTestId("bridge-report").textContent).toContain(l.title);
      const cells = Array.from(table.querySelectorAll("tbody tr.ant-table-row")).map((r) =>
        Array.from(r.querySelectorAll("td")).map((td) => td.textContent),
      );
      expect(cells).toHaveLength(1);
      const [openid, kept, dropped] = cells[0] ?? [];
      expect(openid).toBe("oFOLLOWERaaaaaaaaaaaaaaaaaaa");
      expect(kept).toContain(l.kept);
      expect(kept).toContain("积分=10");
      expect(dropped).toContain("积分=99");
    });
  }

  it("shows no such table when every repeat was identical", async () => {
    renderTab({ ...REPORT, conflicting_count: 0, conflicting: [] });
    fireEvent.click(screen.getByRole("button", { name: /选择小程序用户文件/ }));
    await screen.findByTestId("bridge-report");
    expect(screen.queryByTestId("bridge-conflicts")).toBeNull();
  });
});
