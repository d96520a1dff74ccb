import { TeamOutlined } from "@ant-design/icons";
import { Tag, Tooltip } from "antd";
import { useTranslation } from "react-i18next";
import { useTeamMembership } from "../api/team";
import { roleText } from "../pages/team/labels";

/**
 * 团队 · 成员 · 角色 in the header while this session works on a team's shared workspace: staff
 * must see whose workspace a send goes out from. Nothing in the local workspace.
 */
export function TeamBadge() {
  const { t } = useTranslation();
  const { data } = useTeamMembership();
  if (!data) return null;
  return (
    <Tooltip title={t("team.badgeTip", { server: data.server_url })}>
      <Tag color="blue" icon={<TeamOutlined />} data-testid="team-badge">
        {t("team.badge", { member: data.member, role: roleText(t, data.role) })}
      </Tag>
    </Tooltip>
  );
}
