import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import type { EChartsCoreOption } from "echarts/core";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import ReactEChartsCore from "echarts-for-react/esm/core";

// echarts with zrender is the largest library the UI has (about 540 kB before gzip): this
// module is its only importer and OverviewPage loads it with import(), so it is read when
// 概览 has days to draw, never for the first paint.
echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** Sends per day by outcome, stacked; `option` is built by OverviewPage. */
export function OverviewChart({ option }: { option: EChartsCoreOption }) {
  return <ReactEChartsCore echarts={echarts} option={option} style={{ height: 300 }} notMerge />;
}
