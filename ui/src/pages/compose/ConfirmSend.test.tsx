import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import "../../i18n";
import type { SendQuotaView } from "../../api/compose";
import type { ShellError } from "../../bindings";
import { ConfirmSend } from "./ConfirmSend";

const ESTIMATE = { recipients: 30, rate_per_sec: 200, eta_secs: 1, left_out: 0 };

/** The dialog for 30 recipients, with compose_quota answered by `quota` (or failing with it). */
function renderDialog(quota: SendQuotaView | ShellError | "never", estimate = ESTIMATE) {
  const asked: unknown[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== "compose_quota") throw new Error(`unexpected command ${cmd}`);
    asked.push(args);
    if (quota === "never") return new Promise(() => {});
    if ("code" in quota) throw quota;
    return quota;
  });
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <ConfirmSend
        appid="wx1234567890abcdef"
        templateTitle="订单发货通知"
        estimate={estimate}
        sending={false}
        onOk={() => {}}
        onCancel={() => {}}
      />
    </QueryClientProvider>,
  );
  return asked;
}

describe("the send confirmation's quota", () => {
  it("shows a loading state while WeChat is asked", async () => {
    const asked = renderDialog("never");
    expect((await screen.findByTestId("quota-loading")).textContent).toContain("正在向微信查询");
    expect(asked).toEqual([{ appid: "wx1234567890abcdef" }]);
  });

  it("shows what is left and the limit, without a warning when the recipients fit", async () => {
    renderDialog({ daily_limit: 100000, used: 1, remaining: 99999 });
    expect((await screen.findByTestId("quota-value")).textContent).toContain(
      "99,999 / 上限 100,000",
    );
    expect(screen.queryByTestId("quota-warning")).toBeNull();
  });

  it("warns that the job pauses at 45009 when the recipients exceed what is left", async () => {
    renderDialog({ daily_limit: 100, used: 90, remaining: 10 });
    const warning = await screen.findByTestId("quota-warning");
    expect(warning.textContent).toContain("接收者 30 人，超过今日剩余额度 10");
    expect(warning.textContent).toContain("45009");
    expect(warning.textContent).toContain("北京时间零点");
    expect(warning.textContent).toContain("其余 20 人");
  });

  it("says why the query failed and still lets the operator send", async () => {
    renderDialog({
      code: "invalid",
      message: "查询今日额度失败（errcode 76022）：无权查询该接口的额度",
      hint: null,
      errcode: null,
    });
    expect((await screen.findByTestId("quota-failed")).textContent).toContain(
      "额度查询失败：查询今日额度失败（errcode 76022）",
    );
    expect(document.getElementById("confirm-send")?.hasAttribute("disabled")).toBe(false);
  });

  it("counts the file rows the send leaves out, and says nothing when none are", async () => {
    renderDialog(
      { daily_limit: 100000, used: 1, remaining: 99999 },
      { ...ESTIMATE, left_out: 1200 },
    );
    expect((await screen.findByTestId("confirm-left-out")).textContent).toBe(
      "另有 1,200 行 openid 无效或重复，不发送",
    );
  });

  it("shows no left-out line for a clean list", async () => {
    renderDialog({ daily_limit: 100000, used: 1, remaining: 99999 });
    expect((await screen.findByTestId("confirm-count")).textContent).toBe("30");
    expect(screen.queryByTestId("confirm-left-out")).toBeNull();
  });
});
