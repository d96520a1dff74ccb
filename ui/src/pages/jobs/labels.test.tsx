import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import type { HistoryRowView, JobView, PauseReason, RowNote } from "../../api/send";
import { i18n } from "../../i18n";
import { HistoryPage } from "../history/HistoryPage";
import { JobsPage } from "./JobsPage";
import { pauseReasonText, renderProblemText, rowNoteText } from "./labels";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

const REASONS: PauseReason[] = [
  { code: "operator" },
  { code: "interrupted" },
  { code: "quota" },
  { code: "transport", failures: 10, detail: "connection reset" },
  { code: "relay_key", status: 401, detail: "" },
  { code: "refused", status: 400, detail: "bad path" },
  {
    code: "account",
    errcode: 61004,
    detail: "api unauthorized",
    explanation: {
      errcode: 61004,
      zh: "IP 不在白名单",
      en: "IP not whitelisted",
      hint_zh: "加入白名单",
      hint_en: "Add it to the whitelist",
    },
  },
  { code: "token_refresh", detail: "no refresh token" },
  { code: "token_rejected", errcode: 40001 },
  { code: "internal", detail: "disk full" },
  { code: "panic" },
];

const NOTES: RowNote[] = [
  { code: "empty_openid" },
  { code: "duplicate" },
  { code: "missing_var", name: "order" },
  { code: "invalid_value", key: "thing1", zh: "超过 20 个字", en: "over 20 characters" },
  { code: "network", detail: "reset" },
  { code: "token", detail: "revoked" },
  { code: "refused", status: 403, detail: "" },
  { code: "no_idempotency", detail: "reset" },
  { code: "interrupted" },
  { code: "task_panic" },
  { code: "runner_failed" },
];

const job = (id: number, over: Partial<JobView>): JobView => ({
  id,
  appid: "wx1234567890abcdef",
  kind: "template",
  template_id: "TPL",
  title: `Order ${id}`,
  purpose: "plain",
  payload: { type: "custom_text", content: "hi" },
  status: "completed",
  shown: "partly_failed",
  attention: true,
  pause_reason: null,
  concurrency: 20,
  rate_per_sec: 200,
  max_attempts: 5,
  copied_from: null,
  counts: {
    total: 10,
    sent: 7,
    failed_retryable: 0,
    failed_permanent: 1,
    uncertain: 2,
    skipped: 0,
    cancelled: 0,
    delivered: 0,
    user_block: 0,
    system_failed: 0,
  },
  created_at: 1_800_000_000,
  started_at: 1_800_000_000,
  finished_at: null,
  created_by: null,
  ...over,
});

const row = (id: number, over: Partial<HistoryRowView>): HistoryRowView => ({
  id,
  job_id: 1,
  seq: id,
  appid: "wx1234567890abcdef",
  kind: "template",
  template_id: "TPL",
  openid: `oUser${id}`,
  state: "sent",
  attempts: 1,
  msgid: "9007199254740993",
  errcode: 0,
  errmsg: null,
  note: null,
  delivery: "delivered",
  delivery_raw: "success",
  created_at: 1_800_000_000,
  attempted_at: 1_800_000_000,
  done_at: 1_800_000_001,
  delivered_at: 1_800_000_002,
  explanation: null,
  jump: null,
  ...over,
});

