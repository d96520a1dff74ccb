// 线上版本分布: which clients are on which online version, newest first.
import { ReloadOutlined } from "@ant-design/icons";
import { Button, Card, Flex, Skeleton, Tag, Tooltip, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { VersionSummary } from "../../api/code";
import { CodeErrorAlert, hasCjk } from "./labels";
import { summarizeVersions } from "./versions";

interface Props {
  summary: VersionSummary | undefined;
  error: unknown;
  loading: boolean;
  names: ReadonlyMap<string, string>;
  onRefresh: () => void;
  /** The version a rollout brings, highlighted. */
  target?: string;
  testid?: string;
}

export function VersionSummaryCard({
  summary,
  error,
  loading,
  names,
  onRefresh,
  target,
  testid = "version-summary",
}: Props) {
  const { t, i18n } = useTranslation();
  // core's reasons are Chinese: the English screen keeps to the appid.
  const why = (w: string) => (i18n.language === "en" && hasCjk(w) ? "" : `: ${w}`);
  const overview = summary ? summarizeVersions(summary, names) : null;
  return (
    <Card
      size="small"
      title={t("code.versions.title")}
      data-testid={testid}
      extra={
        <Button size="small" icon={<ReloadOutlined />} onClick={onRefresh} loading={loading}>
          {t("code.refresh")}
        </Button>
      }
    >
      {error ? <CodeErrorAlert error={error} /> : null}
      {!overview && !error && <Skeleton active paragraph={{ rows: 2 }} />}
      {overview && (
        <Flex vertical gap={8}>
          {overview.rows.map((r) => (
            <Flex key={r.version ?? "none"} gap={8} align="baseline" wrap>
              <Tag
                color={r.version !== null && r.version === target ? "success" : undefined}
                style={{ minWidth: 72, textAlign: "center" }}
              >
                {r.version ?? t("code.versions.none")}
              </Tag>
              <Typography.Text strong>
                {t("code.versions.count", { n: r.clients.length })}
              </Typography.Text>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {r.clients.map((c, i) => (
                  <Tooltip key={c.appid} title={c.appid}>
                    <span>
                      {i > 0 ? t("code.versions.sep") : ""}
                      {c.name}
                    </span>
                  </Tooltip>
                ))}
              </Typography.Text>
            </Flex>
          ))}
          {overview.unknown.length > 0 && (
            <Flex gap={8} align="baseline" wrap>
              <Tag color="warning">{t("code.versions.unknown")}</Tag>
              {overview.unknown.map((u) => (
                <Tooltip key={u.appid} title={`${u.appid}${why(u.why)}`}>
                  <Typography.Text type="warning" style={{ fontSize: 12 }}>
                    {u.name}
                  </Typography.Text>
                </Tooltip>
              ))}
            </Flex>
          )}
          {overview.total === 0 && (
            <Typography.Text type="secondary">{t("code.versions.empty")}</Typography.Text>
          )}
        </Flex>
      )}
    </Card>
  );
}
