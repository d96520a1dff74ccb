import { QueryClient } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createMemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { App } from "../App";
import type { ParkedEventView } from "../api/feed";
import { relayTroubleAfter, ticketTroubleAfter } from "../api/feed";
import type { FeedStatus } from "../bindings";
import { routes } from "../routes";
import { useUiStore } from "../store/ui";
import { SANDBOX_INFO } from "../test/renderApp";

const notice = (over: Partial<FeedStatus>): FeedStatus => ({
  notice: "caught_up",
  kind: null,
  appid: null,
  message: null,
  code: null,
  errcode: null,
  seq: null,
  to_seq: null,
  retry_in_secs: null,
  age_secs: null,
  ...over,
});

const RELAY_DOWN = notice({
  notice: "retrying",
  code: "relay",
  message: {
    zh: "中继请求失败：connection refused",
    en: "The relay request failed: connection refused",
  },
  retry_in_secs: 8,
});
const KEY_REFUSED = notice({
  notice: "retrying",
  code: "relay_unauthorized",
  message: {
    zh: "中继拒绝了密钥（HTTP 401），请检查设置中的中继密钥",
    en: "The relay refused the key (HTTP 401)",
  },
  retry_in_secs: 2,
});

const PARKED: ParkedEventView = {
  seq: 12,
  kind: "authorized",
  appid: "wxPARKED00000001",
  received_at: 1_799_999_990,
  error: {
    zh: "微信返回错误 45009：接口调用超过限额",
    en: "WeChat returned error 45009: the API's daily limit is reached",
  },
  error_code: "wechat",
  errcode: 45009,
  attempts: 2,
  parked_at: 1_800_000_000,
  next_retry_at: 1_800_000_030,
};

/** Event names the app subscribed to. */
const listened: string[] = [];

/** The whole app with feed:notice deliverable through `send`; `parked` answers feed_parked. */
function renderFrame(parked: { now: ParkedEventView[] } = { now: [] }, path = "/overview") {
  listened.length = 0;
  mockIPC(
    (cmd) => {
      switch (cmd) {
        case "app_info":
          return SANDBOX_INFO;
        case "feed_parked":
          return parked.now;
        case "list_accounts":
          return [];
        default:
          throw new Error(`unexpected command ${cmd}`);
      }
    },
    { shouldMockEvents: true },
  );
  // The mock registers a listener synchronously when `listen` invokes it: record that, so a
  // test sends its first notice only once the frame listens.
  const internals = (
    window as unknown as {
      __TAURI_INTERNALS__: { invoke: (cmd: string, args: unknown, o: unknown) => unknown };
    }
  ).__TAURI_INTERNALS__;
  const invoke = internals.invoke;
  internals.invoke = (cmd, args, o) => {
    if (cmd === "plugin:event|listen") listened.push((args as { event: string }).event);
    return invoke(cmd, args, o);
  };
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<App router={router} queryClient={queryClient} />);
  return { router };
}

async function send(n: FeedStatus) {
  await act(() => emit("feed:notice", n));
}

/** Waits until the frame listens to feed notices, so a notice sent next is not lost. */
async function ready() {
  await screen.findByTestId("page-overview");
  await waitFor(() => expect(listened).toContain("feed:notice"));
}

describe("the relay trouble state", () => {
  it("is set by a failed poll, kept through parked retries and cleared by anything delivered", () => {
    const down = relayTroubleAfter(null, RELAY_DOWN);
    expect(down).toEqual({
      code: "relay",
      message: {
        zh: "中继请求失败：connection refused",
        en: "The relay request failed: connection refused",
      },
      retryInSecs: 8,
    });
    expect(relayTroubleAfter(down, notice({ notice: "event_parked", seq: 3 }))).toBe(down);
    expect(relayTroubleAfter(down, notice({ notice: "parked_given_up", seq: 3 }))).toBe(down);
    expect(relayTroubleAfter(down, notice({ notice: "caught_up" }))).toBeNull();
    expect(relayTroubleAfter(down, notice({ notice: "event", kind: "text" }))).toBeNull();
    expect(relayTroubleAfter(down, KEY_REFUSED)?.code).toBe("relay_unauthorized");
  });
});

