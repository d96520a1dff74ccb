import { describe, expect, it } from "vitest";
import type { RowCounts } from "../../api/code";
import { rolloutPercent, shownRollout, stepShare } from "./progress";

function counts(by_state: RowCounts["by_state"], done = 0): RowCounts {
  const total = Object.values(by_state).reduce((n, x) => n + (x ?? 0), 0);
  return { total, done, audit_failed: 0, failed: 0, cancelled: 0, remaining: 0, by_state };
}

describe("rollout progress", () => {
  it("moves while WeChat reviews: three clients under review are half-way to released", () => {
    expect(rolloutPercent(counts({ auditing: 2, audit_delayed: 1 }), "released")).toEqual({
      percent: 57,
      done: 0,
    });
  });

  it("is full once every client is released, rejected or cancelled", () => {
    const c = counts({ released: 2, audit_failed: 1 }, 2);
    expect(rolloutPercent(c, "released")).toEqual({ percent: 100, done: 66 });
  });

  it("measures each step against the rollout's own target", () => {
    expect(stepShare("committed", "committed")).toBe(1);
    expect(stepShare("committed", "released")).toBeCloseTo(2 / 7);
    expect(stepShare("audit_passed", "audited")).toBe(1);
    expect(stepShare("pending", "audited")).toBe(0);
    expect(stepShare("audit_delayed", "audited")).toBe(stepShare("auditing", "audited"));
  });

  it("is 0 for an empty rollout", () => {
    expect(rolloutPercent(counts({}), "released")).toEqual({ percent: 0, done: 0 });
  });
});

describe("the rollout a card shows", () => {
  const released = counts({ released: 3 }, 3);
  const midway = counts({ audit_delayed: 3 });
  it("is the list's once the list says it ended, whatever the last live report said", () => {
    expect(
      shownRollout(
        { status: "completed", counts: released },
        { status: "running", counts: midway },
      ),
    ).toEqual({ status: "completed", counts: released });
  });
  it("is the live report's while the list still says it runs", () => {
    expect(
      shownRollout({ status: "running", counts: midway }, { status: "paused", counts: released }),
    ).toEqual({ status: "paused", counts: released });
    expect(shownRollout({ status: "running", counts: midway }, null)).toEqual({
      status: "running",
      counts: midway,
    });
  });
});
