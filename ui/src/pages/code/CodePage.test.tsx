import { QueryClient } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import type { useAccounts } from "../../api/shell";
import type { CodeStatus, Library, VersionSummary } from "../../bindings";
import { routes } from "../../routes";
import { useUiStore } from "../../store/ui";
import { SANDBOX_INFO } from "../../test/renderApp";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;
const FRUIT = "wxf000000000000001";
const TEA = "wxf000000000000002";

/** An account as list_accounts returns it; the page reads only these fields. */
type Account = NonNullable<ReturnType<typeof useAccounts>["data"]>[number];

function account(
  appid: string,
  nickname: string,
  over: { kind?: string; status?: string; current_platform?: boolean; sandbox?: boolean } = {},
): Account {
  return {
    appid,
    kind: "mini",
    nickname,
    status: "authorized",
    authorized_at: 1_760_000_000,
    updated_at: 1_760_000_000,
    has_refresh_token: true,
    permissions: [],
    current_platform: true,
    ...over,
  } as unknown as Account;
}

const ACCOUNTS = [
  account(FRUIT, "鲜果小程序"),
  account(TEA, "茶饮小程序"),
  account("wxf000000000000003", "某某服务号", { kind: "oa" }),
  account("wxf000000000000004", "旧店小程序", { status: "unauthorized" }),
  // Kept from the sandbox after switching to a real platform: never offered (#16).
  account("wxf000000000000005", "沙箱小程序", { current_platform: false, sandbox: true }),
];

const STATUS: Record<string, CodeStatus> = {
  [FRUIT]: {
    appid: FRUIT,
    trial: { version: "1.3.0", desc: "", time: 1_760_000_000 },
    online: { version: "1.2.0", desc: "", time: 1_759_000_000 },
    latest_audit: {
      auditid: 7,
      state: "rejected",
      status: 1,
      reason: "页面内容不完整<br>请补充",
      screenshot: null,
      user_version: "1.3.0",
      submitted_at: 1_760_000_100,
    },
    last_push: null,
    visit_open: true,
  },
  [TEA]: {
    appid: TEA,
    trial: null,
    online: null,
    latest_audit: null,
    last_push: null,
    visit_open: null,
  },
};

const LIBRARY: Library = { drafts: [], templates: [] };
const VERSIONS: VersionSummary = {
  groups: [
    { version: "1.2.0", appids: [FRUIT] },
    { version: null, appids: [TEA] },
  ],
  unknown: [],
};

function renderCode(accounts: Account[]) {
  const asked: string[] = [];
  mockIPC((cmd, args) => {
    asked.push(cmd);
    const a = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case "app_info":
        return SANDBOX_INFO;
      case "list_accounts":
        return accounts;
      case "code_status":
        return STATUS[a.appid as string];
      case "code_quota":
        return { rest: 19, limit: 20, speedup_rest: 3, speedup_limit: 5 };
      case "code_versions":
        return VERSIONS;
      case "code_library":
        return LIBRARY;
      case "code_rollouts":
        return [];
      case "sandbox_appids":
        return [];
      case "feed_parked":
        return [];
      case "set_language":
        return null;
      default:
        if (cmd.startsWith("plugin:")) return null;
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  const router = createMemoryRouter(routes, { initialEntries: ["/code"] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<App router={router} queryClient={queryClient} />);
  return { router, asked };
}

describe("小程序代码 page", () => {
  it("lists the authorized mini programs by name with their versions, review and the quota", async () => {
    renderCode(ACCOUNTS);
    const table = await screen.findByTestId("minis-table");
    await waitFor(() => expect(within(table).getAllByTestId("online-version")).toHaveLength(1));
    const rows = table.querySelectorAll("tbody tr.ant-table-row");
    expect(
      Array.from(rows, (r) => within(r as HTMLElement).getByTestId("mini-name").textContent),
    ).toEqual(["鲜果小程序", "茶饮小程序"]);
    const fruit = rows[0] as HTMLElement;
    expect(within(fruit).getByTestId("trial-version").textContent).toContain("1.3.0");
    expect(within(fruit).getByTestId("online-version").textContent).toContain("1.2.0");
    expect(within(fruit).getByTestId("audit-state").textContent).toBe("审核未通过");
    expect(within(rows[1] as HTMLElement).getByText("未提交过审核")).toBeTruthy();
    expect((await screen.findByTestId("code-quota")).textContent).toBe(
      "本月审核额度剩余 19 / 20 · 加急剩余 3 / 5",
    );
    // The version spread names the clients, newest version first.
    const spread = await screen.findByTestId("version-summary");
    await waitFor(() => expect(spread.textContent).toContain("1.2.0"));
    expect(spread.textContent?.indexOf("1.2.0")).toBeLessThan(
      spread.textContent?.indexOf("未发布") ?? 0,
    );
    // Release is offered only once a review has passed.
    expect(within(fruit).getByTestId("action-release").closest("button")?.disabled).toBe(true);
  });

  it("says to authorize a mini program first when there is none, and leads to 授权账号", async () => {
    const { router, asked } = renderCode([ACCOUNTS[2] as Account]);
    const empty = await screen.findByTestId("empty-action-code");
    expect(screen.getByText("还没有授权小程序")).toBeTruthy();
    expect(asked).not.toContain("code_quota");
    fireEvent.click(empty);
    await waitFor(() => expect(router.state.location.pathname).toBe("/accounts"));
  });

  it("shows no Chinese on the English screen besides the clients' own names", async () => {
    useUiStore.getState().setLanguage("en");
    renderCode(ACCOUNTS);
    const table = await screen.findByTestId("minis-table");
    await waitFor(() => expect(within(table).getAllByTestId("audit-state")).toHaveLength(1));
    await screen.findByTestId("code-quota");
    await waitFor(() =>
      expect(screen.getByTestId("version-summary").textContent).toContain("Not released"),
    );
    const page = screen.getByTestId("page-code");
    let text = page.textContent ?? "";
    for (const a of ACCOUNTS) text = text.replaceAll(a.nickname, "");
    expect(text.match(new RegExp(CJK.source, "g")) ?? []).toEqual([]);
    expect(text).toContain("Rejected");
  });
});
