import { CloudServerOutlined, ExperimentOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Flex, Result, Row, Steps, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { type SandboxStep, useStartSandbox } from "../api/shell";
import { errorText } from "../pages/accounts/labels";
import { RestoreButton } from "../pages/backup/RestoreBackup";

const ORDER: SandboxStep[] = ["starting", "waiting_ticket", "ready"];

/**
 * First start: nothing configured. 体验沙箱 (one click), 连接正式平台 (设置), or 从备份恢复 (a
 * staff member moving to a new computer).
 */
export function Welcome() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [step, setStep] = useState<SandboxStep | null>(null);
  const start = useStartSandbox(setStep);
  const current = step ? ORDER.indexOf(step) : 0;

  return (
    <Flex vertical gap={16} data-testid="welcome" style={{ maxWidth: 960 }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t("shell.welcome.title")}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("shell.welcome.desc")}
      </Typography.Paragraph>
      <Row gutter={16}>
        <Col span={12}>
          <Card style={{ height: "100%" }}>
            <Flex vertical gap={12}>
              <Typography.Title level={5} style={{ margin: 0 }}>
                <ExperimentOutlined /> {t("shell.welcome.sandbox")}
              </Typography.Title>
              <Typography.Text type="secondary">{t("shell.welcome.sandboxDesc")}</Typography.Text>
              <Button
                type="primary"
                size="large"
                data-testid="start-sandbox"
                loading={start.isPending}
                disabled={start.isSuccess}
                onClick={() => start.mutate()}
              >
                {t("shell.welcome.sandbox")}
              </Button>
            </Flex>
          </Card>
        </Col>
        <Col span={12}>
          <Card style={{ height: "100%" }}>
            <Flex vertical gap={12}>
              <Typography.Title level={5} style={{ margin: 0 }}>
                <CloudServerOutlined /> {t("shell.welcome.production")}
              </Typography.Title>
              <Typography.Text type="secondary">
                {t("shell.welcome.productionDesc")}
              </Typography.Text>
              <Button
                size="large"
                data-testid="go-settings"
                disabled={start.isPending}
                onClick={() => navigate("/settings")}
              >
                {t("shell.welcome.production")}
              </Button>
            </Flex>
          </Card>
        </Col>
      </Row>
      {!start.isPending && !start.isSuccess && (
        <Card size="small" data-testid="welcome-restore">
          <Flex gap={16} align="center" justify="space-between" wrap>
            <Typography.Text type="secondary">{t("backup.welcomeDesc")}</Typography.Text>
            <RestoreButton />
          </Flex>
        </Card>
      )}
      {(start.isPending || start.isSuccess) && (
        <Card data-testid="sandbox-progress">
          <Steps
            current={start.isSuccess ? ORDER.length : current}
            items={ORDER.map((s) => ({ title: t(`shell.welcome.steps.${s}`) }))}
          />
        </Card>
      )}
      {start.isSuccess && (
        <Result
          data-testid="sandbox-ready"
          status="success"
          title={t("shell.welcome.ready")}
          extra={
            <Button type="primary" onClick={() => navigate("/accounts/authorize")}>
              {t("shell.welcome.goAuthorize")}
            </Button>
          }
        />
      )}
      {start.error && (
        <Alert
          type="error"
          showIcon
          title={t("shell.welcome.failed")}
          description={errorText(start.error)}
        />
      )}
    </Flex>
  );
}
