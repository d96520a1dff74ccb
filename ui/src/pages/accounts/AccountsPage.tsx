import { KeyOutlined, PlusOutlined } from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Flex,
  Popconfirm,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import {
  type AccountView,
  useAccounts,
  useRecoverRefreshTokens,
  useRefreshAccount,
  useRemoveAccount,
  useTokenHealth,
} from "../../api/shell";
import { QuotaModal } from "../messaging/QuotaModal";
import { EmptyState, PageShell } from "../PageShell";
import { statusColor } from "./AccountCard";
import { AccountIdentity } from "./AccountIdentity";
import { ArchivedAccounts } from "./ArchivedAccounts";
import {
  errorText,
  permissionName,
  statusText,
  tokenHealthText,
  typeText,
  verificationText,
} from "./labels";

/** Date over time, each on its line: a narrow column then breaks between them, not inside one. */
function when(secs: number | null) {
  if (!secs) return "—";
  const d = new Date(secs * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    <Flex vertical>
      <span>{`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`}</span>
      <Typography.Text type="secondary">{`${p(d.getHours())}:${p(d.getMinutes())}`}</Typography.Text>
    </Flex>
  );
}

/** The account column's width, and the width below which the table scrolls sideways. */
const ACCOUNT_WIDTH = 210;
const TABLE_WIDTH = ACCOUNT_WIDTH + 100 + 110 + 120 + 100 + 155 + 160;

/** 授权账号: the table, kept live by `accounts:changed` (see AppLayout). */

