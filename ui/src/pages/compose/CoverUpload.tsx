import { open } from "@tauri-apps/plugin-dialog";
import { Alert, Button, Space, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api";
import { type CardCover, commands } from "../../bindings";

/** A picked and uploaded cover, with the file it came from (to upload it again when expired). */
export type Cover = CardCover & { path: string };

/** Uploads the image at `path` as `appid`'s temporary media (the card's thumb_media_id). */
export async function uploadCover(appid: string, path: string): Promise<Cover> {
  const c = await unwrap(commands.mediaUploadCardCover(appid, path));
  return { ...c, path };
}

/** Whether WeChat has forgotten the cover (temporary media live 3 days). */
export function coverExpired(c: Cover, nowMs = Date.now()): boolean {
  return c.expires_at * 1000 <= nowMs + 60_000;
}

/**
 * 上传封面: pick a JPG/PNG, upload it for the account, and hand its media id to the form. Shows
 * the file, its size, the error in the window's language, and until when WeChat keeps it.
 */
export function CoverUpload({
  appid,
  cover,
  onUploaded,
}: {
  appid: string;
  cover: Cover | null;
  onUploaded: (c: Cover) => void;
}) {
  const { t, i18n } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const pick = async () => {
    setError(null);
    const picked = await open({
      title: t("send.custom.coverDialog"),
      multiple: false,
      directory: false,
      filters: [{ name: "JPG / PNG", extensions: ["jpg", "jpeg", "png"] }],
    });
    if (typeof picked !== "string") return;
    setBusy(true);
    try {
      onUploaded(await uploadCover(appid, picked));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const until = cover ? new Date(cover.expires_at * 1000).toLocaleString(i18n.language) : "";
  return (
    <div style={{ marginBottom: 16 }}>
      <Space align="center" wrap>
        <Button onClick={pick} loading={busy} disabled={!appid} data-testid="cover-upload">
          {busy ? t("send.custom.coverUploading") : t("send.custom.coverUpload")}
        </Button>
        <Typography.Text type="secondary">{t("send.custom.coverHelp")}</Typography.Text>
      </Space>
      {cover && (
        <div data-testid="cover-done" style={{ marginTop: 8 }}>
          <Typography.Text type="success">
            {t("send.custom.coverDone", {
              name: cover.file_name,
              size: Math.max(1, Math.round(cover.size / 1024)),
            })}
          </Typography.Text>
          <div>
            <Typography.Text type="secondary">
              {t("send.custom.coverExpires", { time: until })}
            </Typography.Text>
          </div>
        </div>
      )}
      {error && (
        <Alert
          data-testid="cover-error"
          type="error"
          showIcon
          style={{ marginTop: 8 }}
          title={t("send.custom.coverFailed")}
          description={error}
        />
      )}
    </div>
  );
}
