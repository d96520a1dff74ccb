import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App as AntdApp } from "antd";
import { describe, expect, it } from "vitest";
import "../../i18n";
import type { CodeStatus, Domains, ServerLists, ShellError } from "../../bindings";
import { useUiStore } from "../../store/ui";
import { StatusDrawer } from "./StatusDrawer";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;
const MINI = { appid: "wxd000000000000001", nickname: "鲜果小程序" };

const STATUS: CodeStatus = {
  appid: MINI.appid,
  trial: null,
  online: { version: "1.2.0", desc: "", time: 1_760_000_000 },
  latest_audit: null,
  last_push: null,
  visit_open: true,
};

const LISTS: ServerLists = {
  requestdomain: ["https://api.fruit.com", "https://pay.fruit.com"],
  wsrequestdomain: [],
  uploaddomain: ["https://files.fruit.com"],
  downloaddomain: [],
  udpdomain: [],
  tcpdomain: [],
};

type Call = { cmd: string; args: Record<string, unknown> };

function renderDrawer(answer: (c: Call) => unknown) {
  const calls: Call[] = [];
  mockIPC((cmd, args) => {
    const c = { cmd, args: (args ?? {}) as Record<string, unknown> };
    calls.push(c);
    if (cmd === "code_status") return STATUS;
    return answer(c);
  });
  render(
    <QueryClientProvider
      client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
    >
      <AntdApp>
        <StatusDrawer mini={MINI} onClose={() => undefined} />
      </AntdApp>
    </QueryClientProvider>,
  );
  return calls;
}

/** A server that keeps the lists and the webview list, and filters `https://nope.*` out. */
function sim() {
  let lists = LISTS;
  let webview: string[] = [];
  return (c: Call): unknown => {
    if (c.cmd === "code_domains") {
      if (c.args.op === "get") return { current: lists, invalid: [] } satisfies Domains;
      const given = c.args.lists as ServerLists;
      const invalid = given.requestdomain.filter((d) => d.includes("nope"));
      lists = { ...given, requestdomain: given.requestdomain.filter((d) => !d.includes("nope")) };
      return { current: lists, invalid } satisfies Domains;
    }
    if (c.cmd === "code_webview_domains") {
      if (c.args.op === null)
        webview = ["https://m.fruit-platform.com", "https://h5.fruit-platform.com"];
      else if (c.args.op === "set") webview = c.args.domains as string[];
      return webview;
    }
    throw new Error(`unexpected command ${c.cmd}`);
  };
}

/** Types a value into a tags field and presses Enter. */
function typeTag(list: string, value: string) {
  const input = screen
    .getByTestId(`domains-field-${list}`)
    .querySelector("input") as HTMLInputElement;
  fireEvent.change(input, { target: { value } });
  fireEvent.keyDown(input, { key: "Enter", code: "Enter", keyCode: 13 });
}

