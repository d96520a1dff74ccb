import { Alert, Avatar, Card, Descriptions, Flex, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { AccountView } from "../../api/shell";
import { kindText, permissionName, statusText, typeText, verificationText } from "./labels";

export function statusColor(s: AccountView["status"]) {
  return s === "authorized" ? "success" : s === "unauthorized" ? "default" : "warning";
}

/** The account the wizard just authorized: who it is and what it granted. */
export function AccountCard({ account }: { account: AccountView }) {
  const { t } = useTranslation();
  return (
    <Card data-testid="account-card">
      <Flex gap={16} align="center" style={{ marginBottom: 16 }}>
        <Avatar size={64} src={account.head_img || undefined}>
          {account.nickname.slice(0, 1)}
        </Avatar>
        <Flex vertical gap={4}>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="account-card-name">
            {account.nickname}
          </Typography.Title>
          <Flex gap={6}>
            <Tag color="blue">
              {kindText(t, account)}
              {account.kind === "oa" && account.account_type !== "official_account"
                ? ` · ${typeText(t, account)}`
                : ""}
            </Tag>
            <Tag color={account.verified ? "green" : "default"}>{verificationText(t, account)}</Tag>
            <Tag color={statusColor(account.status)}>{statusText(t, account.status)}</Tag>
          </Flex>
        </Flex>
      </Flex>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t("shell.card.appid")}>
          <Typography.Text copyable>{account.appid}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t("shell.card.principal")}>
          {account.principal || "—"}
        </Descriptions.Item>
        <Descriptions.Item label={t("shell.card.permissions")}>
          <Flex wrap gap={4}>
            {account.permissions.map((id) => (
              <Tag key={id}>{permissionName(t, id)}</Tag>
            ))}
          </Flex>
        </Descriptions.Item>
      </Descriptions>
      {account.missing_template_permission && (
        <Alert
          style={{ marginTop: 12 }}
          type="warning"
          showIcon
          data-testid="missing-template-permission"
          title={t("shell.card.missingTemplate")}
        />
      )}
    </Card>
  );
}
