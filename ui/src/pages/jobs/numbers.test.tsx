// Numbers are one truth (#16): a finished job with failures never reads as a green 已完成, a
// cancelled recipient is 已取消 in its own colour (never the grey 待发送), 概览 lists a failed job
// under 需要关注, and a job's row never keeps the live numbers of the moment it was paused.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import type { HistoryRowView, JobCounts, JobProgressView, JobView } from "../../api/send";
import { i18n } from "../../i18n";
import { HistoryPage } from "../history/HistoryPage";
import { OverviewPage } from "../overview/OverviewPage";
import { JobsPage } from "./JobsPage";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

const counts = (over: Partial<JobCounts>): JobCounts => ({
  total: 1,
  sent: 0,
  failed_retryable: 0,
  failed_permanent: 0,
  uncertain: 0,
  skipped: 0,
  cancelled: 0,
  delivered: 0,
  user_block: 0,
  system_failed: 0,
  ...over,
});

const job = (id: number, over: Partial<JobView>): JobView => ({
  id,
  appid: "wx1234567890abcdef",
  kind: "template",
  template_id: "TPL",
  title: `Order ${id}`,
  purpose: "plain",
  payload: { type: "custom_text", content: "hi" },
  status: "completed",
  shown: "completed",
  attention: false,
  pause_reason: null,
  concurrency: 20,
  rate_per_sec: 200,
  max_attempts: 5,
  copied_from: null,
  counts: counts({ sent: 1 }),
  created_at: 1_800_000_000,
  started_at: 1_800_000_000,
  finished_at: 1_800_000_001,
  created_by: null,
  ...over,
});

/** What core gives for the relay-down send of the report: one row, failed, nothing sent. */
const relayDown = job(7, {
  shown: "failed",
  attention: true,
  counts: counts({ failed_retryable: 1 }),
});
const partly = job(6, {
  shown: "partly_failed",
  attention: true,
  counts: counts({ total: 10, sent: 8, failed_permanent: 1, uncertain: 1 }),
});
const cancelled = job(5, {
  status: "cancelled",
  shown: "cancelled",
  counts: counts({ total: 200, sent: 130, cancelled: 70 }),
});
const fine = job(4, { counts: counts({ total: 3, sent: 3 }) });

const row = (id: number, over: Partial<HistoryRowView>): HistoryRowView => ({
  id,
  job_id: 5,
  seq: id,
  appid: "wx1234567890abcdef",
  kind: "template",
  template_id: "TPL",
  openid: `oUser${id}`,
  state: "sent",
  attempts: 1,
  msgid: null,
  errcode: null,
  errmsg: null,
  note: null,
  delivery: null,
  delivery_raw: null,
  created_at: 1_800_000_000,
  attempted_at: null,
  done_at: null,
  delivered_at: null,
  explanation: null,
  jump: null,
  ...over,
});

type Handler = (args: Record<string, unknown>) => unknown;

