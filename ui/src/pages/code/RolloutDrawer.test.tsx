import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App as AntdApp } from "antd";
import { describe, expect, it, vi } from "vitest";
import "../../i18n";
import type { Library, RolloutForm } from "../../bindings";
import { RolloutDrawer } from "./RolloutDrawer";

const A = "wxc000000000000001";
const B = "wxc000000000000002";
const LIBRARY: Library = {
  drafts: [],
  templates: [
    {
      template_id: 7,
      draft_id: 3,
      user_version: "1.4.0",
      user_desc: "会员版",
      create_time: 1_760_000_000,
      template_type: 0,
      source_miniprogram_appid: "",
      source_miniprogram: "",
    },
  ],
};

describe("新建批量发版 from a client table", () => {
  it("sends the chosen file, previews each client's ext.json with its line, and only then starts", async () => {
    const planned: RolloutForm[] = [];
    const started: RolloutForm[] = [];
    mockIPC((cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      if (cmd === "code_library") return LIBRARY;
      if (cmd === "plugin:dialog|open") return "/home/staff/clients.xlsx";
      if (cmd === "code_rollout_plan") {
        planned.push(a.form as RolloutForm);
        return [
          { appid: A, line: 2, ext_json: `{"ext":{"shop":"一号店"},"extAppid":"${A}"}` },
          { appid: B, line: 3, ext_json: `{"ext":{"shop":"二号店"},"extAppid":"${B}"}` },
        ];
      }
      if (cmd === "code_rollout_create") {
        started.push(a.form as RolloutForm);
        return 42;
      }
      if (cmd === "code_rollout_start") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    const onStarted = vi.fn();
    render(
      <QueryClientProvider client={new QueryClient()}>
        <AntdApp>
          <RolloutDrawer
            appids={[]}
            minis={[
              { appid: A, nickname: "一号店小程序" },
              { appid: B, nickname: "二号店小程序" },
            ]}
            names={
              new Map([
                [A, "一号店小程序"],
                [B, "二号店小程序"],
              ])
            }
            onClose={() => undefined}
            onStarted={onStarted}
          />
        </AntdApp>
      </QueryClientProvider>,
    );

    // The template fills its version; the table replaces the picked mini programs.
    await waitFor(() => expect(screen.getAllByRole("combobox").length).toBeGreaterThan(0));
    fireEvent.mouseDown(screen.getAllByRole("combobox")[0] as HTMLElement);
    fireEvent.click(await screen.findByTitle("#7 · 1.4.0 · 会员版"));
    expect((screen.getByTestId("rollout-version") as HTMLInputElement).value).toBe("1.4.0");
    fireEvent.click(screen.getByText("客户表（CSV / Excel）"));
    fireEvent.click(screen.getByText("选择客户表…"));
    await screen.findByText("/home/staff/clients.xlsx");
    const start = () => screen.getByTestId("rollout-start").closest("button") as HTMLButtonElement;
    expect(start().disabled).toBe(true);

    fireEvent.click(screen.getByTestId("rollout-preview"));
    const plan = await screen.findByTestId("rollout-plan");
    expect(planned[0]?.clients).toEqual({ kind: "table", path: "/home/staff/clients.xlsx" });
    expect(planned[0]?.template_id).toBe(7);
    expect(plan.textContent).toContain("将把 1.4.0 部署到 2 个小程序");
    const rows = plan.querySelectorAll("tbody tr.ant-table-row");
    expect(
      Array.from(rows, (r) => within(r as HTMLElement).getAllByRole("cell")[1]?.textContent),
    ).toEqual(["2", "3"]);
    expect(plan.textContent).toContain('"shop":"二号店"');

    // A change after the preview takes the preview away: what starts is what was previewed.
    fireEvent.change(screen.getByTestId("rollout-version"), { target: { value: "1.4.1" } });
    await waitFor(() => expect(screen.queryByTestId("rollout-plan")).toBeNull());
    expect(start().disabled).toBe(true);
    fireEvent.click(screen.getByTestId("rollout-preview"));
    await screen.findByTestId("rollout-plan");
    fireEvent.click(start());
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(42));
    expect(started[0]?.user_version).toBe("1.4.1");
    expect(started[0]?.base_ext_json).toContain('"extEnable"');
  });
});
