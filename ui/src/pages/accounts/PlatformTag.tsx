import { Tag, Tooltip } from "antd";
import { useTranslation } from "react-i18next";
import { useSandboxAppids } from "../../api/archive";
import type { AccountView } from "../../api/shell";

/** The small 沙箱 tag: a simulated account, never a real one. */
export function SandboxTag() {
  const { t } = useTranslation();
  return (
    <Tooltip title={t("archive.sandboxTip")}>
      <Tag color="gold" data-testid="sandbox-tag" style={{ marginInlineEnd: 0 }}>
        {t("archive.sandboxTag")}
      </Tag>
    </Tooltip>
  );
}

/** 沙箱 for the sandbox's accounts, 其他平台 for another real platform's; nothing otherwise. */
export function AccountPlatformTag({ account }: { account: AccountView }) {
  const { t } = useTranslation();
  if (account.sandbox) return <SandboxTag />;
  if (account.current_platform) return null;
  return (
    <Tooltip title={t("archive.otherTip", { appid: account.component_appid })}>
      <Tag data-testid="other-platform-tag" style={{ marginInlineEnd: 0 }}>
        {t("archive.otherTag")}
      </Tag>
    </Tooltip>
  );
}

/** 沙箱 beside an appid where only the appid is known (jobs, history): also after the
 * account's archive was removed. */
export function SandboxMark({ appid }: { appid: string }) {
  const { data } = useSandboxAppids();
  return data?.has(appid) ? <SandboxTag /> : null;
}
