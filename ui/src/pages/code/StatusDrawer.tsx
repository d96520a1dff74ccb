// 查看状态: where one mini program's code stands, as WeChat and the relay's pushes tell it, and
// its 域名 (read and changed here: they belong with the code they serve).
import { Descriptions, Divider, Drawer, Skeleton, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { type Mini, useCodeStatus } from "../../api/code";
import { DomainsSection } from "./DomainsSection";
import { AUDIT_STATE_COLOR, CodeErrorAlert, fmtTime, plainReason } from "./labels";

export function StatusDrawer({ mini, onClose }: { mini: Mini | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Drawer
      open={mini !== null}
      onClose={onClose}
      size={560}
      title={t("code.status.title", { name: mini?.nickname || mini?.appid })}
      destroyOnHidden
    >
      {mini && (
        <>
          <StatusBody appid={mini.appid} />
          <Divider titlePlacement="start">{t("code.domains.title")}</Divider>
          <DomainsSection appid={mini.appid} />
        </>
      )}
    </Drawer>
  );
}

function StatusBody({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const s = useCodeStatus(appid);
  if (s.isPending) return <Skeleton active />;
  if (s.error) return <CodeErrorAlert error={s.error} />;
  const { trial, online, latest_audit: a, last_push: push, visit_open } = s.data;
  const line = (v: typeof trial) =>
    v ? `${v.version} · ${v.desc || "—"} · ${fmtTime(v.time)}` : t("code.minis.noVersion");
  return (
    <Descriptions column={1} size="small" bordered data-testid="status-drawer">
      <Descriptions.Item label="AppID">
        <Typography.Text copyable>{appid}</Typography.Text>
      </Descriptions.Item>
      <Descriptions.Item label={t("code.minis.colTrial")}>{line(trial)}</Descriptions.Item>
      <Descriptions.Item label={t("code.minis.colOnline")}>{line(online)}</Descriptions.Item>
      <Descriptions.Item label={t("code.status.visit")}>
        {visit_open === null
          ? "—"
          : visit_open
            ? t("code.status.visitOpen")
            : t("code.status.visitClosed")}
      </Descriptions.Item>
      <Descriptions.Item label={t("code.minis.colAudit")}>
        {a ? (
          <>
            <Tag color={AUDIT_STATE_COLOR[a.state]}>{t(`code.auditState.${a.state}`)}</Tag>
            {a.user_version} · {t("code.status.auditid", { id: a.auditid })} ·{" "}
            {fmtTime(a.submitted_at)}
          </>
        ) : (
          t("code.minis.noAudit")
        )}
      </Descriptions.Item>
      {a?.reason && (
        <Descriptions.Item label={t("code.status.reason")}>
          <span style={{ whiteSpace: "pre-line" }}>{plainReason(a.reason)}</span>
        </Descriptions.Item>
      )}
      {a?.screenshot && (
        <Descriptions.Item label={t("code.status.screenshot")}>
          <Typography.Text copyable style={{ fontSize: 12 }}>
            {a.screenshot}
          </Typography.Text>
        </Descriptions.Item>
      )}
      <Descriptions.Item label={t("code.status.push")}>
        {push
          ? `${t(`code.pushEvent.${push.event}`)} · ${fmtTime(push.at)}`
          : t("code.status.noPush")}
      </Descriptions.Item>
    </Descriptions>
  );
}
