import type { TFunction } from "i18next";
import type { DayCounts } from "../../bindings";

/** Sent rows split by their delivery report; what has no report yet stays "已发送". */
function series(t: TFunction) {
  return [
    {
      name: t("send.overview.delivered"),
      color: "#52c41a",
      get: (d: DayCounts) => d.delivered,
    },
    {
      name: t("send.overview.sent"),
      color: "#1677ff",
      get: (d: DayCounts) => Math.max(0, d.sent - d.delivered - d.user_block - d.system_failed),
    },
    {
      name: t("send.overview.userBlock"),
      color: "#faad14",
      get: (d: DayCounts) => d.user_block,
    },
    {
      name: t("send.overview.failed"),
      color: "#ff4d4f",
      get: (d: DayCounts) => d.failed + d.system_failed,
    },
    {
      name: t("send.overview.uncertain"),
      color: "#bfbfbf",
      get: (d: DayCounts) => d.uncertain,
    },
  ];
}

/** The echarts option of 概览's chart: sends per day by outcome, stacked. */
export function overviewChartOption(t: TFunction, days: DayCounts[]) {
  return {
    // No animation, neither the first draw nor updates: bars growing in from zero showed
    // lower counts than they stand for to anyone (or any screenshot) looking just after load,
    // and the chart is redrawn whole (notMerge) whenever the numbers change — every refetch
    // with a new delivery report — so an update animation would grow every bar from zero again.
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 24 },
    xAxis: { type: "category", data: days.map((d) => d.day.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series: series(t).map((s) => ({
      name: s.name,
      type: "bar",
      stack: "total",
      itemStyle: { color: s.color },
      data: days.map(s.get),
    })),
  };
}
