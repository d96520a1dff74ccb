import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen, within } from "@testing-library/react";
import { App as AntdApp } from "antd";
import { afterEach, describe, expect, it } from "vitest";
import type { Rollout, RolloutDetail, RolloutRow, VersionSummary } from "../../bindings";
import { i18n } from "../../i18n";
import { RolloutsTab } from "./RolloutsTab";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;
const A = "wxc000000000000001";
const B = "wxc000000000000002";

const ROLLOUT: Rollout = {
  id: 5,
  template_id: 7,
  user_version: "1.4.0",
  user_desc: "",
  target: "released",
  status: "completed",
  pause: null,
  source: "",
  created_at: 1_760_000_000,
  updated_at: 1_760_000_100,
  finished_at: 1_760_000_100,
  counts: {
    total: 2,
    done: 0,
    audit_failed: 0,
    failed: 2,
    cancelled: 0,
    remaining: 0,
    by_state: { failed: 2 },
  },
};

const row = (appid: string, over: Partial<RolloutRow>): RolloutRow => ({
  appid,
  line: 0,
  state: "failed",
  auditid: null,
  reason: null,
  screenshot: null,
  error: null,
  errcode: null,
  attempts: 1,
  updated_at: 1_760_000_100,
  ext_json: "{}",
  ...over,
});

const DETAIL: RolloutDetail = {
  rollout: ROLLOUT,
  rows: [
    row(A, { error: { zh: "审核已被撤回", en: "The audit was withdrawn" } }),
    row(B, { error: { zh: "中继服务连接失败", en: "Cannot reach the relay" } }),
  ],
};

const VERSIONS: VersionSummary = { groups: [{ version: "1.3.0", appids: [A, B] }], unknown: [] };

function renderTab() {
  mockIPC((cmd) => {
    switch (cmd) {
      case "code_rollouts":
        return [ROLLOUT];
      case "code_rollout":
        return DETAIL;
      case "code_rollout_versions":
        return VERSIONS;
      default:
        if (cmd.startsWith("plugin:")) return null;
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  render(
    <QueryClientProvider client={new QueryClient()}>
      <AntdApp>
        <RolloutsTab names={new Map()} selected={5} onSelect={() => {}} onNew={() => {}} />
      </AntdApp>
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

describe("a rollout's rows", () => {
  it("say why a step failed in the window's language", async () => {
    await i18n.changeLanguage("en");
    renderTab();
    const table = await screen.findByTestId("rollout-rows");
    await within(table).findByText("The audit was withdrawn");
    within(table).getByText("Cannot reach the relay");
    expect(table.textContent).not.toMatch(CJK);

    await i18n.changeLanguage("zh-CN");
    await within(table).findByText("审核已被撤回");
    within(table).getByText("中继服务连接失败");
  });
});
