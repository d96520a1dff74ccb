import { describe, expect, it } from "vitest";
import en from "./locales/en.json";
import zhCN from "./locales/zh-CN.json";

function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe("translations", () => {
  it("have the same keys in Chinese and English", () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort());
  });

  it("have no empty strings", () => {
    const empty = [zhCN, en].flatMap((r) =>
      keys(r).filter((k) => k.split(".").reduce<unknown>((o, p) => (o as never)[p], r) === ""),
    );
    expect(empty).toEqual([]);
  });
});
