import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { ImportPreviewView } from "../../api/audience";
import { i18n } from "../../i18n";
import { allColumns, ImportPreview } from "./ImportPreview";

const PREVIEW: ImportPreviewView = {
  format: "csv_gbk",
  has_header: true,
  openid_column: "openid",
  openid_column_index: 0,
  variables: ["姓名", "订单号"],
  rows_read: 8,
  valid: 3,
  invalid_count: 3,
  invalid: [
    { line: 3, value: "张三", problem: "not_an_openid", length: 2 },
    { line: 5, value: "", problem: "empty", length: 0 },
    { line: 6, value: "oAAAAaaaaa", problem: "wrong_length", length: 10 },
  ],
  duplicates_removed: 2,
  conflicting_count: 1,
  conflicting: [
    {
      openid: "oAAAAaaaaaaaaaaaaaaaaaaaaaaa",
      kept_line: 2,
      kept_values: ["李雷", "SO-1"],
      dropped_line: 8,
      dropped_values: ["李雷", "SO-9"],
    },
  ],
  following_checked: true,
  not_following_count: 1,
  not_following: ["oFORMERxxxxxxxxxxxxxxxxxxxxx"],
  sample: [
    { openid: "oAAAAaaaaaaaaaaaaaaaaaaaaaaa", values: ["李雷", "SO-1"] },
    { openid: "oBBBBbbbbbbbbbbbbbbbbbbbbbbb", values: ["韩梅梅", "SO-2"] },
  ],
};

function stat(testid: string) {
  return screen.getByTestId(testid).querySelector(".ant-statistic-content")?.textContent;
}

describe("import preview", () => {
  it("shows every count, the format and the variable columns", () => {
    render(<ImportPreview preview={PREVIEW} />);
    expect(stat("preview-rows")).toBe("8");
    expect(stat("preview-valid")).toBe("3");
    expect(stat("preview-invalid")).toBe("3");
    expect(stat("preview-duplicates")).toBe("2");
    expect(stat("preview-not-following")).toBe("1");
    expect(screen.getByText("CSV（GBK）")).toBeTruthy();
    const vars = screen.getByTestId("preview-variables");
    expect(
      within(vars)
        .getAllByText(/姓名|订单号/)
        .map((e) => e.textContent),
    ).toEqual(["姓名", "订单号"]);
  });

  const invalidRows = () =>
    Array.from(
      screen.getByTestId("preview-invalid-rows").querySelectorAll("tbody tr.ant-table-row"),
    ).map((r) => Array.from(r.querySelectorAll("td")).map((td) => td.textContent));

  it("lists invalid rows with their line and the reason in the window's language", async () => {
    const { unmount } = render(<ImportPreview preview={PREVIEW} />);
    expect(invalidRows()).toEqual([
      ["3", "张三", "openid 含有不允许的字符：只能是字母、数字、- 或 _"],
      ["5", "", "openid 为空"],
      ["6", "oAAAAaaaaa", "openid 长度不对：应为 28 位，此处 10 位"],
    ]);
    unmount();
    await i18n.changeLanguage("en");
    try {
      render(<ImportPreview preview={PREVIEW} />);
      expect(invalidRows()).toEqual([
        [
          "3",
          "张三",
          "The openid holds characters an openid never has: only letters, digits, - and _",
        ],
        ["5", "", "The openid is empty"],
        ["6", "oAAAAaaaaa", "The openid has the wrong length: 28 characters expected, 10 here"],
      ]);
    } finally {
      await i18n.changeLanguage("zh-CN");
    }
  });

  it("lists each repeated openid whose values differ beside the row kept", () => {
    render(<ImportPreview preview={PREVIEW} />);
    const table = screen.getByTestId("preview-conflicts");
    expect(screen.getByText(/^1 个重复的 openid 其他列的值不同：保留先出现的行/)).toBeTruthy();
    const cells = Array.from(table.querySelectorAll("tbody tr.ant-table-row")).map((r) =>
      Array.from(r.querySelectorAll("td")).map((td) => td.textContent),
    );
    expect(cells).toEqual([
      [
        "oAAAAaaaaaaaaaaaaaaaaaaaaaaa",
        "第 2 行：姓名=李雷, 订单号=SO-1",
        "第 8 行：姓名=李雷, 订单号=SO-9",
      ],
    ]);
  });

  it("shows no duplicates table when the repeats were identical", () => {
    render(<ImportPreview preview={{ ...PREVIEW, conflicting_count: 0, conflicting: [] }} />);
    expect(screen.queryByTestId("preview-conflicts")).toBeNull();
  });

  it("warns about non-followers (43004) and names them", () => {
    render(<ImportPreview preview={PREVIEW} />);
    const warn = screen.getByTestId("preview-not-following-warn");
    expect(warn.textContent).toContain("1 个 openid 未关注该公众号");
    expect(warn.textContent).toContain("43004");
    expect(warn.textContent).toContain("oFORMERxxxxxxxxxxxxxxxxxxxxx");
  });

  it("shows the first rows with one column per variable", () => {
    render(<ImportPreview preview={PREVIEW} />);
    const sample = screen.getByTestId("preview-sample");
    const headers = Array.from(sample.querySelectorAll("thead th")).map((th) => th.textContent);
    expect(headers).toEqual(["openid", "姓名", "订单号"]);
    const cells = Array.from(sample.querySelectorAll("tbody tr.ant-table-row")).map((r) =>
      Array.from(r.querySelectorAll("td")).map((td) => td.textContent),
    );
    expect(cells).toEqual([
      ["oAAAAaaaaaaaaaaaaaaaaaaaaaaa", "李雷", "SO-1"],
      ["oBBBBbbbbbbbbbbbbbbbbbbbbbbb", "韩梅梅", "SO-2"],
    ]);
  });

  it("says following was not checked before the first follower sync, without a count", () => {
    render(
      <ImportPreview
        preview={{
          ...PREVIEW,
          following_checked: false,
          not_following_count: 0,
          not_following: [],
        }}
      />,
    );
    expect(stat("preview-not-following")).toBe("—");
    expect(screen.getByText("尚未同步粉丝，无法检查是否关注。建议先同步粉丝。")).toBeTruthy();
    expect(screen.queryByTestId("preview-not-following-warn")).toBeNull();
  });

  it("hides the invalid-rows table when every row is valid", () => {
    render(<ImportPreview preview={{ ...PREVIEW, invalid_count: 0, invalid: [] }} />);
    expect(screen.queryByTestId("preview-invalid-rows")).toBeNull();
  });

  it("puts the openid column back in its place among the file's columns", () => {
    expect(allColumns(PREVIEW)).toEqual(["openid", "姓名", "订单号"]);
    expect(
      allColumns({ openid_column: "会员号", openid_column_index: 2, variables: ["姓名", "电话"] }),
    ).toEqual(["姓名", "电话", "会员号"]);
  });

  it("lets the user correct the openid column and the header row", () => {
    const choose = vi.fn();
    render(<ImportPreview preview={PREVIEW} onChoose={choose} />);
    const header = screen.getByTestId("preview-has-header");
    const box = header.tagName === "INPUT" ? header : header.querySelector("input");
    fireEvent.click(box as HTMLElement);
    expect(choose).toHaveBeenLastCalledWith({ openid_column: 0, has_header: false });
    const select = screen.getByRole("combobox", { name: "openid 列" });
    fireEvent.mouseDown(select);
    fireEvent.click(screen.getByTitle("3. 订单号"));
    expect(choose).toHaveBeenLastCalledWith({ openid_column: 2, has_header: true });
  });
});