export function AccountsPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { message, modal } = AntApp.useApp();
  const accounts = useAccounts();
  const refresh = useRefreshAccount();
  const remove = useRemoveAccount();
  const recover = useRecoverRefreshTokens();
  const health = useTokenHealth();
  const [quotaFor, setQuotaFor] = useState<AccountView | null>(null);

  const fail = (e: Error) => void message.error(errorText(e));

  // Another platform's accounts (the sandbox's after a switch) are listed apart, never as usable.
  const current = accounts.data?.filter((a) => a.current_platform) ?? [];
  const archived = accounts.data?.filter((a) => !a.current_platform) ?? [];

  if (accounts.data && current.length === 0) {
    return (
      <PageShell page="accounts">
        <Flex vertical gap={16}>
          <EmptyState page="accounts" to="/accounts/authorize" icon={<PlusOutlined />} />
          <ArchivedAccounts accounts={archived} />
        </Flex>
      </PageShell>
    );
  }

  const columns = [
    {
      title: t("shell.accounts.col.account"),
      key: "account",
      width: ACCOUNT_WIDTH,
      render: (_: unknown, a: AccountView) => (
        <AccountIdentity account={a} testid="account-name" strong />
      ),
    },
    {
      title: t("shell.accounts.col.type"),
      key: "type",
      width: 100,
      render: (_: unknown, a: AccountView) => (
        <Flex vertical>
          <span>{typeText(t, a)}</span>
          <Typography.Text type={a.verified ? "success" : "secondary"} style={{ fontSize: 12 }}>
            {verificationText(t, a)}
          </Typography.Text>
        </Flex>
      ),
    },
    {
      title: t("shell.accounts.col.authorizedAt"),
      key: "at",
      width: 110,
      render: (_: unknown, a: AccountView) => when(a.authorized_at),
    },
    {
      title: t("shell.accounts.col.permissions"),
      key: "perm",
      width: 120,
      render: (_: unknown, a: AccountView) => (
        <Tooltip
          title={a.permissions.map((id) => permissionName(t, id)).join(t("shell.accounts.listSep"))}
        >
          <Space size={4}>
            <span>{t("shell.accounts.permCount", { count: a.permissions.length })}</span>
            {a.missing_template_permission && (
              <Tooltip title={t("shell.card.missingTemplate")}>
                <Tag color="warning">!</Tag>
              </Tooltip>
            )}
          </Space>
        </Tooltip>
      ),
    },
    {
      title: t("shell.accounts.col.status"),
      key: "status",
      width: 100,
      render: (_: unknown, a: AccountView) => (
        <Tag color={statusColor(a.status)} data-testid="account-status">
          {statusText(t, a.status)}
        </Tag>
      ),
    },
    {
      title: t("shell.accounts.col.token"),
      key: "token",
      width: 155,
      // The tag above its 检测 button: side by side they outgrow the column in English.
      render: (_: unknown, a: AccountView) => (
        <Flex vertical align="flex-start" gap={2}>
          <Tag color={a.has_refresh_token ? "success" : "error"}>
            {a.has_refresh_token ? t("shell.accounts.tokenOk") : t("shell.accounts.tokenMissing")}
          </Tag>
          <Button
            size="small"
            type="link"
            loading={health.isPending && health.variables === a.appid}
            onClick={() =>
              health.mutate(a.appid, {
                onSuccess: (h) => {
                  const { detail, hint } = tokenHealthText(t, h);
                  modal[h.access_token_ok ? "success" : "warning"]({
                    title: a.nickname,
                    content: hint ? `${detail}${t("shell.accounts.sentenceSep")}${hint}` : detail,
                  });
                },
                onError: fail,
              })
            }
          >
            {t("shell.accounts.tokenCheck")}
          </Button>
        </Flex>
      ),
    },
    {
      title: t("shell.accounts.col.actions"),
      key: "actions",
      width: 160,
      render: (_: unknown, a: AccountView) => (
        <Space size={0} wrap>
          <Button
            type="link"
            size="small"
            onClick={() => navigate(`/accounts/authorize?appid=${encodeURIComponent(a.appid)}`)}
          >
            {t("shell.accounts.reauth")}
          </Button>
          <Button
            type="link"
            size="small"
            loading={refresh.isPending && refresh.variables === a.appid}
            onClick={() => refresh.mutate(a.appid, { onError: fail })}
          >
            {t("shell.accounts.refresh")}
          </Button>
          <Button
            type="link"
            size="small"
            data-testid={`account-quota-${a.appid}`}
            onClick={() => setQuotaFor(a)}
          >
            {t("messaging.quota.button")}
          </Button>
          <Popconfirm
            title={t("shell.accounts.removeConfirm", { name: a.nickname })}
            onConfirm={() => remove.mutate(a.appid, { onError: fail })}
            overlayStyle={{ maxWidth: 360 }}
          >
            <Button type="link" size="small" danger>
              {t("shell.accounts.remove")}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <PageShell page="accounts">
      <Card
        extra={
          <Space>
            <Button
              icon={<KeyOutlined />}
              loading={recover.isPending}
              onClick={() =>
                recover.mutate(undefined, {
                  onSuccess: (r) =>
                    void message.success(
                      t("shell.accounts.recoverDone", {
                        restored: r.restored.length,
                        added: r.added.length,
                        without: r.without_token.length,
                        notAuth: r.not_authorized.length,
                        unchanged: r.unchanged,
                      }),
                    ),
                  onError: fail,
                })
              }
            >
              {t("shell.accounts.recover")}
            </Button>
            <Button
              type="primary"
              icon={<PlusOutlined />}
              data-testid="authorize-new"
              onClick={() => navigate("/accounts/authorize")}
            >
              {t("shell.accounts.authorizeNew")}
            </Button>
          </Space>
        }
      >
        {accounts.error && <Alert type="error" showIcon title={errorText(accounts.error)} />}
        {quotaFor && (
          <QuotaModal
            appid={quotaFor.appid}
            name={quotaFor.nickname}
            open
            onClose={() => setQuotaFor(null)}
          />
        )}
        <Table<AccountView>
          data-testid="accounts-table"
          rowKey="appid"
          loading={accounts.isPending}
          dataSource={current}
          columns={columns}
          pagination={false}
          tableLayout="fixed"
          // Narrower than its columns (a 1024 px window), the table scrolls inside its card
          // rather than squeezing the account's name into a sliver.
          scroll={{ x: TABLE_WIDTH }}
          onRow={(a) => ({ "data-appid": a.appid }) as React.HTMLAttributes<HTMLElement>}
        />
      </Card>
      <ArchivedAccounts accounts={archived} />
    </PageShell>
  );
}
