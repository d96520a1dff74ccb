import { QrcodeOutlined } from "@ant-design/icons";
import { Alert, Button, Flex, Modal, QRCode, Spin, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAppInfo } from "../../api";
import { useFindYourselfQr } from "../../api/compose";
import { useOpenInteractions } from "../../api/interactions";
import { errorText } from "../accounts/labels";

/** The scan's push can carry a CreateTime a little before the desk asked for the code. */
const CLOCK_SLACK_SECS = 30;

function clock(secs: number): string {
  const d = new Date(secs * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/**
 * 扫码找到自己: a temporary QR code of the account. Scanned in WeChat, the scanner becomes the
 * user who just wrote (WeChat pushes the scan through the relay); the dialog lists whoever
 * scanned or followed since it opened, to pick with one click. The sandbox's code exists only in
 * the local simulator, which a phone cannot reach: the dialog says so.
 */
export function FindYourself({
  appid,
  onPick,
}: {
  appid: string;
  onPick: (openid: string) => void;
}) {
  const { t } = useTranslation();
  const qr = useFindYourselfQr();
  const info = useAppInfo();
  const interactions = useOpenInteractions(appid);
  const [openedAt, setOpenedAt] = useState<number | null>(null);
  const open = () => {
    setOpenedAt(Math.floor(Date.now() / 1000));
    qr.mutate(appid);
  };
  const close = () => {
    setOpenedAt(null);
    qr.reset();
  };
  const scanned =
    openedAt === null
      ? []
      : (interactions.data?.pages[0]?.rows ?? []).filter(
          (w) =>
            (w.kind === "scan" || w.kind === "subscribe") &&
            w.last_at >= openedAt - CLOCK_SLACK_SECS,
        );
  return (
    <>
      <Button
        type="link"
        size="small"
        icon={<QrcodeOutlined />}
        style={{ paddingInline: 0, alignSelf: "flex-start" }}
        data-testid="find-yourself"
        onClick={open}
      >
        {t("send.compose.findYourself.button")}
      </Button>
      <Modal
        open={openedAt !== null}
        title={t("send.compose.findYourself.title")}
        footer={null}
        onCancel={close}
        destroyOnHidden
      >
        {qr.isPending && <Spin />}
        {qr.error && (
          <Alert
            type="warning"
            showIcon
            data-testid="find-yourself-error"
            title={errorText(qr.error)}
          />
        )}
        {qr.data && (
          <Flex vertical align="center" gap={12}>
            <div data-testid="find-yourself-qr" data-url={qr.data.url}>
              <QRCode value={qr.data.url} size={200} />
            </div>
            <Typography.Text>{t("send.compose.findYourself.how")}</Typography.Text>
            <Typography.Text type="secondary">
              {t("send.compose.findYourself.until", { time: clock(qr.data.expires_at) })}
            </Typography.Text>
            {info.data?.mode === "sandbox" && (
              <Alert type="info" showIcon title={t("send.compose.findYourself.sandbox")} />
            )}
            {scanned.length === 0 ? (
              <Typography.Text type="secondary" data-testid="find-yourself-waiting">
                <Spin size="small" /> {t("send.compose.findYourself.waiting")}
              </Typography.Text>
            ) : (
              <Flex vertical gap={4} style={{ width: "100%" }} data-testid="find-yourself-scanned">
                <Typography.Text strong>{t("send.compose.findYourself.scanned")}</Typography.Text>
                {scanned.map((w) => (
                  <Flex key={w.openid} justify="space-between" align="center" gap={8}>
                    <Typography.Text>
                      {w.remark || t("send.compose.testNoRemark")}{" "}
                      <Typography.Text type="secondary" style={{ fontFamily: "monospace" }}>
                        {w.openid}
                      </Typography.Text>
                    </Typography.Text>
                    <Button
                      size="small"
                      type="primary"
                      data-testid={`find-yourself-pick-${w.openid}`}
                      onClick={() => {
                        onPick(w.openid);
                        close();
                      }}
                    >
                      {t("send.compose.findYourself.pick")}
                    </Button>
                  </Flex>
                ))}
              </Flex>
            )}
          </Flex>
        )}
      </Modal>
    </>
  );
}
