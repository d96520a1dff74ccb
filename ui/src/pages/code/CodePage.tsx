// 小程序代码: one template, many clients' mini programs — the mini programs and their versions,
// the platform's template library, and rollouts with their live progress.
import { DeploymentUnitOutlined, SafetyCertificateOutlined } from "@ant-design/icons";
import { Button, Flex, Skeleton, Tabs, Tooltip, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useCodeLive, useMinis, useQuota } from "../../api/code";
import { EmptyState, PageShell } from "../PageShell";
import { LibraryTab } from "./LibraryTab";
import { CodeErrorAlert, errorLine } from "./labels";
import { MinisTab } from "./MinisTab";
import { RolloutDrawer } from "./RolloutDrawer";
import { RolloutsTab } from "./RolloutsTab";

type TabKey = "minis" | "library" | "rollouts";

/** 审核额度 this month (the platform's, shared by every mini program). */
function QuotaLine({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  const quota = useQuota(enabled);
  if (!enabled) return null;
  if (quota.error)
    return (
      <Tooltip title={errorLine(quota.error)}>
        <Typography.Text type="warning">{t("code.quota.unknown")}</Typography.Text>
      </Tooltip>
    );
  if (!quota.data) return null;
  const q = quota.data;
  return (
    <Typography.Text type={q.rest > 0 ? "secondary" : "danger"} data-testid="code-quota">
      {t("code.quota.line", { rest: q.rest, limit: q.limit })} ·{" "}
      {t("code.quota.speedup", { rest: q.speedup_rest, limit: q.speedup_limit })}
    </Typography.Text>
  );
}

export function CodePage() {
  const { t } = useTranslation();
  const { minis, names, error, isPending } = useMinis();
  const [tab, setTab] = useState<TabKey>("minis");
  const [rolloutFor, setRolloutFor] = useState<string[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const hasMinis = (minis?.length ?? 0) > 0;
  useCodeLive();

  const noMinis = <EmptyState page="code" to="/accounts" icon={<SafetyCertificateOutlined />} />;
  const body = (content: React.ReactNode) => {
    if (isPending) return <Skeleton active paragraph={{ rows: 6 }} />;
    if (error) return <CodeErrorAlert error={error} />;
    return hasMinis ? content : noMinis;
  };

  return (
    <PageShell page="code">
      <Flex align="center" gap={12} wrap>
        <Typography.Text type="secondary" style={{ flex: 1 }}>
          {t("code.intro")}
        </Typography.Text>
        <QuotaLine enabled={hasMinis} />
        <Button
          icon={<DeploymentUnitOutlined />}
          disabled={!hasMinis}
          data-testid="new-rollout"
          onClick={() => setRolloutFor([])}
        >
          {t("code.rollouts.new")}
        </Button>
      </Flex>
      <Tabs
        activeKey={tab}
        onChange={(k) => setTab(k as TabKey)}
        items={[
          {
            key: "minis",
            label: <span data-testid="tab-minis">{t("code.tabs.minis")}</span>,
            children: body(
              <MinisTab minis={minis ?? []} names={names} onRollout={setRolloutFor} />,
            ),
          },
          {
            key: "library",
            label: <span data-testid="tab-library">{t("code.tabs.library")}</span>,
            children: <LibraryTab />,
          },
          {
            key: "rollouts",
            label: <span data-testid="tab-rollouts">{t("code.tabs.rollouts")}</span>,
            children: body(
              <RolloutsTab
                names={names}
                selected={selected}
                onSelect={setSelected}
                onNew={() => setRolloutFor([])}
              />,
            ),
          },
        ]}
      />
      <RolloutDrawer
        appids={rolloutFor}
        minis={minis ?? []}
        names={names}
        onClose={() => setRolloutFor(null)}
        onStarted={(id) => {
          setRolloutFor(null);
          setSelected(id);
          setTab("rollouts");
        }}
      />
    </PageShell>
  );
}
