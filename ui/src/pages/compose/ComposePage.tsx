import { Alert, Card, Tabs } from "antd";
import { useTranslation } from "react-i18next";
import { PageShell } from "../PageShell";
import { AccountScope } from "../templates/AccountPicker";
import { CustomTab } from "./CustomTab";
import { TemplateComposer } from "./TemplateComposer";

export function ComposePage() {
  const { t } = useTranslation();
  return (
    <PageShell page="compose">
      <AccountScope page="compose">
        {(account) => (
          <Tabs
            items={[
              {
                key: "template",
                label: t("send.compose.tabTemplate"),
                children: <TemplateComposer key={account.appid} appid={account.appid} />,
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
            ]}
          />
        )}
      </AccountScope>
    </PageShell>
  );
}
