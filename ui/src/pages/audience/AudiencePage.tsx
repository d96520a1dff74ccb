import { Tabs } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { PageShell } from "../PageShell";
import { AccountScope } from "../templates/AccountPicker";
import { BridgeTab } from "./BridgeTab";
import { FollowersTab } from "./FollowersTab";
import { ListsTab } from "./ListsTab";
import { TagsTab } from "./TagsTab";

/** 用户与名单: followers, tags, saved lists and the unionid bridge of the chosen account. */
export function AudiencePage() {
  const { t } = useTranslation();
  const [tab, setTab] = useState("followers");
  return (
    <PageShell page="audience">
      <AccountScope page="audience">
        {({ appid }) => (
          <Tabs
            key={appid}
            activeKey={tab}
            onChange={setTab}
            destroyOnHidden
            items={[
              {
                key: "followers",
                label: <span data-testid="tab-followers">{t("audience.tabs.followers")}</span>,
                children: <FollowersTab appid={appid} />,
              },
              {
                key: "tags",
                label: <span data-testid="tab-tags">{t("audience.tabs.tags")}</span>,
                children: <TagsTab appid={appid} />,
              },
              {
                key: "lists",
                label: <span data-testid="tab-lists">{t("audience.tabs.lists")}</span>,
                children: <ListsTab appid={appid} />,
              },
              {
                key: "bridge",
                label: <span data-testid="tab-bridge">{t("audience.tabs.bridge")}</span>,
                children: <BridgeTab appid={appid} />,
              },
            ]}
          />
        )}
      </AccountScope>
    </PageShell>
  );
}
