import { AutoComplete, Flex, Spin, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useTestFollowers } from "../../api/compose";
import { useDebounced } from "./useDebounced";

interface Props {
  appid: string;
  value: string;
  onChange: (openid: string) => void;
}

/**
 * 先发给自己's recipient: searches the account's synced followers by remark or openid (the
 * chosen one fills in its openid), and takes a pasted openid as it is.
 */
export function TestRecipientPicker({ appid, value, onChange }: Props) {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const followers = useTestFollowers(appid, useDebounced(search, 250));
  const options = (followers.data ?? []).map((f) => ({
    value: f.openid,
    label: (
      <Flex justify="space-between" gap={12}>
        <Typography.Text ellipsis style={{ maxWidth: 140 }}>
          {f.remark || t("send.compose.testNoRemark")}
        </Typography.Text>
        <Typography.Text type="secondary" style={{ fontFamily: "monospace", fontSize: 12 }}>
          {f.openid}
        </Typography.Text>
      </Flex>
    ),
  }));
  return (
    <AutoComplete
      data-testid="test-openid"
      style={{ width: 300 }}
      popupMatchSelectWidth={440}
      value={value}
      options={options}
      filterOption={false}
      allowClear
      placeholder={t("send.compose.testPlaceholder")}
      onSearch={setSearch}
      onChange={(v) => onChange(typeof v === "string" ? v : "")}
      notFoundContent={followers.isPending ? <Spin size="small" /> : t("send.compose.testNoMatch")}
    />
  );
}
