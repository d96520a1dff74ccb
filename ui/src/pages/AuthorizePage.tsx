import { SafetyCertificateOutlined } from "@ant-design/icons";
import { Button, Card, Result, theme } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { PageShell } from "./PageShell";

/** Where 「授权新账号」 leads; the authorization flow (webview + relay) will live here. */
export function AuthorizePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { token } = theme.useToken();
  return (
    <PageShell page="accounts">
      <Card>
        <Result
          data-testid="authorize-pending"
          icon={<SafetyCertificateOutlined style={{ color: token.colorPrimary }} />}
          title={t("pages.authorize.title")}
          subTitle={t("pages.authorize.desc")}
          extra={<Button onClick={() => navigate("/accounts")}>{t("pages.authorize.back")}</Button>}
        />
      </Card>
    </PageShell>
  );
}