function renderWith(cmds: Record<string, unknown | Handler>, page: React.ReactNode) {
  mockIPC((cmd: string, args: unknown) => {
    if (cmd.startsWith("plugin:")) return 1;
    if (cmd in cmds) {
      const v = cmds[cmd];
      return typeof v === "function" ? (v as Handler)(args as Record<string, unknown>) : v;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  render(
    <QueryClientProvider
      client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
    >
      <MemoryRouter>{page}</MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

const LANGS = [
  {
    lng: "zh-CN",
    failed: "失败",
    partly: "部分失败",
    cancelled: "已取消",
    pending: "待发送",
    done: "已完成",
    sent: "成功",
  },
  {
    lng: "en",
    failed: "Failed",
    partly: "Partly failed",
    cancelled: "Cancelled",
    pending: "Pending",
    done: "Completed",
    sent: "Sent",
  },
];

describe("a job's state and numbers", () => {
  for (const l of LANGS) {
    it(`say 部分失败 / 失败 for a finished job with failures, never a green 已完成 (${l.lng})`, async () => {
      await i18n.changeLanguage(l.lng);
      renderWith({ jobs_list: [relayDown, partly, cancelled, fine] }, <JobsPage />);
      const table = await screen.findByTestId("jobs-table");
      await within(table).findByText("#7 Order 7");
      const tag = (id: number) => screen.getByTestId(`job-status-${id}`);
      expect(tag(7).textContent).toBe(l.failed);
      expect(tag(7).className).toContain("ant-tag-error");
      expect(tag(6).textContent).toBe(l.partly);
      expect(tag(6).className).toContain("ant-tag-orange");
      for (const id of [7, 6]) expect(tag(id).className).not.toContain("ant-tag-success");
      // Only a job whose every row got through is green.
      expect(tag(4).textContent).toBe(l.done);
      expect(tag(4).className).toContain("ant-tag-success");
      // The relay-down send: failed 1, nothing pending.
      expect(screen.getByTestId("job-failed-7").textContent).toMatch(/ 1$/);
      expect(screen.getByTestId("job-pending-7").textContent).toMatch(/ 0$/);
      // Cancelled recipients are counted as such, in their own colour, not as pending.
      expect(tag(5).textContent).toBe(l.cancelled);
      expect(tag(5).className).toContain("ant-tag-purple");
      const c = screen.getByTestId("job-cancelled-5");
      expect(c.textContent).toBe(`${l.cancelled} 70`);
      expect((c as HTMLElement).style.color).not.toBe("");
      expect(screen.getByTestId("job-pending-5").textContent).toBe(`${l.pending} 0`);
      if (l.lng === "en") expect(document.body.textContent).not.toMatch(CJK);
    });

    it(`draw a cancelled job's bar as what went out and what was cancelled, never full (${l.lng})`, async () => {
      await i18n.changeLanguage(l.lng);
      // Cancelled after 25 sent and 5 failed of 40: 10 never went out.
      const midway = job(11, {
        status: "cancelled",
        shown: "cancelled",
        counts: counts({ total: 40, sent: 25, failed_permanent: 5, cancelled: 10 }),
      });
      renderWith({ jobs_list: [midway, cancelled, fine] }, <JobsPage />);
      await screen.findByTestId("job-bar-11");
      const text = (id: number) => screen.getByTestId(`job-bar-${id}-text`).textContent;
      const pct = (id: number, seg: string) =>
        screen.getByTestId(`job-bar-${id}-${seg}`).getAttribute("data-percent");
      // The old bar counted cancelled rows as done and read 40/40 and 200/200.
      expect(text(11)).toBe("30/40");
      expect(text(5)).toBe("130/200");
      expect([pct(11, "sent"), pct(11, "failed"), pct(11, "cancelled")]).toEqual([
        "62.5",
        "12.5",
        "25.0",
      ]);
      expect([pct(5, "sent"), pct(5, "cancelled")]).toEqual(["65.0", "35.0"]);
      expect(screen.queryByTestId("job-bar-5-failed")).toBeNull();
      // The cancelled share is drawn apart from the sent one, and the bar says its numbers.
      const bg = (id: number, seg: string) =>
        (screen.getByTestId(`job-bar-${id}-${seg}`) as HTMLElement).style.background;
      expect(bg(5, "cancelled")).not.toBe("");
      expect(bg(5, "cancelled")).not.toBe(bg(5, "sent"));
      const label = screen
        .getByTestId("job-bar-5")
        .querySelector("[role=img]")
        ?.getAttribute("aria-label");
      expect(label).toContain(`${l.sent} 130`);
      expect(label).toContain(`${l.cancelled} 70`);
      // A job whose every row went out is still full.
      expect(text(4)).toBe("3/3");
      expect(pct(4, "sent")).toBe("100.0");
      expect(screen.queryByTestId("job-bar-4-cancelled")).toBeNull();
      if (l.lng === "en") expect(document.body.textContent).not.toMatch(CJK);
    });

    it(`show a cancelled recipient as 已取消 in its own colour in 发送记录 (${l.lng})`, async () => {
      await i18n.changeLanguage(l.lng);
      renderWith(
        {
          history_list: {
            rows: [row(3, { state: "cancelled" }), row(2, { state: "pending" }), row(1, {})],
            next_before: null,
          },
          audience_accounts: [],
          jobs_list: [cancelled],
        },
        <HistoryPage />,
      );
      const table = await screen.findByTestId("history-table");
      await within(table).findByText("oUser3");
      const tagOf = (openid: string) => {
        const tr = within(table).getByText(openid).closest("tr") as HTMLElement;
        return tr.querySelector(".ant-tag") as HTMLElement;
      };
      expect(tagOf("oUser3").textContent).toBe(l.cancelled);
      expect(tagOf("oUser3").className).toContain("ant-tag-purple");
      expect(tagOf("oUser2").textContent).toBe(l.pending);
      expect(tagOf("oUser2").className).not.toContain("ant-tag-purple");
      if (l.lng === "en") expect(document.body.textContent).not.toMatch(CJK);
    });

    it(`list a failed and a partly failed job under 需要关注 in 概览 (${l.lng})`, async () => {
      await i18n.changeLanguage(l.lng);
      renderWith(
        {
          overview_stats: {
            days: [],
            today: {
              day: "2027-01-15",
              sent: 8,
              failed: 2,
              uncertain: 1,
              delivered: 0,
              user_block: 0,
              system_failed: 0,
            },
          },
          jobs_list: [relayDown, partly, cancelled, fine],
          list_accounts: [],
        },
        <OverviewPage />,
      );
      const box = await screen.findByTestId("overview-attention");
      await within(box).findByTestId("attention-j-7");
      expect(within(box).getByTestId("attention-j-7").textContent).toContain("Order 7");
      expect(within(box).getByTestId("attention-j-6").textContent).toContain("Order 6");
      expect(within(box).queryByTestId("attention-j-4")).toBeNull();
      expect(within(box).queryByTestId("attention-j-5")).toBeNull();
      expect(box.textContent).not.toContain(l.lng === "en" ? "All good" : "一切正常");
      if (l.lng === "en") expect(box.textContent).not.toMatch(CJK);
    });
  }

  it("never keeps the live numbers of the moment a job was paused (83 sent while 130 went out)", async () => {
    const running = job(9, {
      status: "running",
      shown: "running",
      finished_at: null,
      counts: counts({ total: 200, sent: 10 }),
    });
    let list = [running];
    let channel = 0;
    let endWatch: () => void = () => {};
    const report = (over: Partial<JobProgressView>): JobProgressView => ({
      job_id: 9,
      status: "running",
      shown: "running",
      pause_reason: null,
      total: 200,
      sent: 83,
      failed: 0,
      pending: 117,
      uncertain: 0,
      skipped: 0,
      cancelled: 0,
      rate_per_sec: 40,
      eta_secs: 3,
      active: true,
      ...over,
    });
    // What the Rust side does to send on the job's Channel.
    const internals = (
      window as unknown as {
        __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void };
      }
    ).__TAURI_INTERNALS__;
    const send = (message: JobProgressView, index: number) =>
      act(() => internals.runCallback(channel, { index, message }));
    renderWith(
      {
        jobs_list: () => list,
        job_watch: (args: Record<string, unknown>) => {
          channel = (args.onProgress as { id: number }).id;
          return new Promise<null>((resolve) => {
            endWatch = () => resolve(null);
          });
        },
        job_pause: () => {
          list = [
            job(9, {
              status: "paused",
              shown: "paused",
              pause_reason: { code: "operator" },
              finished_at: null,
              counts: counts({ total: 200, sent: 130 }),
            }),
          ];
          return null;
        },
      },
      <JobsPage />,
    );
    await screen.findByTestId("job-progress-9");
    await waitFor(() => expect(channel).not.toBe(0));
    await send(report({}), 0);
    await waitFor(() => expect(screen.getByTestId("job-sent-9").textContent).toBe("成功 83"));

    fireEvent.click(screen.getByTestId("job-pause-9"));
    await waitFor(() => expect(screen.getByTestId("job-status-9").textContent).toBe("已暂停"));
    // The requests in flight at the pause are recorded; the runner's last report says so and
    // the stream ends.
    await send(report({ status: "paused", shown: "paused", sent: 130, active: false }), 1);
    await act(async () => endWatch());
    await waitFor(() => expect(screen.getByTestId("job-sent-9").textContent).toBe("成功 130"));
    expect(screen.getByTestId("job-pending-9").textContent).toBe("待发送 70");

    // 刷新 reads the stored counts, and they are what the row shows.
    list = [job(9, { ...list[0], counts: counts({ total: 200, sent: 131 }) })];
    fireEvent.click(screen.getByText("刷新"));
    await waitFor(() => expect(screen.getByTestId("job-sent-9").textContent).toBe("成功 131"));
  });

  it("asks once for a running job no runner of the app works on (the CLI sends it)", async () => {
    let watches = 0;
    let listed = 0;
    renderWith(
      {
        jobs_list: () => {
          listed += 1;
          return [job(8, { status: "running", shown: "running", finished_at: null })];
        },
        // Core gives the stored counts once and ends the stream.
        job_watch: () => {
          watches += 1;
          return null;
        },
      },
      <JobsPage />,
    );
    await screen.findByTestId("job-progress-8");
    await waitFor(() => expect(watches).toBe(1));
    // The list is read again when the stream ends; that does not start another stream.
    await waitFor(() => expect(listed).toBeGreaterThan(1));
    fireEvent.click(screen.getByText("刷新"));
    await waitFor(() => expect(listed).toBeGreaterThan(2));
    expect(watches).toBe(1);
  });

  it("read the job again when a delivery report arrives (已送达 without 刷新)", async () => {
    let delivered = 0;
    let listens = 0;
    mockIPC(
      (cmd: string) => {
        if (cmd === "jobs_list")
          return [job(3, { counts: counts({ total: 5, sent: 5, delivered }) })];
        throw new Error(`unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    // The mock handles `listen` itself: count the page's feed:notice listeners on the way in,
    // so the notice is sent only once the page listens.
    const internals = (
      window as unknown as {
        __TAURI_INTERNALS__: { invoke: (cmd: string, args: unknown, o: unknown) => unknown };
      }
    ).__TAURI_INTERNALS__;
    const invoke = internals.invoke;
    internals.invoke = (cmd, args, o) => {
      if (cmd === "plugin:event|listen" && (args as { event: string }).event === "feed:notice")
        listens += 1;
      return invoke(cmd, args, o);
    };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>
          <JobsPage />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    await screen.findByTestId("job-progress-3");
    await waitFor(() => expect(listens).toBe(1));
    expect(screen.getByTestId("job-progress-3").textContent).not.toContain("已送达");
    delivered = 5;
    await act(() =>
      emit("feed:notice", {
        notice: "event",
        kind: "template_send_job_finish",
        appid: "wx1234567890abcdef",
        message: null,
        code: null,
        errcode: null,
        seq: 1,
        to_seq: null,
        retry_in_secs: null,
      }),
    );
    await waitFor(() =>
      expect(screen.getByTestId("job-progress-3").textContent).toContain("已送达 5"),
    );
  });

  it("names the member who started a team job, and a team desk asks the server again for colleagues' jobs", async () => {
    let listed = 0;
    renderWith(
      {
        team_membership: {
          server_url: "https://team.example.com",
          member: "bob",
          role: "operator",
          component_appid: "wxcomponent",
          joined_at: 1,
        },
        jobs_list: () => {
          listed += 1;
          return [job(4, { created_by: "alice" })];
        },
      },
      <JobsPage />,
    );
    expect(await screen.findByText("alice 发起")).toBeTruthy();
    // A server job starts as it is created: no unstarted copy is offered.
    fireEvent.click(screen.getByTestId("job-more-4"));
    expect(await screen.findByTestId("job-history-4")).toBeTruthy();
    expect(screen.queryByText("复制为新任务")).toBeNull();
    // Nothing runs here, yet the list is read again: a colleague may start a job any time.
    await waitFor(() => expect(listed).toBeGreaterThan(1), { timeout: 7000 });
  }, 10_000);
});
