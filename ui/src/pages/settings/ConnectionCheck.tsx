// 检测连接: the steps of one check and the summary drawn from those same steps, for the saved
// settings (the card) and for a form not saved yet (保存 runs the check first).
import { CheckCircleFilled, CloseCircleFilled, MinusCircleOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Flex, List, Spin, Tag, Typography } from "antd";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { type CheckStep, useConnectionCheck } from "../../api/shell";
import { checkStepText } from "../accounts/labels";

function StepIcon({ s }: { s: CheckStep }) {
  if (s.skipped) return <MinusCircleOutlined style={{ color: "#999", fontSize: 18 }} />;
  return s.ok ? (
    <CheckCircleFilled style={{ color: "#52c41a", fontSize: 18 }} />
  ) : (
    <CloseCircleFilled style={{ color: "#ff4d4f", fontSize: 18 }} />
  );
}

/** The steps that failed (a step skipped because an earlier one failed is not one of them). */
export function failedSteps(steps: CheckStep[]): CheckStep[] {
  return steps.filter((s) => !s.ok && !s.skipped);
}

/** One line that says what the steps say: all passed, or which failed. */
export function checkSummary(t: TFunction, steps: CheckStep[]): { ok: boolean; text: string } {
  const failed = failedSteps(steps);
  if (failed.length === 0) {
    const passed = steps.filter((s) => s.ok).length;
    return { ok: true, text: t("shell.check.summary.allOk", { count: passed }) };
  }
  const names = failed
    .map((s) => checkStepText(t, s).name)
    .join(t("shell.check.summary.separator"));
  return { ok: false, text: t("shell.check.summary.failed", { count: failed.length, names }) };
}

/** The steps of one check, each with its result, what it found and, when it failed, the fix. */
export function CheckSteps({ steps, dim }: { steps: CheckStep[]; dim?: boolean }) {
  const { t } = useTranslation();
  return (
    <List
      data-testid="check-steps"
      style={dim ? { opacity: 0.5 } : undefined}
      dataSource={steps}
      renderItem={(s) => {
        const text = checkStepText(t, s);
        return (
          <List.Item data-testid="check-step" data-ok={s.ok ? "1" : "0"} data-step={s.step}>
            <List.Item.Meta
              avatar={<StepIcon s={s} />}
              title={
                <Flex gap={8} align="center">
                  <span>{text.name}</span>
                  <Tag color={s.skipped ? "default" : s.ok ? "success" : "error"}>
                    {s.skipped
                      ? t("shell.settings.stepSkipped")
                      : s.ok
                        ? t("shell.settings.stepOk")
                        : t("shell.settings.stepFailed")}
                  </Tag>
                </Flex>
              }
              description={
                <Flex vertical gap={4}>
                  <span>{text.detail}</span>
                  {text.hint && <Typography.Text type="warning">{text.hint}</Typography.Text>}
                </Flex>
              }
            />
          </List.Item>
        );
      }}
    />
  );
}

/**
 * 检测连接 of the saved settings. The summary and the steps come from the same run; while a run
 * is under way (on opening 设置, after every settings change, on 检测连接) the last result stays
 * dimmed under a "checking" line instead of contradicting the new one.
 */
export function ConnectionCheck() {
  const { t, i18n } = useTranslation();
  const check = useConnectionCheck(true);
  const steps = check.data;
  const summary = steps ? checkSummary(t, steps) : null;
  return (
    <Card
      title={t("shell.settings.checkTitle")}
      extra={
        <Button
          type="primary"
          data-testid="check-connection"
          loading={check.isFetching}
          onClick={() => void check.refetch()}
        >
          {t("shell.settings.check")}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t("shell.settings.checkHint")}</Typography.Paragraph>
      {check.isFetching && (
        <Flex gap={8} align="center" style={{ marginBottom: 12 }} data-testid="check-running">
          <Spin size="small" />
          <Typography.Text type="secondary">
            {steps ? t("shell.check.summary.rerun") : t("shell.check.summary.running")}
          </Typography.Text>
        </Flex>
      )}
      {summary && !check.isFetching && (
        <Alert
          data-testid="check-summary"
          data-ok={summary.ok ? "1" : "0"}
          style={{ marginBottom: 12 }}
          type={summary.ok ? "success" : "error"}
          showIcon
          title={summary.text}
          description={t("shell.check.summary.checkedAt", {
            time: new Date(check.dataUpdatedAt).toLocaleTimeString(i18n.language),
          })}
        />
      )}
      {steps && <CheckSteps steps={steps} dim={check.isFetching} />}
    </Card>
  );
}
