import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App } from "antd";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import "../../i18n";
import { SubscribeComposer } from "../compose/SubscribeComposer";
import { UniformTab } from "../compose/UniformTab";
import { QuotaModal } from "./QuotaModal";

const OA = "wx1234567890abcdef";
const MINI = "wxabcdef1234567890";

function wrap(node: React.ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <App>{node}</App>
    </QueryClientProvider>,
  );
}

describe("the quota tools", () => {
  it("show today's numbers and clear only after a confirmation that names the monthly limit", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "quota_get")
        return {
          appid: OA,
          cgi_path: "/cgi-bin/message/template/send",
          quota: { daily_limit: 100000, used: 100000, remaining: 0 },
        };
      if (cmd === "quota_clear") return { appid: OA, component: false, monthly_limit: 10 };
      throw new Error(`unexpected command ${cmd}`);
    });
    wrap(<QuotaModal appid={OA} name="星辰物流服务号" open onClose={() => {}} />);
    expect((await screen.findByTestId("quota-numbers")).textContent).toContain("100000");
    fireEvent.click(screen.getByTestId("quota-clear"));
    // Asked first, with the limit spelled out; nothing cleared yet.
    await waitFor(() =>
      expect(document.body.textContent).toContain("清零 星辰物流服务号 的接口调用次数"),
    );
    expect(document.body.textContent).toContain("每个账号每月最多清零 10 次");
    expect(calls).not.toContain("quota_clear");
    fireEvent.click(document.getElementById("quota-clear-ok") as HTMLElement);
    await waitFor(() => expect(calls).toContain("quota_clear"));
  });
});

describe("the withdrawn unified message", () => {
  it("is attempted, shows WeChat's 45109 and offers the template message that opens the mini program", async () => {
    mockIPC((cmd) => {
      if (cmd === "list_accounts")
        return [
          {
            appid: MINI,
            kind: "mini",
            nickname: "星辰小程序",
            status: "authorized",
            current_platform: true,
          },
          {
            appid: OA,
            kind: "oa",
            nickname: "星辰服务号",
            status: "authorized",
            current_platform: true,
          },
        ];
      if (cmd === "templates_list")
        return [{ template_id: "T".repeat(43), title: "订单支付成功", alias: "", fields: [] }];
      if (cmd === "compose_uniform_send")
        throw {
          code: "invalid",
          message:
            "统一服务消息接口已于 2023-09-20 被微信下线（errcode 45109），消息没有发出。改用公众号的模板消息并跳转小程序",
          hint: null,
          errcode: null,
        };
      throw new Error(`unexpected command ${cmd}`);
    });
    const onReplace = vi.fn();
    wrap(<UniformTab appid={OA} onReplace={onReplace} />);
    expect((await screen.findByTestId("uniform-tab")).textContent).toContain("已被微信下线");
    const pick = async (index: number, text: string) => {
      fireEvent.mouseDown(screen.getAllByRole("combobox")[index] as HTMLElement);
      fireEvent.click(await screen.findByTitle(text));
    };
    await waitFor(() => expect(screen.getAllByRole("combobox")).toHaveLength(2));
    await pick(0, "星辰小程序");
    await pick(1, "订单支付成功");
    fireEvent.change(screen.getByTestId("uniform-to"), { target: { value: "oUser1" } });
    fireEvent.click(screen.getByTestId("uniform-attempt"));
    expect((await screen.findByTestId("uniform-refusal")).textContent).toContain("45109");
    fireEvent.click(screen.getByTestId("uniform-replace"));
    expect(onReplace).toHaveBeenCalledWith({ miniAppid: MINI, miniPage: "pages/index/index" });
  });
});

describe("the 订阅通知 composer", () => {
  it("lists who can receive the template, says who would be refused, and sends to a picked receiver", async () => {
    const TID = "P".repeat(43);
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "subscribe_templates")
        return [
          {
            appid: OA,
            template_id: TID,
            title: "取件提醒",
            content: "取件码:{{character_string1.DATA}}\n",
            example: "",
            kind: "one_time",
            fields: [
              { key: "character_string1", label: "取件码", kind: "character_string", shown: true },
            ],
            synced_at: 1,
          },
        ];
      if (cmd === "lists_list") return [];
      if (cmd === "subscribe_receivers")
        return {
          template_id: TID,
          kind: "one_time",
          total: 1,
          receivers: [
            {
              openid: "oSubscribed1",
              remaining: 2,
              accepted: true,
              last_action: "accept",
              updated_at: 1,
              sent: 0,
            },
          ],
        };
      if (cmd === "compose_subscribe_reach")
        return { template: null, allowed: 1, refused: [], refused_count: 0 };
      if (cmd === "compose_subscribe_send") {
        sent.push(args);
        return { job_id: 7, sent_to: 1, refused: [], refused_count: 0 };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    const router = createMemoryRouter(
      [
        { path: "/compose", element: <SubscribeComposer appid={OA} /> },
        { path: "/jobs", element: <div data-testid="jobs-page" /> },
      ],
      { initialEntries: ["/compose"] },
    );
    wrap(<RouterProvider router={router} />);
    await waitFor(() => expect(screen.getAllByRole("combobox").length).toBeGreaterThan(0));
    fireEvent.mouseDown(screen.getAllByRole("combobox")[0] as HTMLElement);
    fireEvent.click(await screen.findByTitle("取件提醒 · 一次性订阅"));
    expect((await screen.findByTestId("receiver-oSubscribed1")).textContent).toBe("oSubscribed1");
    expect(screen.getByTestId("subscribe-receivers").textContent).toContain("剩余 2 次");
    fireEvent.change(screen.getByTestId("subscribe-field-character_string1"), {
      target: { value: "8-2-3012" },
    });
    fireEvent.click(within(screen.getByTestId("subscribe-receivers")).getByRole("radio"));
    expect((await screen.findByTestId("subscribe-reach")).textContent).toContain("1 人全部可接收");
    fireEvent.click(screen.getByTestId("subscribe-send"));
    await screen.findByTestId("jobs-page");
    expect(sent).toEqual([
      {
        draft: {
          appid: OA,
          template_id: TID,
          title: "",
          data: { character_string1: "8-2-3012" },
          jump: { type: "none" },
        },
        recipients: { type: "openid", openid: "oSubscribed1" },
      },
    ]);
  });
});
