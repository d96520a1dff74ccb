import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen, waitFor } from "@testing-library/react";
import { App as AntApp } from "antd";
import { describe, expect, it } from "vitest";
import "../../i18n";
import { useUiStore } from "../../store/ui";
import { AddTemplateModal } from "./AddTemplateModal";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

function renderModal() {
  mockIPC(() => null);
  render(
    <QueryClientProvider client={new QueryClient()}>
      <AntApp>
        <AddTemplateModal appid="wx0123456789abcdef" open onClose={() => undefined} />
      </AntApp>
    </QueryClientProvider>,
  );
}

/** The modal's words: its text and its fields' placeholders. */
function words(): string {
  const dialog = screen.getByRole("dialog");
  const placeholders = [...dialog.querySelectorAll("input, textarea")].map(
    (e) => e.getAttribute("placeholder") ?? "",
  );
  return [dialog.textContent ?? "", ...placeholders].join("\n");
}

describe("从模板库添加", () => {
  it("shows Chinese examples in Chinese", () => {
    renderModal();
    expect(screen.getByTestId("add-short-id").getAttribute("placeholder")).toBe(
      "例如 1234 或 OPENTM400000001",
    );
    expect(screen.getByTestId("add-keywords").getAttribute("placeholder")).toContain("工单名称");
  });

  it("has no Chinese on the English screen, placeholders included", async () => {
    useUiStore.getState().setLanguage("en");
    renderModal();
    await waitFor(() => expect(words()).toContain("Add from the template library"));
    expect(words().match(new RegExp(CJK.source, "g")) ?? []).toEqual([]);
    expect(screen.getByTestId("add-short-id").getAttribute("placeholder")).toBe(
      "e.g. 1234 or OPENTM400000001",
    );
  });
});
