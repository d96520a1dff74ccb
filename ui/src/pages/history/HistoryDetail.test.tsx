import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { HistoryDetail, HistoryRow } from "../../bindings";
import { renderApp } from "../../test/renderApp";

const row = (over: Partial<HistoryRow>): HistoryRow => ({
  id: 7,
  job_id: 3,
  seq: 1,
  appid: "wx1111222233334444",
  kind: "template",
  template_id: "TPL",
  openid: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
  state: "pending",
  attempts: 0,
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

const detail = (r: HistoryRow): HistoryDetail => ({
  row: r,
  job_title: "订单通知",
  job_purpose: "plain",
  vars: "{}",
  client_msg_id: null,
  request_line: "POST /cgi-bin/message/template/send?access_token=***",
  request_body: '{"touser":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}',
  response: null,
});

afterEach(cleanup);

async function openDetail(r: HistoryRow) {
  renderApp(undefined, "/history", {
    history_list: { rows: [r], next_before: null },
    history_detail: detail(r),
    jobs_list: [],
  });
  fireEvent.click(await screen.findByText("o6_bmjrPTlm6_2sgVt7hMZOPfL2M", {}, { timeout: 5000 }));
  return screen.findByTestId("history-request");
}

describe("发送记录's detail drawer", () => {
  it("says a record never sent shows the request it would send, not one that was sent", async () => {
    const request = await openDetail(row({ state: "cancelled", attempts: 0 }));
    expect(request.getAttribute("data-sent")).toBe("0");
    expect(request.textContent).toContain("尚未发送");
    await waitFor(() => expect(screen.getByText("将发送的请求")).toBeTruthy());
    expect(screen.queryByText("请求（令牌已隐去）")).toBeNull();
  });

  it("shows a sent record's request as the request", async () => {
    const request = await openDetail(row({ state: "sent", attempts: 1, msgid: "123" }));
    expect(request.getAttribute("data-sent")).toBe("1");
    expect(request.textContent).not.toContain("尚未发送");
  });
});

describe("发送记录's table", () => {
  it("names the account and the template, with their ids on hover and to copy", async () => {
    const r = row({ state: "sent", attempts: 1, template_id: "TPL-ORDER" });
    renderApp(undefined, "/history", {
      history_list: { rows: [r], next_before: null },
      jobs_list: [],
      list_accounts: [{ appid: r.appid, nickname: "星辰物流服务号" }],
      templates_list: [{ appid: r.appid, template_id: "TPL-ORDER", title: "订单发货通知" }],
    });
    const account = await screen.findByTestId("history-account", {}, { timeout: 5000 });
    await waitFor(() => expect(account.textContent).toContain("星辰物流服务号"));
    expect(account.getAttribute("data-id")).toBe(r.appid);
    const template = screen.getByTestId("history-template");
    await waitFor(() => expect(template.textContent).toContain("订单发货通知"));
    expect(template.getAttribute("data-id")).toBe("TPL-ORDER");
  });

  it("shows the id itself where no name is known", async () => {
    const r = row({ state: "sent", attempts: 1, template_id: "TPL-GONE" });
    renderApp(undefined, "/history", {
      history_list: { rows: [r], next_before: null },
      jobs_list: [],
      templates_list: [],
    });
    const account = await screen.findByTestId("history-account", {}, { timeout: 5000 });
    expect(account.textContent).toContain(r.appid);
    expect(screen.getByTestId("history-template").textContent).toContain("TPL-GONE");
  });
});
