import { LogoutOutlined, TeamOutlined } from "@ant-design/icons";
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Descriptions,
  Flex,
  Form,
  Input,
  Modal,
  Skeleton,
  Tag,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  knownRole,
  type Membership,
  restartForTeam,
  type TeamStatus,
  useTeamJoin,
  useTeamLeave,
  useTeamStatus,
} from "../../api/team";
import { errorText, msg } from "../accounts/labels";
import { roleText } from "./labels";
import { TeamAudit } from "./TeamAudit";

/** After a join or a leave: the workspace switches at the next start, so the app restarts. */
function RestartModal({ title, text }: { title: string; text: string }) {
  const { t } = useTranslation();
  const { message } = AntApp.useApp();
  const [restarting, setRestarting] = useState(false);
  const restart = async () => {
    setRestarting(true);
    try {
      await restartForTeam();
    } catch {
      setRestarting(false);
      void message.error(t("team.restartFailed"));
    }
  };
  // Not dismissable: until the restart, this session still works on the other workspace.
  return (
    <Modal
      open
      title={title}
      closable={false}
      mask={{ closable: false }}
      keyboard={false}
      footer={
        <Button type="primary" loading={restarting} onClick={restart} data-testid="team-restart">
          {t("team.restartNow")}
        </Button>
      }
    >
      <Typography.Paragraph data-testid="team-restart-text">{text}</Typography.Paragraph>
    </Modal>
  );
}

interface JoinForm {
  server_url: string;
  member_key: string;
}

