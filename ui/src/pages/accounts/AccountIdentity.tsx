import { Avatar, Flex, Typography } from "antd";
import type { AccountView } from "../../api/shell";
import { AccountPlatformTag } from "./PlatformTag";

/** An account as its tables show it: avatar, name, 沙箱 / 其他平台 mark, and the appid below. */
export function AccountIdentity({
  account: a,
  testid,
  strong,
}: {
  account: AccountView;
  testid: string;
  strong?: boolean;
}) {
  return (
    <Flex gap={10} align="center">
      <Avatar src={a.head_img || undefined}>{a.nickname.slice(0, 1)}</Avatar>
      <Flex vertical style={{ minWidth: 0 }}>
        <Flex gap={6} align="center">
          <Typography.Text strong={strong} ellipsis data-testid={testid}>
            {a.nickname}
          </Typography.Text>
          <AccountPlatformTag account={a} />
        </Flex>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {a.appid}
        </Typography.Text>
      </Flex>
    </Flex>
  );
}
