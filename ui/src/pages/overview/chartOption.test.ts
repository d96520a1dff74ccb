import { describe, expect, it } from "vitest";
import type { DayCounts } from "../../bindings";
import { i18n } from "../../i18n";
import { overviewChartOption } from "./chartOption";

const day = (d: string, c: Partial<DayCounts>): DayCounts => ({
  day: d,
  sent: 0,
  failed: 0,
  uncertain: 0,
  delivered: 0,
  user_block: 0,
  system_failed: 0,
  ...c,
});

const DAYS = [
  day("2025-03-01", { sent: 10, delivered: 6, user_block: 1, system_failed: 1, failed: 2 }),
  day("2025-03-02", { sent: 3, uncertain: 4 }),
];

describe("概览's chart", () => {
  it("draws its bars at their counts from the first frame: no animation", () => {
    // A bar growing in from zero stood lower than its count in a screenshot taken after load.
    const option = overviewChartOption(i18n.t, DAYS);
    expect(option.animation).toBe(false);
  });

  it("stacks each day's outcomes to all it sent, failed or is unsure of", () => {
    const option = overviewChartOption(i18n.t, DAYS);
    expect(option.xAxis.data).toEqual(["03-01", "03-02"]);
    const totals = DAYS.map((_, i) => option.series.reduce((n, s) => n + (s.data[i] ?? 0), 0));
    expect(totals).toEqual(DAYS.map((d) => d.sent + d.failed + d.uncertain));
  });
});
