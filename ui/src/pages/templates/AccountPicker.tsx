import { Flex, Select, Skeleton, Typography } from "antd";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { create } from "zustand";
import { type AccountOption, useAccountOptions } from "../../api/templates";
import { ErrorAlert } from "../../layout/ErrorAlert";
import { SandboxTag } from "../accounts/PlatformTag";
import { EmptyState } from "../PageShell";

// The chosen account is shared by 模板 and 用户与名单, so switching pages keeps it.
interface PickedAccount {
  appid: string | undefined;
  setAppid: (appid: string) => void;
}

export const usePickedAccount = create<PickedAccount>((set) => ({
  appid: undefined,
  setAppid: (appid) => set({ appid }),
}));

function label(a: AccountOption) {
  return a.nickname ? `${a.nickname}（${a.appid}）` : a.appid;
}

interface Props {
  /** Rendered once an account is chosen, with its appid. */
  children: (account: AccountOption) => React.ReactNode;
  /** Buttons shown beside the picker. */
  extra?: (account: AccountOption) => React.ReactNode;
  /** Whose empty state to show when no official account is authorized yet. */
  page: "templates" | "audience" | "compose";
}

/**
 * The account picker at the top of the page; picks the first account by default, and shows
 * the "go authorize" empty state when there is none.
 */
export function AccountScope({ children, extra, page }: Props) {
  const { t } = useTranslation();
  const { data, error, isPending } = useAccountOptions();
  const { appid, setAppid } = usePickedAccount();
  const current = data?.find((a) => a.appid === appid) ?? data?.[0];
  useEffect(() => {
    if (current && current.appid !== appid) setAppid(current.appid);
  }, [current, appid, setAppid]);

  if (isPending) return <Skeleton active paragraph={{ rows: 4 }} />;
  if (error) return <ErrorAlert error={error} />;
  if (!current) return <EmptyState page={page} to="/accounts" />;
  return (
    <Flex vertical gap={16}>
      <Flex gap={12} align="center" wrap>
        <Typography.Text type="secondary">{t("templates.account")}</Typography.Text>
        <Select
          data-testid="account-picker"
          style={{ minWidth: 320 }}
          value={current.appid}
          onChange={setAppid}
          options={data.map((a) => ({
            value: a.appid,
            title: label(a),
            label: (
              <Flex gap={6} align="center">
                {/* Its own element, so the name is found as the option's text. */}
                <span>{label(a)}</span>
                {a.sandbox && <SandboxTag />}
              </Flex>
            ),
          }))}
        />
        <Flex gap={8} style={{ marginLeft: "auto" }} wrap>
          {extra?.(current)}
        </Flex>
      </Flex>
      {children(current)}
    </Flex>
  );
}
