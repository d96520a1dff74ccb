import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { AppError } from "../../api";
import type { KeywordKind, TemplateField } from "../../api/templates";
import { i18n } from "../../i18n";
import { keywordRule, templateErrorTitle } from "./keywordRules";
import { FieldRules } from "./TemplateDrawer";

const t = i18n.getFixedT("zh-CN");
const tEn = i18n.getFixedT("en");

const ALL_KINDS: KeywordKind[] = [
  "thing",
  "number",
  "letter",
  "symbol",
  "character_string",
  "time",
  "date",
  "amount",
  "phone_number",
  "car_number",
  "name",
  "phrase",
  "const",
  "enum",
  "short_thing",
  "first",
  "keyword",
  "remark",
  "unknown",
];

describe("keyword rules", () => {
  it("states each typed keyword's limit in Chinese (protocol E.1)", () => {
    expect(keywordRule(t, "thing").rule).toBe("最多 20 个字；可为汉字、数字、字母或符号");
    expect(keywordRule(t, "character_string").rule).toBe("最多 32 个字符，只能是数字、字母或符号");
    expect(keywordRule(t, "phrase").rule).toBe("最多 5 个汉字，只能是汉字，如「配送中」");
    expect(keywordRule(t, "amount").rule).toContain("最多 10 位数字");
    expect(keywordRule(t, "phone_number").rule).toContain("最多 17 个字符");
    expect(keywordRule(t, "car_number").rule).toContain("最多 8 个字符");
    expect(keywordRule(t, "name").rule).toContain("最多 10 个汉字");
    expect(keywordRule(t, "const").rule).toBe("必须是该模板审核通过的固定值之一");
  });

  it("has a name and a rule for every kind in both languages, never the raw key", () => {
    for (const kind of ALL_KINDS) {
      for (const tr of [t, tEn]) {
        const r = keywordRule(tr, kind);
        expect(r.kind, kind).not.toContain("templates.");
        expect(r.rule, kind).not.toContain("templates.");
        expect(r.rule.length, kind).toBeGreaterThan(4);
      }
    }
    expect(keywordRule(tEn, "time").kind).toBe("time");
    expect(keywordRule(t, "time").kind).toBe("时间");
  });

  it("renders one row per field with key, label, type and rule, marking hidden ones", () => {
    const fields: TemplateField[] = [
      { key: "character_string1", label: "订单编号", kind: "character_string", shown: true },
      { key: "time3", label: "发货时间", kind: "time", shown: true },
      { key: "remark", label: "", kind: "remark", shown: false },
    ];
    render(<FieldRules fields={fields} />);
    const rows = Array.from(
      screen.getByTestId("field-rules").querySelectorAll("tbody tr.ant-table-row"),
    ).map((r) => Array.from(r.querySelectorAll("td")).map((td) => td.textContent));
    expect(rows).toEqual([
      ["character_string1", "订单编号", "字符串", "最多 32 个字符，只能是数字、字母或符号"],
      [
        "time3",
        "发货时间",
        "时间",
        "24 小时制时间，可带日期，如「15:01」或「2019年10月1日 15:01」；可用 ~ 表示时间段",
      ],
      ["remark", "", "备注", "备注，2023 年 5 月起不再展示（已不展示）"],
    ]);
  });

  it("titles the 25-template limit and permission errors from WeChat's errcode", () => {
    const err = (message: string, errcode: number | null) =>
      new AppError({ code: "invalid", message, hint: null, errcode });
    expect(
      templateErrorTitle(t, err("添加模板失败（errcode 45026）：该公众号的模板已达上限", null)),
    ).toBe("模板数量已达上限（25 个）");
    expect(templateErrorTitle(t, err("同步模板失败", 48001))).toBe("没有模板消息权限");
    expect(templateErrorTitle(t, err("授权时未勾选（errcode 61007）", null))).toBe(
      "没有模板消息权限",
    );
    expect(templateErrorTitle(t, err("网络错误", null))).toBeNull();
    expect(templateErrorTitle(t, new Error("x"))).toBeNull();
  });
});