describe("域名 in a mini program's drawer", () => {
  it("lists the six server-domain lists and the webview domains, and adds the platform's", async () => {
    const calls = renderDrawer(sim());
    const request = await screen.findByTestId("domains-requestdomain");
    expect(Array.from(request.querySelectorAll(".ant-tag"), (t) => t.textContent)).toEqual([
      "https://api.fruit.com",
      "https://pay.fruit.com",
    ]);
    expect(screen.getByTestId("domains-uploaddomain").textContent).toBe("https://files.fruit.com");
    for (const l of ["wsrequestdomain", "downloaddomain", "udpdomain", "tcpdomain"])
      expect(screen.getByTestId(`domains-${l}`).textContent).toBe("（无）");
    expect(screen.getByTestId("domains-limits").textContent).toContain("每月最多修改 50 次");
    expect(screen.getByTestId("domains-limits").textContent).toContain(
      "只保留第三方平台登记的域名",
    );
    expect((await screen.findByTestId("webview-list")).textContent).toBe("还没有配置业务域名。");

    fireEvent.click(screen.getByTestId("webview-add-all"));
    await waitFor(() =>
      expect(
        Array.from(
          screen.getByTestId("webview-list").querySelectorAll(".ant-tag"),
          (t) => t.textContent,
        ),
      ).toEqual(["https://m.fruit-platform.com", "https://h5.fruit-platform.com"]),
    );
    const added = calls.filter((c) => c.cmd === "code_webview_domains" && c.args.op !== "get");
    expect(added.map((c) => c.args)).toEqual([{ appid: MINI.appid, op: null, domains: [] }]);
  });

  it("checks each value's scheme, sends set with the typed lists, and names what WeChat filtered out", async () => {
    const calls = renderDrawer(sim());
    await screen.findByTestId("domains-requestdomain");
    fireEvent.click(screen.getByTestId("domains-edit"));
    await screen.findByTestId("domains-form");
    typeTag("tcpdomain", "tcp.fruit.com");
    typeTag("requestdomain", "https://nope.fruit.com");
    typeTag("wsrequestdomain", " wss://ws.fruit.com ");
    fireEvent.click(document.getElementById("domains-save") as HTMLElement);
    expect(await screen.findByText(/tcp\.fruit\.com：须以 tcp:\/\/ 开头/)).toBeTruthy();
    expect(calls.some((c) => c.cmd === "code_domains" && c.args.op === "set")).toBe(false);

    // Without the bad one the lists go out as typed (trimmed).
    const tcp = screen.getByTestId("domains-field-tcpdomain");
    fireEvent.click(tcp.querySelector(".ant-select-selection-item-remove") as HTMLElement);
    fireEvent.click(document.getElementById("domains-save") as HTMLElement);

    const warning = await screen.findByTestId("domains-invalid");
    const set = calls.filter((c) => c.cmd === "code_domains" && c.args.op === "set");
    expect(set).toHaveLength(1);
    expect(set[0]?.args.lists).toEqual({
      ...LISTS,
      requestdomain: ["https://api.fruit.com", "https://pay.fruit.com", "https://nope.fruit.com"],
      wsrequestdomain: ["wss://ws.fruit.com"],
    });
    expect(within(warning).getByTestId("domains-invalid-list").textContent).toBe(
      "https://nope.fruit.com",
    );
    expect(warning.textContent).toContain("1 个域名没有生效");
    expect(warning.textContent).toContain("小程序服务器域名");
    expect(warning.textContent).toContain("开放平台 → 第三方平台 → 开发配置");
    // The lists shown are what WeChat kept.
    await waitFor(() =>
      expect(screen.getByTestId("domains-wsrequestdomain").textContent).toBe("wss://ws.fruit.com"),
    );
    expect(screen.getByTestId("domains-requestdomain").textContent).not.toContain("nope");
    expect(screen.queryByTestId("domains-form")).toBeNull();
  });

  it("speaks English in the English window, WeChat's refusal included", async () => {
    useUiStore.getState().setLanguage("en");
    const refusal: ShellError = {
      code: "wechat",
      message: "WeChat refused: domain not registered (85301)",
      hint: "Register the domains on the platform first.",
      errcode: 85301,
    };
    const serve = sim();
    renderDrawer((c) => {
      if (c.cmd === "code_domains" && c.args.op === "set") throw refusal;
      if (c.cmd === "code_explain")
        return {
          errcode: 85301,
          zh: "域名没有在第三方平台设置，或不符合域名规则",
          en: "domain not registered on the platform or breaks the domain rules",
          hint_zh: "登记到第三方平台",
          hint_en: "Register the domains on the platform",
        };
      return serve(c);
    });
    await screen.findByTestId("domains-requestdomain");
    await screen.findByTestId("webview-list");
    expect(screen.getByTestId("domains-wsrequestdomain").textContent).toBe("None");
    expect(screen.getByTestId("domains-limits").textContent).toContain("50 changes a month");

    fireEvent.click(screen.getByTestId("domains-edit"));
    await screen.findByTestId("domains-form");
    fireEvent.click(document.getElementById("domains-save") as HTMLElement);
    const error = await screen.findByTestId("code-error");
    await waitFor(() =>
      expect(error.textContent).toContain(
        "domain not registered on the platform or breaks the domain rules",
      ),
    );

    const text = (el: Element | null) => (el?.textContent ?? "").replaceAll(MINI.nickname, "");
    const drawer = document.querySelector(".ant-drawer");
    const dialog = document.querySelector(".ant-modal");
    expect(drawer).not.toBeNull();
    expect(dialog).not.toBeNull();
    expect(text(drawer).match(new RegExp(CJK.source, "g")) ?? []).toEqual([]);
    expect(text(dialog).match(new RegExp(CJK.source, "g")) ?? []).toEqual([]);
  });
});
