// Pages load their own chunk on first use (#19). While one loads, the frame stays: the
// sidebar and header are up and the spinner sits in the content area, not over the window;
// and a click in the sidebar keeps the page being left up until the next one is ready.
// Each test opens a page no earlier test in this file opened: a lazy page, once loaded, stays
// loaded for the rest of the file and would render at once.
import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderApp, SANDBOX_INFO } from "../test/renderApp";

function contentArea(): HTMLElement {
  const content = document.querySelector<HTMLElement>(".ant-layout-content");
  if (!content) throw new Error("no content area");
  return content;
}

describe("a page loading its chunk", () => {
  it("shows the spinner in the content area, with the sidebar and header up", async () => {
    renderApp(SANDBOX_INFO, "/settings");
    // The first render: the settings chunk has not arrived yet.
    expect(within(contentArea()).getByTestId("page-loading")).toBeTruthy();
    expect(screen.queryByTestId("app-info")).toBeNull();
    expect(within(screen.getByTestId("sidebar")).getByText("设置")).toBeTruthy();
    expect(screen.getByTestId("app-title").textContent).toBe("wxdesk");

    await within(contentArea()).findByTestId("app-info");
    expect(screen.queryByTestId("page-loading")).toBeNull();
  });

  it("keeps the page being left up, with no spinner, until the next one is ready", async () => {
    const { router } = renderApp();
    await screen.findByTestId("page-overview");

    fireEvent.click(screen.getByTestId("nav-accounts"));
    // The accounts chunk is still on its way: 概览 stays, nothing flashes.
    expect(screen.queryByTestId("page-loading")).toBeNull();
    expect(screen.getByTestId("page-overview")).toBeTruthy();

    await screen.findByText("还没有授权账号");
    expect(screen.queryByTestId("page-overview")).toBeNull();
    expect(router.state.location.pathname).toBe("/accounts");
  });
});
