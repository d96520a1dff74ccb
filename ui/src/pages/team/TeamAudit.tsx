import { Alert, Button, Card, Empty, Flex, Table, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { type AuditEntry, useTeamAudit } from "../../api/team";
import { errorText, msg } from "../accounts/labels";

/** 操作记录 of the team (admins): who authorized, sent, made lists, synced, added members. */
export function TeamAudit() {
  const { t, i18n } = useTranslation();
  const audit = useTeamAudit(true);
  const rows: AuditEntry[] = audit.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <Card
      type="inner"
      size="small"
      title={t("team.auditTitle")}
      data-testid="team-audit"
      extra={
        <Button size="small" onClick={() => void audit.refetch()} loading={audit.isRefetching}>
          {t("team.auditRefresh")}
        </Button>
      }
    >
      {audit.error ? (
        <Alert
          type="error"
          showIcon
          title={t("team.auditFailed")}
          description={errorText(audit.error)}
          data-testid="team-audit-error"
        />
      ) : (
        <Flex vertical gap={8}>
          <Table<AuditEntry>
            size="small"
            rowKey="id"
            loading={audit.isPending}
            dataSource={rows}
            pagination={false}
            locale={{
              emptyText: (
                <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("team.auditEmpty")} />
              ),
            }}
            columns={[
              {
                title: t("team.auditAt"),
                dataIndex: "at",
                width: 180,
                render: (at: string) => new Date(at).toLocaleString(i18n.language),
              },
              {
                title: t("team.auditMember"),
                dataIndex: "member",
                width: 140,
                render: (m: string | null) =>
                  m ?? <Typography.Text type="secondary">{t("team.auditServer")}</Typography.Text>,
              },
              {
                title: t("team.auditWhat"),
                key: "what",
                render: (_: unknown, e: AuditEntry) => (
                  <span data-testid="team-audit-what">{msg(e.what)}</span>
                ),
              },
            ]}
          />
          {audit.hasNextPage && (
            <div>
              <Button
                onClick={() => void audit.fetchNextPage()}
                loading={audit.isFetchingNextPage}
                data-testid="team-audit-more"
              >
                {t("team.auditMore")}
              </Button>
            </div>
          )}
        </Flex>
      )}
    </Card>
  );
}
