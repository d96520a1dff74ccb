import {
  Alert,
  App,
  Button,
  Descriptions,
  Divider,
  Flex,
  Modal,
  Select,
  Spin,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { CLEARS_PER_MONTH, messagingApi, useQuota } from "../../api/messaging";

const PATHS = [
  ["template", "/cgi-bin/message/template/send"],
  ["custom", "/cgi-bin/message/custom/send"],
  ["subscribe", "/cgi-bin/message/subscribe/bizsend"],
  ["userGet", "/cgi-bin/user/get"],
  ["batchget", "/cgi-bin/user/info/batchget"],
] as const;

/**
 * 额度: an API's quota of the account today (asked of WeChat each time), and resetting it — or
 * the platform's own — after a confirmation that says a reset is one of 10 a month.
 */
export function QuotaModal({
  appid,
  name,
  open,
  onClose,
  hint,
}: {
  appid: string;
  name: string;
  open: boolean;
  onClose: () => void;
  /** Why the dialog was opened (a job paused for quota). */
  hint?: string;
}) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const [path, setPath] = useState<string>(PATHS[0][1]);
  const quota = useQuota(appid, path, open);
  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));
  const confirmClear = () =>
    modal.confirm({
      title: t("messaging.quota.clearTitle", { name }),
      content: t("messaging.quota.clearBody", { n: CLEARS_PER_MONTH }),
      okText: t("messaging.quota.clearOk"),
      okButtonProps: { danger: true, id: "quota-clear-ok" },
      onOk: () =>
        messagingApi.clearQuota(appid).then((r) => {
          message.success(t("messaging.quota.cleared", { n: r.monthly_limit }));
          void quota.refetch();
        }, fail),
    });
  const confirmComponent = () =>
    modal.confirm({
      title: t("messaging.quota.clearComponentTitle"),
      content: t("messaging.quota.clearComponentBody", { n: CLEARS_PER_MONTH }),
      okText: t("messaging.quota.clearOk"),
      okButtonProps: { danger: true },
      onOk: () =>
        messagingApi
          .clearComponentQuota()
          .then((r) => message.success(t("messaging.quota.cleared", { n: r.monthly_limit })), fail),
    });
  return (
    <Modal
      open={open}
      onCancel={onClose}
      footer={null}
      title={t("messaging.quota.title", { name })}
      destroyOnHidden
    >
      <Flex vertical gap={12} data-testid="quota-modal">
        {hint && <Alert type="info" showIcon title={hint} />}
        <Select
          data-testid="quota-path"
          value={path}
          onChange={setPath}
          options={PATHS.map(([key, p]) => ({
            value: p,
            label: t(`messaging.quota.paths.${key}`),
          }))}
        />
        {quota.isFetching && <Spin />}
        {quota.error && <Alert type="error" showIcon title={(quota.error as Error).message} />}
        {quota.data && (
          <Descriptions column={3} size="small" bordered data-testid="quota-numbers">
            <Descriptions.Item label={t("messaging.quota.limit")}>
              {quota.data.quota.daily_limit}
            </Descriptions.Item>
            <Descriptions.Item label={t("messaging.quota.used")}>
              {quota.data.quota.used}
            </Descriptions.Item>
            <Descriptions.Item label={t("messaging.quota.remaining")}>
              {quota.data.quota.remaining}
            </Descriptions.Item>
          </Descriptions>
        )}
        <Typography.Text type="secondary">
          {t("messaging.quota.clearBody", { n: CLEARS_PER_MONTH })}
        </Typography.Text>
        <Button danger data-testid="quota-clear" onClick={confirmClear}>
          {t("messaging.quota.clear")}
        </Button>
        <Divider style={{ margin: "4px 0" }} />
        <Flex justify="space-between" align="center">
          <Typography.Text type="secondary">{t("messaging.quota.component")}</Typography.Text>
          <Button size="small" onClick={confirmComponent}>
            {t("messaging.quota.clearComponent")}
          </Button>
        </Flex>
      </Flex>
    </Modal>
  );
}