describe("the ticket trouble state", () => {
  it("is set by the ticket watch's stale notice, cleared by its fresh one, kept by the rest", () => {
    const stale = ticketTroubleAfter(null, notice({ notice: "ticket_stale", age_secs: 1860 }));
    expect(stale).toEqual({ ageSecs: 1860 });
    expect(ticketTroubleAfter(stale, notice({ notice: "caught_up" }))).toBe(stale);
    expect(ticketTroubleAfter(stale, RELAY_DOWN)).toBe(stale);
    expect(ticketTroubleAfter(stale, notice({ notice: "ticket_fresh", age_secs: 5 }))).toBeNull();
    // Nor does the ticket watch say anything about the relay's event log.
    const down = relayTroubleAfter(null, RELAY_DOWN);
    expect(relayTroubleAfter(down, notice({ notice: "ticket_fresh", age_secs: 5 }))).toBe(down);
  });
});

describe("the frame's feed banner", () => {
  it("says when WeChat cannot be reached, with where and why, and clears with the next answer", async () => {
    renderFrame();
    await ready();
    await send(
      notice({
        notice: "wechat_unreachable",
        message: {
          zh: "无法连接微信接口：api.weixin.qq.com:443: Connection refused (os error 111)",
          en: "WeChat's API could not be reached: api.weixin.qq.com:443: Connection refused (os error 111)",
        },
      }),
    );
    const banner = await screen.findByTestId("feed-banner-wechat");
    expect(banner.textContent).toContain("无法连接微信接口");
    expect(banner.textContent).toContain("api.weixin.qq.com:443");
    expect(banner.textContent).toContain("检测连接");
    // The relay's own state is another matter: a caught-up feed does not clear it.
    await send(notice({ notice: "caught_up" }));
    expect(screen.queryByTestId("feed-banner-wechat")).not.toBeNull();
    act(() => useUiStore.getState().setLanguage("en"));
    await waitFor(() => expect(banner.textContent).toContain("cannot be reached"));
    expect(banner.textContent).not.toMatch(/[\u3000-\u9fff\uff00-\uffef]/);
    act(() => useUiStore.getState().setLanguage("zh-CN"));
    await send(notice({ notice: "wechat_reachable" }));
    await waitFor(() => expect(screen.queryByTestId("feed-banner")).toBeNull());
  });

  it("says when tickets stopped arriving, what to check, and clears itself when one arrives", async () => {
    const { router } = renderFrame();
    await ready();
    await send(notice({ notice: "ticket_stale", age_secs: 1860 }));
    const banner = await screen.findByTestId("feed-banner-ticket");
    expect(banner.textContent).toContain("中继已有 31 分钟没有收到");
    expect(banner.textContent).toContain("/wechat/component");
    await send(notice({ notice: "ticket_stale", age_secs: null }));
    await waitFor(() => expect(banner.textContent).toContain("还没有收到"));
    act(() => useUiStore.getState().setLanguage("en"));
    await waitFor(() => expect(banner.textContent).toContain("has not received"));
    expect(banner.textContent).not.toMatch(/[\u3000-\u9fff\uff00-\uffef]/);
    act(() => useUiStore.getState().setLanguage("zh-CN"));
    await send(notice({ notice: "ticket_fresh", age_secs: 3 }));
    await waitFor(() => expect(screen.queryByTestId("feed-banner")).toBeNull());
    expect(router.state.location.pathname).toBe("/overview");
  });

  it("is absent while the feed works", async () => {
    renderFrame();
    await ready();
    expect(screen.queryByTestId("feed-banner")).toBeNull();
  });

  it("says the relay is unreachable, what to check, and clears itself when the feed catches up", async () => {
    renderFrame();
    await ready();
    await send(RELAY_DOWN);
    const banner = await screen.findByTestId("feed-banner-relay");
    expect(banner.getAttribute("data-code")).toBe("relay");
    expect(banner.textContent).toContain("无法连接中继");
    expect(banner.textContent).toContain("中继地址");
    expect(banner.textContent).toContain("（8 秒后重试）");
    // Switching language redraws the cause too, not only the banner's own words (the cause
    // arrived while the window spoke Chinese).
    act(() => useUiStore.getState().setLanguage("en"));
    await waitFor(() =>
      expect(banner.textContent).toContain("The relay request failed: connection refused"),
    );
    expect(banner.textContent).not.toMatch(/[\u3000-\u9fff\uff00-\uffef]/);
    act(() => useUiStore.getState().setLanguage("zh-CN"));
    await send(notice({ notice: "caught_up" }));
    await waitFor(() => expect(screen.queryByTestId("feed-banner")).toBeNull());
  });

  it("says the key was refused and leads to 设置, in English too", async () => {
    const { router } = renderFrame();
    await ready();
    await send(KEY_REFUSED);
    const banner = await screen.findByTestId("feed-banner-relay");
    expect(banner.textContent).toContain("中继拒绝了本应用的密钥");
    expect(banner.textContent).toContain("中继密钥");
    act(() => useUiStore.getState().setLanguage("en"));
    await waitFor(() => expect(banner.textContent).toContain("The relay refused this app's key"));
    expect(banner.textContent).toContain("relay URL and the relay key");
    fireEvent.click(screen.getByRole("button", { name: "Open Settings" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/settings"));
  });

  it("lists parked events with their reason and drops the banner once none are left", async () => {
    const parked = { now: [PARKED] };
    renderFrame(parked);
    const banner = await screen.findByTestId("feed-banner-parked");
    expect(banner.textContent).toContain("有 1 个事件暂时无法处理");
    expect(banner.textContent).toContain("#12 授权（wxPARKED00000001）");
    expect(banner.textContent).toContain("45009");
    expect(banner.textContent).toContain("已尝试 2 次");
    parked.now = [];
    await send(notice({ notice: "parked_applied", seq: 12, kind: "authorized" }));
    await waitFor(() => expect(screen.queryByTestId("feed-banner")).toBeNull());
  });

  it("notifies a failed authorization with its reason and what to do", async () => {
    renderFrame();
    await ready();
    await send(
      notice({
        notice: "authorization_failed",
        appid: "wxFAILED",
        message: {
          zh: "微信返回错误 61010：授权码已过期",
          en: "WeChat returned error 61010: the authorization code expired",
        },
      }),
    );
    const note = await screen.findByText(/授权码已过期/);
    expect(note.textContent).toContain("请重新发起授权");
    expect(await screen.findByText("授权未能完成（wxFAILED）")).toBeTruthy();
  });

  it("shows the feed's failures in English without Chinese when the window speaks English", async () => {
    const cjk = /[\u3000-\u9fff\uff00-\uffef]/;
    act(() => useUiStore.getState().setLanguage("en"));
    renderFrame({ now: [PARKED] });
    const parked = await screen.findByTestId("feed-banner-parked");
    await waitFor(() => expect(parked.textContent).toContain("the API's daily limit is reached"));
    expect(parked.textContent).not.toMatch(cjk);
    await ready();
    await send(RELAY_DOWN);
    const relay = await screen.findByTestId("feed-banner-relay");
    expect(relay.textContent).toContain("The relay request failed: connection refused");
    expect(relay.textContent).not.toMatch(cjk);
    await send(
      notice({
        notice: "parked_given_up",
        seq: 12,
        kind: "authorized",
        appid: "wxGIVENUP",
        message: {
          zh: "中继已不再保留该事件",
          en: "The relay no longer keeps this event",
        },
      }),
    );
    const note = await screen.findByText(/The relay no longer keeps this event/);
    expect(note.textContent).not.toMatch(cjk);
  });

  it("notifies an answered release test and a gap the relay's pruning left", async () => {
    renderFrame();
    await ready();
    await send(notice({ notice: "release_test_answered", appid: "wx570bc396a51b8ff8" }));
    expect(await screen.findByText("已自动回复全网发布测试")).toBeTruthy();
    await send(notice({ notice: "events_lost", seq: 4, to_seq: 9 }));
    expect(await screen.findByText("中继已删除 6 个尚未处理的事件")).toBeTruthy();
    expect(await screen.findByText(/序号 4–9 的事件/)).toBeTruthy();
  });
});
