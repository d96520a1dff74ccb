import { Alert, Card, Tabs, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { PageShell } from "../PageShell";
import { AccountScope } from "../templates/AccountPicker";
import { CustomTab } from "./CustomTab";
import { SubscribeComposer } from "./SubscribeComposer";
import { type MiniPreset, TemplateComposer } from "./TemplateComposer";
import { UniformTab } from "./UniformTab";

export function ComposePage() {
  const { t } = useTranslation();
  const [tab, setTab] = useState("template");
  // The replacement 统一服务消息 offers: a template message opening the mini program.
  const [preset, setPreset] = useState<{ key: number; mini: MiniPreset } | null>(null);
  return (
    <PageShell page="compose">
      <AccountScope page="compose">
        {(account) => (
          <Tabs
            activeKey={tab}
            onChange={setTab}
            items={[
              {
                key: "template",
                label: t("send.compose.tabTemplate"),
                children: (
                  <TemplateComposer
                    key={`${account.appid}-${preset?.key ?? 0}`}
                    appid={account.appid}
                    preset={preset?.mini}
                  />
                ),
              },
              {
                key: "subscribe",
                label: <span data-testid="tab-subscribe">{t("messaging.compose.tab")}</span>,
                children: <SubscribeComposer key={account.appid} appid={account.appid} />,
              },
              {
                key: "custom",
                label: t("send.compose.tabCustom"),
                children: (
                  <Card>
                    <CustomTab appid={account.appid} />
                    <Alert
                      style={{ marginTop: 16 }}
                      type="warning"
                      showIcon
                      title={t("send.custom.uniformTitle")}
                      description={t("send.custom.uniformDesc")}
                    />
                  </Card>
                ),
              },
              {
                key: "uniform",
                label: (
                  <span data-testid="tab-uniform">
                    {t("messaging.uniform.tab")}{" "}
                    <Tag color="red" style={{ marginInlineEnd: 0 }}>
                      {t("messaging.uniform.withdrawn")}
                    </Tag>
                  </span>
                ),
                children: (
                  <UniformTab
                    key={account.appid}
                    appid={account.appid}
                    onReplace={(mini) => {
                      setPreset({ key: Date.now(), mini });
                      setTab("template");
                    }}
                  />
                ),
              },
            ]}
          />
        )}
      </AccountScope>
    </PageShell>
  );
}
