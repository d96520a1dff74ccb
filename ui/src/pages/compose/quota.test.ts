import { describe, expect, it } from "vitest";
import { AppError } from "../../api";
import { formatCount, quotaVerdict } from "./quota";

const quota = (remaining: number, limit = 100) => ({
  daily_limit: limit,
  used: limit - remaining,
  remaining,
});

describe("quotaVerdict", () => {
  it("is loading until the quota arrives", () => {
    expect(quotaVerdict(5, undefined, null)).toEqual({ kind: "loading" });
  });

  it("fits when the recipients are at most what is left", () => {
    expect(quotaVerdict(10, quota(10), null)).toEqual({
      kind: "enough",
      remaining: 10,
      limit: 100,
    });
  });

  it("warns with the shortfall when the recipients exceed what is left", () => {
    expect(quotaVerdict(11, quota(10), null)).toEqual({
      kind: "short",
      remaining: 10,
      limit: 100,
      over: 1,
    });
    expect(quotaVerdict(3, quota(0), null)).toEqual({
      kind: "short",
      remaining: 0,
      limit: 100,
      over: 3,
    });
  });

  it("reports a failed query with its message, even if an older quota is at hand", () => {
    expect(quotaVerdict(1, quota(50), new Error("查询今日额度失败（errcode 76022）"))).toEqual({
      kind: "failed",
      reason: "查询今日额度失败（errcode 76022）",
    });
  });

  it("adds the shell's hint to the reason when there is one", () => {
    const e = new AppError({
      code: "relay",
      message: "中继请求失败：连接被拒绝",
      hint: "检查中继地址",
      errcode: null,
    });
    expect(quotaVerdict(1, undefined, e)).toEqual({
      kind: "failed",
      reason: "中继请求失败：连接被拒绝。检查中继地址",
    });
  });
});

describe("formatCount", () => {
  it("groups thousands", () => {
    expect(formatCount(100000)).toBe("100,000");
    expect(formatCount(999)).toBe("999");
  });
});
