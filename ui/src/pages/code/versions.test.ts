import { describe, expect, it } from "vitest";
import type { VersionSummary } from "../../api/code";
import { compareVersions, onVersion, summarizeVersions } from "./versions";

const NAMES = new Map([
  ["wxa000000000000001", "鲜果小程序"],
  ["wxa000000000000002", "茶饮小程序"],
  ["wxa000000000000003", "烘焙小程序"],
  ["wxa000000000000004", "花店小程序"],
]);

describe("version order", () => {
  it("compares the numbers in versions as numbers", () => {
    expect(compareVersions("1.10.0", "1.9.0")).toBeGreaterThan(0);
    expect(compareVersions("2.0", "1.99.9")).toBeGreaterThan(0);
    expect(compareVersions("1.2.0", "1.2.0")).toBe(0);
    expect(compareVersions("1.2", "1.2.1")).toBeLessThan(0);
    expect(compareVersions("v3", "v2")).toBeGreaterThan(0);
  });
});

describe("version summary", () => {
  const summary: VersionSummary = {
    groups: [
      { version: "1.9.0", appids: ["wxa000000000000001"] },
      { version: null, appids: ["wxa000000000000004"] },
      { version: "1.10.0", appids: ["wxa000000000000003", "wxa000000000000002"] },
    ],
    unknown: [["wxa00000000000000f", "网络不通"]],
  };

  it("lists the newest version first and 'nothing online' last, clients by name", () => {
    const o = summarizeVersions(summary, NAMES);
    expect(o.rows.map((r) => r.version)).toEqual(["1.10.0", "1.9.0", null]);
    expect(o.rows[0]?.clients.map((c) => c.name)).toEqual(
      ["茶饮小程序", "烘焙小程序"].sort((a, b) => a.localeCompare(b, "zh-CN")),
    );
    expect(o.rows[2]?.clients).toEqual([{ appid: "wxa000000000000004", name: "花店小程序" }]);
  });

  it("keeps the clients it could not read, with why, under their appid when unnamed", () => {
    const o = summarizeVersions(summary, NAMES);
    expect(o.unknown).toEqual([
      { appid: "wxa00000000000000f", name: "wxa00000000000000f", why: "网络不通" },
    ]);
    expect(o.total).toBe(5);
  });

  it("counts the clients on a version", () => {
    const o = summarizeVersions(summary, NAMES);
    expect(onVersion(o, "1.10.0")).toBe(2);
    expect(onVersion(o, "3.0.0")).toBe(0);
  });
});
