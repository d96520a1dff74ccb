import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../api";
import { i18n } from "../../i18n";
import { CodeErrorAlert, plainReason } from "./labels";

const REFUSED = new AppError({
  code: "wechat",
  message: "微信接口错误 85009：already submit a version under auditing rid: 1-2-3",
  hint: "等待当前审核结束，或先撤回审核（每天最多 5 次）再提交。",
  errcode: 85009,
});

function renderAlert() {
  mockIPC((cmd, args) => {
    if (cmd === "code_explain" && (args as { errcode: number }).errcode === 85009) {
      return {
        errcode: 85009,
        zh: "已有版本在审核中",
        en: "a version is already under audit",
        hint_zh: "",
        hint_en: "",
      };
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  render(
    <QueryClientProvider client={new QueryClient()}>
      <CodeErrorAlert error={REFUSED} />
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

describe("a WeChat refusal on the code page", () => {
  it("says what the errcode means, WeChat's own words, and what to do", async () => {
    renderAlert();
    await screen.findByText("已有版本在审核中");
    const box = screen.getByTestId("code-error");
    expect(box.textContent).toContain("errcode 85009");
    expect(box.textContent).toContain("already submit a version under auditing");
    expect(box.textContent).toContain("先撤回审核");
    expect(box.textContent).toContain("微信返回错误");
  });

  it("explains it in English on the English screen", async () => {
    await i18n.changeLanguage("en");
    renderAlert();
    await waitFor(() => screen.getByText("a version is already under audit"));
  });
});

describe("WeChat's review reasons", () => {
  it("lose their markup and keep their line breaks", () => {
    expect(plainReason("1：页面空白<br>2：<b>类目</b>不符<BR/>")).toBe("1：页面空白\n2：类目不符");
  });
});