/** Not joined: server URL and member key (write-only), then 加入团队. */
function JoinTeam({ onJoined }: { onJoined: (m: Membership) => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<JoinForm>();
  const join = useTeamJoin();
  return (
    <Flex vertical gap={16}>
      <Typography.Paragraph type="secondary" style={{ margin: 0, maxWidth: 720 }}>
        {t("team.notJoinedDesc")}
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        style={{ maxWidth: 640 }}
        onFinish={(v) =>
          join.mutate(
            { serverUrl: v.server_url, memberKey: v.member_key },
            {
              onSuccess: (m) => {
                // The key leaves the form as soon as the shell has it.
                form.resetFields(["member_key"]);
                onJoined(m);
              },
            },
          )
        }
      >
        <Form.Item
          name="server_url"
          label={t("team.serverUrl")}
          rules={[
            { required: true, whitespace: true, message: t("team.serverUrlRequired") },
            { pattern: /^\s*https?:\/\/\S+\s*$/, message: t("team.serverUrlInvalid") },
          ]}
        >
          <Input placeholder={t("team.serverUrlPlaceholder")} data-testid="team-server-url" />
        </Form.Item>
        <Form.Item
          name="member_key"
          label={t("team.memberKey")}
          extra={t("team.memberKeyHelp")}
          rules={[{ required: true, whitespace: true, message: t("team.memberKeyRequired") }]}
        >
          <Input.Password
            autoComplete="new-password"
            visibilityToggle={false}
            data-testid="team-member-key"
          />
        </Form.Item>
        {join.error && (
          <Alert
            style={{ marginBottom: 16 }}
            type="error"
            showIcon
            title={t("team.joinFailed")}
            description={errorText(join.error)}
            data-testid="team-join-error"
          />
        )}
        <Button
          type="primary"
          htmlType="submit"
          icon={<TeamOutlined />}
          loading={join.isPending}
          data-testid="team-join"
        >
          {t("team.join")}
        </Button>
      </Form>
    </Flex>
  );
}

/** Joined: who this desk is in which team, whether the server accepts the key, 离开团队. */
function Joined({ status, onLeft }: { status: TeamStatus; onLeft: () => void }) {
  const { t, i18n } = useTranslation();
  const { modal } = AntApp.useApp();
  const leave = useTeamLeave();
  const m = status.membership;
  const role = status.role_now ?? m.role;
  const known = knownRole(role);
  const confirmLeave = () =>
    modal.confirm({
      title: t("team.leaveTitle"),
      content: t("team.leaveDesc"),
      okText: t("team.leave"),
      okButtonProps: { danger: true },
      cancelText: t("team.leaveCancel"),
      // A failure closes the dialog and shows in the card.
      onOk: () => leave.mutateAsync().then(onLeft, () => undefined),
    });
  return (
    <Flex vertical gap={16}>
      <Descriptions column={1} bordered size="small" data-testid="team-membership">
        <Descriptions.Item label={t("team.server")}>
          <Typography.Text code style={{ wordBreak: "break-all" }}>
            {m.server_url}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t("team.member")}>
          <span data-testid="team-member">{m.member}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("team.role")}>
          <Flex vertical gap={2}>
            <span data-testid="team-role">
              {roleText(t, role)}
              {role !== m.role && (
                <Typography.Text type="secondary">
                  {" "}
                  ({t("team.roleChanged", { role: roleText(t, m.role) })})
                </Typography.Text>
              )}
            </span>
            {known && (
              <Typography.Text type="secondary">{t(`team.roleHelp.${known}`)}</Typography.Text>
            )}
          </Flex>
        </Descriptions.Item>
        <Descriptions.Item label={t("team.platform")}>{m.component_appid}</Descriptions.Item>
        <Descriptions.Item label={t("team.joinedAt")}>
          {new Date(m.joined_at * 1000).toLocaleString(i18n.language)}
        </Descriptions.Item>
        <Descriptions.Item label={t("team.status")}>
          <Flex vertical gap={4} align="flex-start">
            <Tag
              color={status.accepted ? "success" : "error"}
              data-testid="team-status"
              data-accepted={status.accepted ? "1" : "0"}
            >
              {status.accepted ? t("team.statusOk") : t("team.statusRefused")}
            </Tag>
            {status.problem && (
              <Typography.Text type="danger" data-testid="team-problem">
                {msg(status.problem)}
              </Typography.Text>
            )}
          </Flex>
        </Descriptions.Item>
      </Descriptions>
      {leave.error && (
        <Alert
          type="error"
          showIcon
          title={t("team.leaveFailed")}
          description={errorText(leave.error)}
          data-testid="team-leave-error"
        />
      )}
      <div>
        <Button danger icon={<LogoutOutlined />} onClick={confirmLeave} data-testid="team-leave">
          {t("team.leave")}
        </Button>
      </div>
      {status.accepted && known === "admin" && <TeamAudit />}
    </Flex>
  );
}

/** 设置 → 团队: join a team server with a member key, or see the membership and leave. */
export function TeamCard() {
  const { t } = useTranslation();
  const status = useTeamStatus();
  // Held here: the status refetched after a join or a leave swaps the card's body underneath.
  const [restart, setRestart] = useState<{ title: string; text: string } | null>(null);
  return (
    <Card title={t("team.cardTitle")} data-testid="team-card">
      {status.isPending && (
        <Flex vertical gap={8}>
          <Typography.Text type="secondary">{t("team.statusLoading")}</Typography.Text>
          <Skeleton active paragraph={{ rows: 3 }} />
        </Flex>
      )}
      {status.error && (
        <Alert
          type="error"
          showIcon
          title={t("team.statusFailed")}
          description={errorText(status.error)}
        />
      )}
      {status.isSuccess &&
        (status.data ? (
          <Joined
            status={status.data}
            onLeft={() => setRestart({ title: t("team.leftTitle"), text: t("team.leftDesc") })}
          />
        ) : (
          <JoinTeam
            onJoined={(m) =>
              setRestart({
                title: t("team.joinedTitle"),
                text: t("team.joinedDesc", {
                  member: m.member,
                  role: roleText(t, m.role),
                  server: m.server_url,
                }),
              })
            }
          />
        ))}
      {restart && <RestartModal title={restart.title} text={restart.text} />}
    </Card>
  );
}
