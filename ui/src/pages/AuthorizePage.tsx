import { DesktopOutlined, MobileOutlined } from "@ant-design/icons";
import {
  Alert,
  Button,
  Card,
  Col,
  Flex,
  Radio,
  Result,
  Row,
  Spin,
  Statistic,
  Typography,
} from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import {
  type AccountView,
  type AuthScopeChoice,
  useAccounts,
  useAccountsLive,
  useAuthorizeInWindow,
  useBeginAuthorization,
} from "../api/shell";
import { AccountCard } from "./accounts/AccountCard";
import { errorText } from "./accounts/labels";
import { PageShell } from "./PageShell";

/** Re-renders every second while the link is valid; `true` once it expired. */
function useExpired(expiresAt: number | undefined) {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => clearInterval(id);
  }, []);
  return expiresAt !== undefined && now >= expiresAt;
}

/**
 * Whether `url` points at this computer (the sandbox's relay on loopback): a phone that scans
 * it reaches itself, not the relay, so the wizard says so instead of letting the QR code fail.
 */
export function onlyThisComputer(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** 授权账号 wizard: choose the type, then 在本机扫码 (embedded window) or 发送到手机 (QR). */
export function AuthorizePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const bizAppid = params.get("appid");
  const [scope, setScope] = useState<AuthScopeChoice>("both");
  const [done, setDone] = useState<AccountView | null>(null);
  const [closed, setClosed] = useState(false);
  const begin = useBeginAuthorization();
  const inWindow = useAuthorizeInWindow();
  const accounts = useAccounts();
  const attempt = begin.data;
  const expired = useExpired(attempt?.expires_at);

  // The push (or the redirect seen by the relay) for this attempt finishes it too: the phone
  // path has no window to watch.
  const [pushedAppid, setPushedAppid] = useState<string | null>(null);
  const onEvent = useCallback(
    (e: { reason: string; appid: string | null; pre_auth_code: string | null }) => {
      if (
        e.reason === "authorized" &&
        e.appid &&
        attempt &&
        e.pre_auth_code === attempt.pre_auth_code
      )
        setPushedAppid(e.appid);
    },
    [attempt],
  );
  useAccountsLive(onEvent);
  useEffect(() => {
    if (!done && pushedAppid) {
      const a = accounts.data?.find((x) => x.appid === pushedAppid);
      if (a) setDone(a);
    }
  }, [done, pushedAppid, accounts.data]);

  const restart = () => {
    setDone(null);
    setClosed(false);
    setPushedAppid(null);
    begin.reset();
    inWindow.reset();
  };
  const openWindow = () => {
    if (!attempt) return;
    setClosed(false);
    inWindow.mutate(attempt.launch_url, {
      onSuccess: (a) => (a ? setDone(a) : setClosed(true)),
    });
  };

  if (done) {
    return (
      <PageShell page="accounts">
        <Result
          status="success"
          title={t("shell.wizard.success")}
          data-testid="authorize-success"
          extra={[
            <Button key="list" type="primary" onClick={() => navigate("/accounts")}>
              {t("shell.wizard.toList")}
            </Button>,
            <Button key="again" onClick={restart}>
              {t("shell.wizard.again")}
            </Button>,
          ]}
        />
        <AccountCard account={done} />
      </PageShell>
    );
  }

  return (
    <PageShell page="accounts">
      <Card data-testid="authorize-wizard">
        <Flex vertical gap={16}>
          {bizAppid && (
            <Alert type="info" showIcon title={t("shell.wizard.reauthFor", { appid: bizAppid })} />
          )}
          <Typography.Text strong>{t("shell.wizard.scope")}</Typography.Text>
          <Radio.Group
            value={scope}
            onChange={(e) => setScope(e.target.value)}
            disabled={!!attempt}
            optionType="button"
            buttonStyle="solid"
            options={[
              { value: "oa", label: t("shell.wizard.scopeOa") },
              { value: "mini", label: t("shell.wizard.scopeMini") },
              { value: "both", label: t("shell.wizard.scopeBoth") },
            ]}
          />
          {!attempt && (
            <Button
              type="primary"
              data-testid="begin-authorization"
              loading={begin.isPending}
              onClick={() => begin.mutate({ scope, bizAppid })}
              style={{ alignSelf: "flex-start" }}
            >
              {t("shell.wizard.start")}
            </Button>
          )}
          {begin.error && <Alert type="error" showIcon title={errorText(begin.error)} />}
        </Flex>
      </Card>
      {attempt && !expired && (
        <>
          <Card size="small">
            <Flex gap={24} align="center">
              <Statistic.Timer
                type="countdown"
                title={t("shell.wizard.expiresIn")}
                value={attempt.expires_at * 1000}
                format="mm:ss"
              />
              {inWindow.isPending && (
                <Flex gap={8} align="center">
                  <Spin size="small" />
                  <Typography.Text>{t("shell.wizard.waiting")}</Typography.Text>
                </Flex>
              )}
              <Button onClick={restart}>{t("shell.wizard.renew")}</Button>
            </Flex>
          </Card>
          <Row gutter={16}>
            <Col span={12}>
              <Card
                title={
                  <>
                    <DesktopOutlined /> {t("shell.wizard.local")}
                  </>
                }
                style={{ height: "100%" }}
              >
                <Flex vertical gap={12}>
                  <Typography.Text type="secondary">{t("shell.wizard.localDesc")}</Typography.Text>
                  <Button
                    type="primary"
                    data-testid="authorize-local"
                    loading={inWindow.isPending}
                    onClick={openWindow}
                    style={{ alignSelf: "flex-start" }}
                  >
                    {t("shell.wizard.local")}
                  </Button>
                  {closed && (
                    <Alert type="warning" showIcon title={t("shell.wizard.windowClosed")} />
                  )}
                  {inWindow.error && (
                    <Alert type="error" showIcon title={errorText(inWindow.error)} />
                  )}
                </Flex>
              </Card>
            </Col>
            <Col span={12}>
              <Card
                title={
                  <>
                    <MobileOutlined /> {t("shell.wizard.mobile")}
                  </>
                }
                style={{ height: "100%" }}
              >
                <Flex vertical gap={12} align="center">
                  <Typography.Text type="secondary">{t("shell.wizard.mobileDesc")}</Typography.Text>
                  <img
                    data-testid="mobile-qr"
                    alt={attempt.mobile_url}
                    width={200}
                    height={200}
                    src={`data:image/svg+xml;utf8,${encodeURIComponent(attempt.mobile_qr_svg)}`}
                  />
                  {onlyThisComputer(attempt.mobile_url) && (
                    <Alert
                      data-testid="mobile-qr-loopback"
                      type="info"
                      showIcon
                      title={t("shell.wizard.mobileLoopback")}
                    />
                  )}
                  <Typography.Text
                    copyable={{ text: attempt.mobile_url }}
                    type="secondary"
                    ellipsis
                    style={{ maxWidth: 360 }}
                  >
                    {attempt.mobile_url}
                  </Typography.Text>
                </Flex>
              </Card>
            </Col>
          </Row>
        </>
      )}
      {attempt && expired && (
        <Result
          status="warning"
          data-testid="authorize-expired"
          title={t("shell.wizard.expired")}
          extra={
            <Button
              type="primary"
              onClick={() => {
                restart();
                begin.mutate({ scope, bizAppid });
              }}
            >
              {t("shell.wizard.renew")}
            </Button>
          }
        />
      )}
    </PageShell>
  );
}
