import { AutoComplete, type AutoCompleteProps, Flex, Spin, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useTestFollowers } from "../../api/compose";
import { useInteractionsLive, useOpenInteractions } from "../../api/interactions";
import { ageText } from "../accounts/labels";
import { FindYourself } from "./FindYourself";
import { useDebounced } from "./useDebounced";

interface Props {
  appid: string;
  value: string;
  onChange: (openid: string) => void;
}

/** How many of the users who wrote last are offered before any search. */
const RECENT = 5;

function Option({ name, detail, openid }: { name: string; detail?: string; openid: string }) {
  return (
    <Flex justify="space-between" gap={12}>
      <Flex vertical style={{ minWidth: 0 }}>
        <Typography.Text ellipsis style={{ maxWidth: 180 }}>
          {name}
        </Typography.Text>
        {detail && (
          <Typography.Text type="secondary" ellipsis style={{ maxWidth: 180, fontSize: 12 }}>
            {detail}
          </Typography.Text>
        )}
      </Flex>
      <Typography.Text type="secondary" style={{ fontFamily: "monospace", fontSize: 12 }}>
        {openid}
      </Typography.Text>
    </Flex>
  );
}

/**
 * 先发给自己's recipient. Staff rarely know their own openid, so before any search the picker
 * offers the users who just wrote to the account (write it anything in WeChat, then pick
 * yourself at the top), live as messages arrive; a search looks through the synced followers by
 * remark or openid; a pasted openid is taken as it is.
 */
export function TestRecipientPicker({ appid, value, onChange }: Props) {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const followers = useTestFollowers(appid, useDebounced(search, 250));
  const interactions = useOpenInteractions(appid);
  useInteractionsLive(appid);
  const now = Math.floor(Date.now() / 1000);
  const recent = search.trim()
    ? []
    : (interactions.data?.pages[0]?.rows ?? []).slice(0, RECENT).map((w) => ({
        value: w.openid,
        label: (
          <Option
            name={w.remark || w.preview || t("send.compose.testNoRemark")}
            detail={t("send.compose.testWroteAgo", {
              age: ageText(t, Math.max(0, now - w.last_at)),
            })}
            openid={w.openid}
          />
        ),
      }));
  const shown = new Set(recent.map((o) => o.value));
  const matching = (followers.data ?? [])
    .filter((f) => !shown.has(f.openid))
    .map((f) => ({
      value: f.openid,
      label: <Option name={f.remark || t("send.compose.testNoRemark")} openid={f.openid} />,
    }));
  const options: AutoCompleteProps["options"] =
    recent.length > 0
      ? [
          { label: t("send.compose.testRecent"), options: recent },
          ...(matching.length > 0
            ? [{ label: t("send.compose.testFollowers"), options: matching }]
            : []),
        ]
      : matching;
  return (
    <Flex vertical gap={4}>
      <AutoComplete
        data-testid="test-openid"
        style={{ width: 300 }}
        popupMatchSelectWidth={480}
        value={value}
        options={options}
        filterOption={false}
        allowClear
        placeholder={t("send.compose.testPlaceholder")}
        onSearch={setSearch}
        onChange={(v) => onChange(typeof v === "string" ? v : "")}
        notFoundContent={
          followers.isPending ? <Spin size="small" /> : t("send.compose.testNoMatch")
        }
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="test-openid-hint">
        {t("send.compose.testFindYourself")}
      </Typography.Text>
      <FindYourself appid={appid} onPick={onChange} />
    </Flex>
  );
}
