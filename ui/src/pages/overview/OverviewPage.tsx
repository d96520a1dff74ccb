import {
  Alert,
  theme as antdTheme,
  Card,
  Col,
  Empty,
  Flex,
  Row,
  Spin,
  Statistic,
  Typography,
} from "antd";
import { lazy, Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { type JobView, useDeliveryReportsLive, useJobs, useOverview } from "../../api/send";
import { useAccounts } from "../../api/shell";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { jobTitle } from "../jobs/labels";
import { PageShell } from "../PageShell";
import { overviewChartOption } from "./chartOption";

// The chart brings echarts, the largest library of the UI: 概览 is the first page, so it loads
// the chart on its own, only when there are days to draw, after the page's numbers are up.
const OverviewChart = lazy(() =>
  import("./OverviewChart").then((m) => ({ default: m.OverviewChart })),
);

const DAYS = 14;

type AttentionKey =
  | "send.overview.quotaJob"
  | "send.overview.interruptedJob"
  | "send.overview.pausedJob"
  | "send.overview.failedJob"
  | "send.overview.partlyFailedJob"
  | "send.overview.cancelledFailedJob";

/** The line of 需要关注 for a job core marked as needing the operator. */
function attentionKey(j: JobView): AttentionKey {
  switch (j.shown) {
    case "paused_quota":
      return "send.overview.quotaJob";
    case "paused":
      return j.pause_reason?.code === "interrupted"
        ? "send.overview.interruptedJob"
        : "send.overview.pausedJob";
    case "failed":
      return "send.overview.failedJob";
    case "partly_failed":
      return "send.overview.partlyFailedJob";
    default:
      return "send.overview.cancelledFailedJob";
  }
}

/** Sends per day by outcome (stacked), today's totals, and what needs the operator. */
export function OverviewPage() {
  const { t } = useTranslation();
  const { token } = antdTheme.useToken();
  const stats = useOverview(DAYS);
  useDeliveryReportsLive();
  const jobs = useJobs();
  const accounts = useAccounts();
  const today = stats.data?.today;
  const days = stats.data?.days ?? [];
  const option = overviewChartOption(t, days);
  const attention = [
    ...(accounts.data ?? [])
      // An archived platform's account (the sandbox's) needs nothing: it is never used.
      .filter((a) => a.current_platform && a.status !== "authorized")
      .map((a) => ({
        key: `a-${a.appid}`,
        text: t(
          a.status === "unauthorized"
            ? "send.overview.accountUnauthorized"
            : "send.overview.accountReauth",
          { name: a.nickname || a.appid },
        ),
        to: "/accounts",
      })),
    // Core decides which jobs need the operator (paused, or ended with failed or unknown rows).
    ...(jobs.data ?? [])
      .filter((j) => j.attention)
      .map((j) => ({
        key: `j-${j.id}`,
        text: t(attentionKey(j), {
          title: jobTitle(t, j),
          failed: j.counts.failed_retryable + j.counts.failed_permanent,
          uncertain: j.counts.uncertain,
          total: j.counts.total,
        }),
        to: j.shown === "paused" || j.shown === "paused_quota" ? "/jobs" : `/history?job=${j.id}`,
      })),
  ];
  return (
    <PageShell page="overview">
      {stats.error && <ErrorAlert error={stats.error} />}
      <Row gutter={16}>
        {[
          ["sent", today?.sent, "#1677ff"],
          ["delivered", today?.delivered, "#52c41a"],
          ["failed", (today?.failed ?? 0) + (today?.system_failed ?? 0), "#ff4d4f"],
          ["userBlock", today?.user_block, "#faad14"],
        ].map(([k, v, c]) => (
          <Col span={6} key={k as string}>
            <Card size="small" data-testid={`today-${k}`}>
              <Statistic
                title={`${t("send.overview.today")} · ${t(`send.overview.${k as "sent"}`)}`}
                value={(v as number | undefined) ?? 0}
                styles={{ content: { color: c as string } }}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Row gutter={16}>
        <Col span={16}>
          <Card title={t("send.overview.chart")} size="small" data-testid="overview-chart">
            {days.some((d) => d.sent + d.failed + d.uncertain > 0) ? (
              // The fallback keeps the chart's height, so the card does not jump when it draws.
              <Suspense
                fallback={
                  <Flex justify="center" align="center" style={{ height: 300 }}>
                    <Spin />
                  </Flex>
                }
              >
                <OverviewChart option={option} />
              </Suspense>
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("send.jobs.emptyDesc")} />
            )}
          </Card>
        </Col>
        <Col span={8}>
          <Card title={t("send.overview.attention")} size="small" data-testid="overview-attention">
            {attention.length === 0 ? (
              <Alert type="success" showIcon title={t("send.overview.noAttention")} />
            ) : (
              // Plain rows in the look of a small antd List: List (deprecated since antd 6.6)
              // brings Pagination and Select, about 100 kB of the first paint (#19).
              <Flex vertical>
                {attention.map((a, i) => (
                  <Flex
                    key={a.key}
                    data-testid={`attention-${a.key}`}
                    justify="space-between"
                    gap={8}
                    style={{
                      padding: "8px 16px",
                      borderTop: i > 0 ? `1px solid ${token.colorSplit}` : undefined,
                    }}
                  >
                    <Typography.Text>{a.text}</Typography.Text>
                    <Link to={a.to}>→</Link>
                  </Flex>
                ))}
              </Flex>
            )}
          </Card>
        </Col>
      </Row>
    </PageShell>
  );
}
