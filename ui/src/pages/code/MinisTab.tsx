// 小程序: every authorized mini program with its 体验版, latest audit and 线上版, the actions on
// one of them, the audit quota, the version spread, and the selection a rollout starts from.
import { DeploymentUnitOutlined, DownOutlined, ReloadOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import {
  App,
  Button,
  Dropdown,
  Flex,
  Space,
  Table,
  type TableColumnsType,
  Tag,
  Tooltip,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  codeKeys,
  type Mini,
  useCodeStatus,
  useRelease,
  useSpeedUp,
  useUndoAudit,
  useVersions,
} from "../../api/code";
import { SandboxMark } from "../accounts/PlatformTag";
import { CommitModal } from "./CommitModal";
import {
  AUDIT_STATE_COLOR,
  errorLine,
  fmtTime,
  MiniName,
  plainReason,
  useErrorDialog,
} from "./labels";
import { AuditModal, QrModal, RollbackModal } from "./MiniModals";
import { StatusDrawer } from "./StatusDrawer";
import { VersionSummaryCard } from "./VersionSummaryCard";

type Dialog = "commit" | "qr" | "audit" | "rollback" | "status";

function VersionCell({ appid, which }: { appid: string; which: "trial" | "online" }) {
  const { t } = useTranslation();
  const s = useCodeStatus(appid);
  if (s.isPending) return <Typography.Text type="secondary">…</Typography.Text>;
  if (s.error)
    return (
      <Tooltip title={errorLine(s.error)}>
        <Typography.Text type="danger">{t("code.minis.unreadable")}</Typography.Text>
      </Tooltip>
    );
  const v = s.data[which];
  if (!v) return <Typography.Text type="secondary">{t("code.minis.noVersion")}</Typography.Text>;
  return (
    <Flex vertical data-testid={`${which}-version`}>
      <Typography.Text strong>{v.version}</Typography.Text>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {fmtTime(v.time)}
      </Typography.Text>
    </Flex>
  );
}

function AuditCell({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const s = useCodeStatus(appid);
  const a = s.data?.latest_audit;
  if (!s.data) return null;
  if (!a) return <Typography.Text type="secondary">{t("code.minis.noAudit")}</Typography.Text>;
  const tag = (
    <Tag color={AUDIT_STATE_COLOR[a.state]} data-testid="audit-state" data-state={a.state}>
      {t(`code.auditState.${a.state}`)}
    </Tag>
  );
  return (
    <Flex vertical gap={2}>
      <Space size={4}>
        <Typography.Text>{a.user_version}</Typography.Text>
        {a.reason ? (
          <Tooltip title={<span style={{ whiteSpace: "pre-line" }}>{plainReason(a.reason)}</span>}>
            {tag}
          </Tooltip>
        ) : (
          tag
        )}
      </Space>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t("code.minis.submitted", { time: fmtTime(a.submitted_at) })}
      </Typography.Text>
    </Flex>
  );
}

function RowActions({ mini, open }: { mini: Mini; open: (d: Dialog, m: Mini) => void }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const s = useCodeStatus(mini.appid);
  const release = useRelease(mini.appid);
  const undo = useUndoAudit(mini.appid);
  const speed = useSpeedUp(mini.appid);
  const audit = s.data?.latest_audit;
  const auditing = audit?.state === "auditing" || audit?.state === "delayed";
  // An approved version already online has nothing left to release (WeChat answers 85052).
  const releasable = audit?.state === "approved" && s.data?.online?.version !== audit.user_version;
  const name = mini.nickname || mini.appid;
  const fail = useErrorDialog();

  const confirm = (
    key: "release" | "undo" | "speedUp",
    run: () => Promise<unknown>,
    danger = false,
  ) =>
    modal.confirm({
      title: t(`code.${key}.title`, { name }),
      content: t(`code.${key}.confirm`, { version: audit?.user_version ?? "" }),
      okText: t(`code.${key}.ok`),
      cancelText: t("code.cancel"),
      okButtonProps: { danger, id: `${key}-confirm` },
      onOk: () => run().then(() => message.success(t(`code.${key}.done`, { name })), fail),
    });

  const items = [
    { key: "qr", label: t("code.actions.qr") },
    { key: "status", label: t("code.actions.status") },
    { key: "refresh", label: t("code.actions.refresh") },
    { type: "divider" as const },
    { key: "undo", label: t("code.actions.undo"), disabled: !auditing },
    { key: "speedUp", label: t("code.actions.speedUp"), disabled: audit?.state !== "auditing" },
    { key: "rollback", label: t("code.actions.rollback"), danger: true },
  ];
  const onMenu = ({ key }: { key: string }) => {
    if (key === "qr" || key === "status" || key === "rollback") open(key, mini);
    else if (key === "refresh")
      void qc.invalidateQueries({ queryKey: codeKeys.status(mini.appid) });
    else if (key === "undo") confirm("undo", () => undo.mutateAsync(undefined), true);
    else if (key === "speedUp") confirm("speedUp", () => speed.mutateAsync(audit?.auditid ?? null));
  };
  return (
    <Space size={4} wrap>
      <Button size="small" onClick={() => open("commit", mini)} data-testid="action-commit">
        {t("code.actions.commit")}
      </Button>
      <Button size="small" onClick={() => open("audit", mini)} data-testid="action-audit">
        {t("code.actions.audit")}
      </Button>
      <Button
        size="small"
        type="primary"
        disabled={!releasable}
        data-testid="action-release"
        onClick={() => confirm("release", () => release.mutateAsync(undefined))}
      >
        {t("code.actions.release")}
      </Button>
      <Dropdown menu={{ items, onClick: onMenu }} trigger={["click"]}>
        <Button size="small" data-testid="action-more">
          {t("code.actions.more")} <DownOutlined />
        </Button>
      </Dropdown>
    </Space>
  );
}

interface Props {
  minis: Mini[];
  names: ReadonlyMap<string, string>;
  onRollout: (appids: string[]) => void;
}

export function MinisTab({ minis, names, onRollout }: Props) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [selected, setSelected] = useState<string[]>([]);
  const [dialog, setDialog] = useState<{ kind: Dialog; mini: Mini } | null>(null);
  const appids = minis.map((m) => m.appid);
  const versions = useVersions(appids);
  const open = (kind: Dialog, mini: Mini) => setDialog({ kind, mini });
  const close = () => setDialog(null);
  const of = (kind: Dialog) => (dialog?.kind === kind ? dialog.mini : null);

  const columns: TableColumnsType<Mini> = [
    {
      title: t("code.minis.colName"),
      key: "name",
      width: 180,
      render: (_, m) => (
        <Flex gap={6} align="center">
          <MiniName appid={m.appid} name={m.nickname || m.appid} />
          <SandboxMark appid={m.appid} />
        </Flex>
      ),
    },
    {
      title: t("code.minis.colTrial"),
      key: "trial",
      width: 120,
      render: (_, m) => <VersionCell appid={m.appid} which="trial" />,
    },
    {
      title: t("code.minis.colAudit"),
      key: "audit",
      width: 190,
      render: (_, m) => <AuditCell appid={m.appid} />,
    },
    {
      title: t("code.minis.colOnline"),
      key: "online",
      width: 120,
      render: (_, m) => <VersionCell appid={m.appid} which="online" />,
    },
    {
      title: t("code.minis.colActions"),
      key: "actions",
      render: (_, m) => <RowActions mini={m} open={open} />,
    },
  ];

  return (
    <Flex vertical gap={16}>
      <Flex gap={8} align="center" wrap>
        <Button
          type="primary"
          icon={<DeploymentUnitOutlined />}
          data-testid="bulk-rollout"
          onClick={() => onRollout(selected.length > 0 ? selected : appids)}
        >
          {selected.length > 0
            ? t("code.minis.rolloutSelected", { n: selected.length })
            : t("code.minis.rolloutAll")}
        </Button>
        <Typography.Text type="secondary">{t("code.minis.selectHint")}</Typography.Text>
        <Button
          style={{ marginLeft: "auto" }}
          icon={<ReloadOutlined />}
          onClick={() => void qc.invalidateQueries({ queryKey: codeKeys.all })}
        >
          {t("code.refresh")}
        </Button>
      </Flex>
      <Table<Mini>
        data-testid="minis-table"
        rowKey="appid"
        size="middle"
        columns={columns}
        dataSource={minis}
        pagination={minis.length > 20 ? { pageSize: 20 } : false}
        rowSelection={{
          selectedRowKeys: selected,
          onChange: (keys) => setSelected(keys.map(String)),
        }}
      />
      <VersionSummaryCard
        summary={versions.data}
        error={versions.error}
        loading={versions.isFetching}
        names={names}
        onRefresh={() => void versions.refetch()}
      />
      <CommitModal mini={of("commit")} onClose={close} />
      <QrModal mini={of("qr")} onClose={close} />
      <AuditModal mini={of("audit")} onClose={close} />
      <RollbackModal mini={of("rollback")} onClose={close} />
      <StatusDrawer mini={of("status")} onClose={close} />
    </Flex>
  );
}