function renderWith(cmds: Record<string, unknown>, page: React.ReactNode) {
  mockIPC((cmd) => {
    if (cmd.startsWith("plugin:")) return 1;
    if (cmd in cmds) return cmds[cmd];
    throw new Error(`unexpected command ${cmd}`);
  });
  render(
    <QueryClientProvider client={new QueryClient()}>
      <MemoryRouter>{page}</MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

describe("the words for core's codes", () => {
  it("name every pause reason and row note in both languages, English without Chinese", async () => {
    for (const lng of ["zh-CN", "en"]) {
      await i18n.changeLanguage(lng);
      const en = lng === "en";
      for (const r of REASONS) {
        const text = pauseReasonText(i18n.t, r, en);
        expect(text, r.code).not.toMatch(/send\.reason/);
        if (en) expect(text, r.code).not.toMatch(CJK);
        else expect(text, r.code).toMatch(CJK);
      }
      for (const n of NOTES) {
        const text = rowNoteText(i18n.t, n, en);
        expect(text, n.code).not.toMatch(/send\.note/);
        if (en) expect(text, n.code).not.toMatch(CJK);
      }
    }
  });

  it("name a broken keyword by its template title in both languages, by its key when none is known", async () => {
    const titled: RowNote = {
      code: "invalid_value",
      key: "amount5",
      title: "订单金额",
      zh: "须为金额",
      en: "must be an amount",
    };
    // A note stored before titles has no `title` at all.
    const old: RowNote = {
      code: "invalid_value",
      key: "amount5",
      zh: "须为金额",
      en: "must be an amount",
    };
    await i18n.changeLanguage("zh-CN");
    expect(rowNoteText(i18n.t, titled, false)).toBe("订单金额：须为金额");
    expect(rowNoteText(i18n.t, old, false)).toBe("amount5：须为金额");
    expect(
      renderProblemText(
        i18n.t,
        { problem: "invalid", key: "amount5", title: "订单金额", zh: "须为金额", en: "x" },
        false,
      ),
    ).toBe("订单金额：须为金额");
    await i18n.changeLanguage("en");
    expect(rowNoteText(i18n.t, titled, true)).toBe("订单金额: must be an amount");
    expect(rowNoteText(i18n.t, old, true)).toBe("amount5: must be an amount");
    expect(
      renderProblemText(
        i18n.t,
        { problem: "invalid", key: "amount5", title: null, zh: "x", en: "must be an amount" },
        true,
      ),
    ).toBe("amount5: must be an amount");
  });

  it("show a row skipped for a broken value in 发送记录 under the keyword's title", async () => {
    renderWith(
      {
        history_list: {
          rows: [
            row(1, {
              state: "skipped",
              note: {
                code: "invalid_value",
                key: "amount5",
                title: "订单金额",
                zh: "须为金额",
                en: "must be an amount",
              },
              delivery: null,
              errcode: null,
              msgid: null,
            }),
          ],
          next_before: null,
        },
        audience_accounts: [],
      },
      <HistoryPage />,
    );
    const table = await screen.findByTestId("history-table");
    await within(table).findByText("oUser1");
    expect(table.textContent).toContain("订单金额：须为金额");
    expect(table.textContent).not.toContain("amount5");
  });

  it("show 任务 in English with no Chinese, an interrupted job as Interrupted", async () => {
    await i18n.changeLanguage("en");
    renderWith(
      {
        jobs_list: [
          job(3, { status: "paused", shown: "paused", pause_reason: { code: "interrupted" } }),
          job(2, {
            status: "paused_quota",
            shown: "paused_quota",
            pause_reason: { code: "quota" },
            kind: "custom_text",
          }),
          job(1, {}),
        ],
      },
      <JobsPage />,
    );
    const table = await screen.findByTestId("jobs-table");
    await within(table).findByText("#3 Order 3");
    expect(screen.getByTestId("job-status-3").textContent).toBe("Interrupted");
    expect(screen.getByTestId("job-status-2").textContent).toBe("Paused (quota)");
    expect(table.textContent).toContain("Customer service (text)");
    expect(document.body.textContent).not.toMatch(CJK);
  });

  it("name the jobs wxdesk made by their purpose in the window's language", async () => {
    const made = [
      job(4, { purpose: "test", title: "11月发货通知" }),
      job(3, { purpose: "custom", title: "", kind: "custom_text" }),
      job(2, { purpose: "uniform", title: "", kind: "uniform" }),
      job(1, {}),
    ];
    await i18n.changeLanguage("en");
    renderWith({ jobs_list: made }, <JobsPage />);
    const table = await screen.findByTestId("jobs-table");
    await within(table).findByText("#4 Test: 11月发货通知");
    within(table).getByText("#3 Customer-service message");
    within(table).getByText("#2 Unified service message");
    within(table).getByText("#1 Order 1");
    // The only Chinese on the page is the title the operator typed.
    expect(document.body.textContent?.replaceAll("11月发货通知", "")).not.toMatch(CJK);

    await i18n.changeLanguage("zh-CN");
    await within(table).findByText("#4 测试：11月发货通知");
    within(table).getByText("#3 客服消息");
    within(table).getByText("#2 统一服务消息");
  });

  it("show 发送记录 in English with no Chinese but the user's data", async () => {
    await i18n.changeLanguage("en");
    renderWith(
      {
        history_list: {
          rows: [
            row(3, {
              state: "skipped",
              note: { code: "missing_var", name: "订单号" },
              delivery: null,
              errcode: null,
              msgid: null,
            }),
            row(2, {
              state: "uncertain",
              note: { code: "interrupted" },
              delivery: null,
              errcode: null,
              msgid: null,
            }),
            row(1, {}),
          ],
          next_before: null,
        },
        audience_accounts: [],
      },
      <HistoryPage />,
    );
    const table = await screen.findByTestId("history-table");
    await within(table).findByText("oUser1");
    expect(table.textContent).toContain("Skipped");
    expect(table.textContent).toContain("Missing variable 订单号");
    expect(table.textContent).toContain("Uncertain");
    expect(table.textContent).toContain("Delivered");
    expect(table.textContent).toContain("9007199254740993");
    // The only Chinese on the page is the recipient's variable name.
    expect(document.body.textContent?.replaceAll("订单号", "")).not.toMatch(CJK);
  });
});
