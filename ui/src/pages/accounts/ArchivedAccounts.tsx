import { Alert, App as AntApp, Button, Card, Flex, Popconfirm, Table, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { usePurgeArchived } from "../../api/archive";
import { type AccountView, useRemoveAccount } from "../../api/shell";
import { AccountIdentity } from "./AccountIdentity";
import { errorText, typeText } from "./labels";

/** The accounts' platforms, each with its accounts, in the order they are listed. */
function byPlatform(accounts: AccountView[]) {
  const groups = new Map<string, AccountView[]>();
  for (const a of accounts) {
    groups.set(a.component_appid, [...(groups.get(a.component_appid) ?? []), a]);
  }
  return [...groups.entries()];
}

/** Removes a whole archive after the user confirms it. */
export function PurgeArchiveButton({
  componentAppid,
  count,
  sandbox,
}: {
  componentAppid: string;
  count: number;
  sandbox: boolean;
}) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const purge = usePurgeArchived();
  return (
    <Popconfirm
      title={t("archive.removeConfirm", { count })}
      overlayStyle={{ maxWidth: 380 }}
      onConfirm={() =>
        purge.mutate(componentAppid, {
          onSuccess: (r) => void message.success(t("archive.removed", { count: r.appids.length })),
          onError: (e) => void message.error(errorText(e)),
        })
      }
    >
      <Button
        danger
        size="small"
        loading={purge.isPending}
        data-testid={`purge-archive-${componentAppid}`}
      >
        {sandbox ? t("archive.removeSandbox") : t("archive.removeArchive")}
      </Button>
    </Popconfirm>
  );
}

/**
 * 授权账号's second table: accounts authorized under another platform (the sandbox's after a
 * switch), apart from the usable ones, never shown as healthy.
 */
export function ArchivedAccounts({ accounts }: { accounts: AccountView[] }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const remove = useRemoveAccount();
  if (accounts.length === 0) return null;
  const columns = [
    {
      title: t("shell.accounts.col.account"),
      key: "account",
      render: (_: unknown, a: AccountView) => (
        <AccountIdentity account={a} testid="archived-account-name" />
      ),
    },
    {
      title: t("shell.accounts.col.type"),
      key: "type",
      width: 110,
      render: (_: unknown, a: AccountView) => typeText(t, a),
    },
    {
      title: t("shell.accounts.col.status"),
      key: "status",
      width: 150,
      render: () => (
        <Tag color="default" data-testid="account-status">
          {t("archive.archivedStatus")}
        </Tag>
      ),
    },
    {
      title: t("shell.accounts.col.actions"),
      key: "actions",
      width: 100,
      render: (_: unknown, a: AccountView) => (
        <Popconfirm
          title={t("shell.accounts.removeConfirm", { name: a.nickname })}
          onConfirm={() =>
            remove.mutate(a.appid, { onError: (e) => void message.error(errorText(e)) })
          }
          overlayStyle={{ maxWidth: 360 }}
        >
          <Button type="link" size="small" danger>
            {t("shell.accounts.remove")}
          </Button>
        </Popconfirm>
      ),
    },
  ];
  return (
    <Card title={t("archive.accountsTitle")} data-testid="archived-accounts">
      <Flex vertical gap={12}>
        <Alert type="info" showIcon title={t("archive.accountsDesc")} />
        {byPlatform(accounts).map(([platform, list]) => (
          <Flex vertical gap={8} key={platform}>
            <Flex justify="flex-end">
              <PurgeArchiveButton
                componentAppid={platform}
                count={list.length}
                sandbox={list[0]?.sandbox ?? false}
              />
            </Flex>
            <Table<AccountView>
              rowKey="appid"
              dataSource={list}
              columns={columns}
              pagination={false}
              tableLayout="fixed"
              size="small"
              onRow={(a) => ({ "data-appid": a.appid }) as React.HTMLAttributes<HTMLElement>}
            />
          </Flex>
        ))}
      </Flex>
    </Card>
  );
}
