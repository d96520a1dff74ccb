import { Alert, Descriptions, Flex, Modal, Spin, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { useSendQuota } from "../../api/compose";
import type { SendEstimate } from "../../api/send";
import { formatDuration } from "../jobs/labels";
import { formatCount, type QuotaVerdict, quotaVerdict } from "./quota";

interface Props {
  appid: string;
  templateTitle: string | undefined;
  /** The estimate of the job to confirm; `null` keeps the dialog closed. */
  estimate: SendEstimate | null;
  sending: boolean;
  onOk: () => void;
  onCancel: () => void;
}

/**
 * 确认发送: the recipients, the rate and duration, and today's template quota asked of WeChat
 * while the dialog is open. A quota short of the recipients is a warning (the engine pauses at
 * 45009 and resumes after the daily reset); a failed quota query never blocks sending.
 */
export function ConfirmSend({ appid, templateTitle, estimate, sending, onOk, onCancel }: Props) {
  const { t } = useTranslation();
  const open = estimate !== null;
  const quota = useSendQuota(appid, open);
  const verdict = quotaVerdict(
    estimate?.recipients ?? 0,
    quota.data,
    quota.error,
    t("send.compose.hintSep"),
  );
  return (
    <Modal
      open={open}
      title={t("send.compose.confirmTitle")}
      okText={t("send.compose.confirmOk")}
      onOk={onOk}
      confirmLoading={sending}
      onCancel={onCancel}
      okButtonProps={{ id: "confirm-send" }}
      width={560}
    >
      {estimate && (
        <Flex vertical gap={12} data-testid="confirm-dialog">
          <Descriptions column={1} bordered size="small">
            <Descriptions.Item label={t("send.compose.pickAccount")}>{appid}</Descriptions.Item>
            <Descriptions.Item label={t("send.compose.template")}>
              {templateTitle}
            </Descriptions.Item>
            <Descriptions.Item label={t("send.compose.confirmCount")}>
              {/* Inline, so the cell reads as the number alone when nothing is left out. */}
              <span data-testid="confirm-count">{formatCount(estimate.recipients)}</span>
              {estimate.left_out > 0 && (
                <Typography.Text
                  type="warning"
                  data-testid="confirm-left-out"
                  style={{ marginInlineStart: 8 }}
                >
                  {t("send.compose.confirmLeftOut", { n: formatCount(estimate.left_out) })}
                </Typography.Text>
              )}
            </Descriptions.Item>
            <Descriptions.Item label={t("send.compose.confirmRate")}>
              {t("send.jobs.rate", { rate: estimate.rate_per_sec })}
            </Descriptions.Item>
            <Descriptions.Item label={t("send.compose.confirmEta")}>
              {formatDuration(t, estimate.eta_secs)}
            </Descriptions.Item>
            <Descriptions.Item label={t("send.compose.confirmQuota")}>
              <QuotaValue verdict={verdict} />
            </Descriptions.Item>
          </Descriptions>
          {verdict.kind === "short" && (
            <Alert
              type="warning"
              showIcon
              data-testid="quota-warning"
              title={t("send.compose.quotaShortTitle", {
                n: formatCount(estimate.recipients),
                remaining: formatCount(verdict.remaining),
              })}
              description={t("send.compose.quotaShortDesc", {
                remaining: formatCount(verdict.remaining),
                over: formatCount(verdict.over),
              })}
            />
          )}
        </Flex>
      )}
    </Modal>
  );
}

function QuotaValue({ verdict }: { verdict: QuotaVerdict }) {
  const { t } = useTranslation();
  switch (verdict.kind) {
    case "loading":
      return (
        <Flex gap={8} align="center" data-testid="quota-loading">
          <Spin size="small" />
          <Typography.Text type="secondary">{t("send.compose.quotaLoading")}</Typography.Text>
        </Flex>
      );
    case "failed":
      return (
        <Flex vertical data-testid="quota-failed">
          <Typography.Text type="danger">
            {t("send.compose.quotaFailed", { reason: verdict.reason })}
          </Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("send.compose.quotaFailedNote")}
          </Typography.Text>
        </Flex>
      );
    default:
      return (
        <Typography.Text
          data-testid="quota-value"
          type={verdict.kind === "short" ? "warning" : undefined}
          strong
        >
          {t("send.compose.quotaValue", {
            remaining: formatCount(verdict.remaining),
            limit: formatCount(verdict.limit),
          })}
        </Typography.Text>
      );
  }
}
