import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App } from "antd";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { i18n } from "../../i18n";
import { CustomTab } from "./CustomTab";
import { SubscribeComposer } from "./SubscribeComposer";
import { TemplateComposer } from "./TemplateComposer";
import { DRAFT_SAVE_MS } from "./useComposerDraft";

const OA = "wx1234567890abcdef";
// Han characters and CJK / full-width punctuation (（）、：).
const CJK = /[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/;

/** Core's drafts table, as the three commands see it (key: kind|appid|template). */
type Stored = Map<string, { body: string; updated_at: number }>;

const templates = (english: boolean) => [
  {
    appid: OA,
    template_id: "TPL1",
    title: english ? "Shipping notice" : "发货通知",
    primary_industry: "",
    deputy_industry: "",
    content: "{{thing1.DATA}}",
    example: "",
    fields: [{ key: "thing1", label: english ? "Item" : "商品", kind: "thing", shown: true }],
    legacy: false,
    alias: "",
    note: "",
    const_values: {},
    synced_at: 1,
  },
  {
    appid: OA,
    template_id: "TPL2",
    title: english ? "Refund notice" : "退款通知",
    primary_industry: "",
    deputy_industry: "",
    content: "{{amount1.DATA}}",
    example: "",
    fields: [{ key: "amount1", label: english ? "Amount" : "金额", kind: "amount", shown: true }],
    legacy: false,
    alias: "",
    note: "",
    const_values: {},
    synced_at: 1,
  },
];

const SUB_TID = "P".repeat(43);

/** Answers the composers' commands, with drafts kept in `stored` across renders. */
function mockShell(stored: Stored, english = false, sent: unknown[] = [], emptySource = false) {
  let clock = 1_700_000_000_000;
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, string>;
    const key = `${a.kind}|${a.appid}|${a.templateId}`;
    switch (cmd) {
      case "compose_drafts":
        return [...stored.entries()]
          .filter(([k]) => k.startsWith(`${a.kind}|${a.appid}|`))
          .sort(([, x], [, y]) => y.updated_at - x.updated_at)
          .map(([k, v]) => ({
            kind: a.kind,
            appid: a.appid,
            template_id: k.split("|")[2],
            ...v,
          }));
      case "compose_draft_save":
        clock += 1000;
        stored.set(key, { body: a.body ?? "", updated_at: clock });
        return clock;
      case "compose_draft_delete":
        return stored.delete(key);
      case "templates_list":
        return templates(english);
      case "lists_list":
        return [];
      case "followers_page":
        return { items: [], next_after: null };
      case "compose_check":
        return {
          template_title: "",
          fields: [],
          variables: [],
          missing_variables: [],
          cards: [],
          empty_source: emptySource,
          ok: !emptySource,
        };
      case "interactions_open":
        return { rows: [], total: 0, next: null };
      case "subscribe_templates":
        return [
          {
            appid: OA,
            template_id: SUB_TID,
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
      case "subscribe_receivers":
        return {
          template_id: SUB_TID,
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
      case "compose_subscribe_reach":
        return { template: null, allowed: 1, refused: [], refused_count: 0 };
      case "compose_subscribe_send":
        sent.push(args);
        return { job_id: 7, sent_to: 1, refused: [], refused_count: 0 };
    }
    if (cmd.startsWith("plugin:event|")) return 1;
    throw new Error(`unexpected command ${cmd}`);
  });
}

/** One visit to 发送: the composer in a router (sending goes to 任务). */
function visit(page: ReactNode) {
  const router = createMemoryRouter(
    [
      { path: "/compose", element: page },
      { path: "/jobs", element: <div data-testid="jobs-page" /> },
    ],
    { initialEntries: ["/compose"] },
  );
  return render(
    <QueryClientProvider
      client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
    >
      <App>
        <RouterProvider router={router} />
      </App>
    </QueryClientProvider>,
  );
}

async function chooseTemplate(title: string) {
  await waitFor(() => expect(screen.getAllByRole("combobox").length).toBeGreaterThan(0));
  fireEvent.mouseDown(screen.getAllByRole("combobox")[0] as HTMLElement);
  const options = await screen.findAllByTitle(title);
  fireEvent.click(options[options.length - 1] as HTMLElement);
}

const input = (testId: string) => screen.getByTestId(testId) as HTMLInputElement;

afterEach(async () => {
  await act(() => i18n.changeLanguage("zh-CN"));
});

describe("the template composer's draft", () => {
  it("is saved when staff leave at once, comes back on the next visit, and 清空 removes it", async () => {
    const stored: Stored = new Map();
    mockShell(stored);
    const first = visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("发货通知");
    fireEvent.change(await screen.findByTestId("field-thing1"), {
      target: { value: "羽绒服 两件" },
    });
    // Off to 名单 and straight back, before the debounce has run: leaving saves what was typed,
    // so the next visit reads it.
    first.unmount();
    visit(<TemplateComposer appid={OA} />);
    expect((await screen.findByTestId("field-thing1")).getAttribute("value")).toBe("羽绒服 两件");
    expect(JSON.parse(stored.get(`template|${OA}|TPL1`)?.body ?? "{}").data).toEqual({
      thing1: "羽绒服 两件",
    });
    expect(screen.getByTestId("template-draft-saved").textContent).toContain("已保存草稿");

    fireEvent.click(screen.getByTestId("template-draft-clear"));
    const confirm = await screen.findByRole("tooltip");
    expect(confirm.textContent).toContain("清空这份草稿？");
    expect(confirm.textContent).toContain("标题、字段、跳转和收件人");
    fireEvent.click(within(confirm).getByRole("button", { name: "清空草稿" }));
    await waitFor(() => expect(input("field-thing1").value).toBe(""));
    await waitFor(() => expect(stored.size).toBe(0));
    expect(screen.queryByTestId("template-draft-saved")).toBeNull();
    expect(
      (screen.getByTestId("template-draft-clear") as HTMLButtonElement).disabled,
      "nothing left to clear",
    ).toBe(true);
  });

  it("keeps one draft per template: switching templates and back restores each one's values", async () => {
    const stored: Stored = new Map();
    mockShell(stored);
    visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("发货通知");
    fireEvent.change(await screen.findByTestId("field-thing1"), { target: { value: "围巾" } });
    await waitFor(() => expect(screen.getByTestId("template-draft-saved")).toBeTruthy(), {
      timeout: 3000,
    });
    await chooseTemplate("退款通知");
    fireEvent.change(await screen.findByTestId("field-amount1"), { target: { value: "12.50" } });
    await chooseTemplate("发货通知");
    expect(input("field-thing1").value).toBe("围巾");
    await chooseTemplate("退款通知");
    expect(input("field-amount1").value).toBe("12.50");
    await waitFor(() => expect(stored.size).toBe(2));
  });

  it("reads English only on the English screen, with the same draft", async () => {
    const stored: Stored = new Map();
    mockShell(stored, true);
    await act(() => i18n.changeLanguage("en"));
    const first = visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("Shipping notice");
    fireEvent.change(await screen.findByTestId("field-thing1"), { target: { value: "Scarf" } });
    first.unmount();
    visit(<TemplateComposer appid={OA} />);
    expect((await screen.findByTestId("field-thing1")).getAttribute("value")).toBe("Scarf");
    expect(screen.getByTestId("template-draft-saved").textContent).toMatch(/^Draft saved /);
    fireEvent.click(screen.getByTestId("template-draft-clear"));
    const confirm = await screen.findByRole("tooltip");
    expect(confirm.textContent).toContain("Clear this draft?");
    const text = document.body.textContent ?? "";
    expect(text.match(CJK), `Chinese on the English screen: ${text}`).toBeNull();
  });

  it("is saved at once when the window goes away (closed or reloaded), not after the pause", async () => {
    const stored: Stored = new Map();
    mockShell(stored);
    visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("发货通知");
    fireEvent.change(await screen.findByTestId("field-thing1"), { target: { value: "手套" } });
    window.dispatchEvent(new Event("pagehide"));
    // Saved before the debounce would have run (DRAFT_SAVE_MS after the keystroke).
    await waitFor(() => expect(stored.has(`template|${OA}|TPL1`)).toBe(true), {
      timeout: DRAFT_SAVE_MS / 2,
    });
  });
});

describe("the 订阅通知 composer's draft", () => {
  it("comes back after leaving and is removed once the notice is sent", async () => {
    const stored: Stored = new Map();
    const sent: unknown[] = [];
    mockShell(stored, false, sent);
    const first = visit(<SubscribeComposer appid={OA} />);
    await chooseTemplate("取件提醒 · 一次性订阅");
    fireEvent.change(await screen.findByTestId("subscribe-field-character_string1"), {
      target: { value: "8-2-3012" },
    });
    await screen.findByTestId("receiver-oSubscribed1");
    fireEvent.click(within(screen.getByTestId("subscribe-receivers")).getByRole("radio"));
    first.unmount();
    visit(<SubscribeComposer appid={OA} />);
    expect(
      (await screen.findByTestId("subscribe-field-character_string1")).getAttribute("value"),
    ).toBe("8-2-3012");
    await screen.findByTestId("receiver-oSubscribed1");
    const radio = within(screen.getByTestId("subscribe-receivers")).getByRole("radio");
    expect((radio as HTMLInputElement).checked, "the picked receiver is back").toBe(true);
    await screen.findByTestId("subscribe-reach");
    fireEvent.click(screen.getByTestId("subscribe-send"));
    await screen.findByTestId("jobs-page");
    expect(sent).toHaveLength(1);
    expect(stored.size, "a sent notice is no longer a draft").toBe(0);
  });
});

describe("the customer-service composer's draft", () => {
  it("keeps the typed text across a visit elsewhere, and 清空 says what it clears", async () => {
    const stored: Stored = new Map();
    mockShell(stored);
    const first = visit(<CustomTab appid={OA} />);
    fireEvent.change(await screen.findByTestId("custom-content"), {
      target: { value: "您好，您的订单已发货" },
    });
    first.unmount();
    visit(<CustomTab appid={OA} />);
    expect((await screen.findByTestId("custom-content")).textContent).toBe("您好，您的订单已发货");
    fireEvent.click(screen.getByTestId("custom-draft-clear"));
    const confirm = await screen.findByRole("tooltip");
    expect(confirm.textContent).toContain("消息类型、内容、封面和已填写的收件人");
    fireEvent.click(within(confirm).getByRole("button", { name: "清空草稿" }));
    await waitFor(() => expect(stored.size).toBe(0));
    expect((screen.getByTestId("custom-content") as HTMLTextAreaElement).value).toBe("");
  });
});

describe("the template composer's preview", () => {
  it("says the chosen source has no one to send to instead of drawing a made-up recipient", async () => {
    mockShell(new Map(), false, [], true);
    visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("发货通知");
    expect((await screen.findByTestId("empty-source")).textContent).toContain(
      "所选名单或文件里没有可发送的接收者",
    );
  });

  it("shows no such warning while the source has recipients", async () => {
    mockShell(new Map());
    visit(<TemplateComposer appid={OA} />);
    await chooseTemplate("发货通知");
    await screen.findByTestId("field-thing1");
    expect(screen.queryByTestId("empty-source")).toBeNull();
  });
});
