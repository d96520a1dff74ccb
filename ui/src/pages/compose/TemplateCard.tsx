import { RightOutlined } from "@ant-design/icons";
import { Flex, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { CardPreview } from "../../api/send";
import { isEnglish, renderProblemText } from "../jobs/labels";

/** The template message as WeChat draws it: title, one line per keyword, no first/remark. */
export function TemplateCard({
  title,
  card,
  jump,
  mini,
}: {
  title: string;
  card: CardPreview;
  jump: boolean;
  /** The mini program the message opens (WeChat draws a mini-program footer then). */
  mini?: string;
}) {
  const { t, i18n } = useTranslation();
  return (
    <div
      style={{
        background: "#fff",
        border: "1px solid #e5e5e5",
        borderRadius: 8,
        padding: "14px 16px",
        maxWidth: 360,
      }}
    >
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {card.openid
          ? t("send.compose.previewFor", { openid: card.openid })
          : t("send.compose.previewSample")}
      </Typography.Text>
      <div style={{ fontSize: 16, fontWeight: 500, margin: "6px 0 10px" }}>{title}</div>
      <Flex vertical gap={6}>
        {card.lines.map((l) => (
          <Flex key={l.label} gap={12} style={{ fontSize: 14 }}>
            <span style={{ color: "#999", minWidth: 72, flexShrink: 0 }}>{l.label}</span>
            <span style={{ color: l.cut ? "#d46b08" : "#333", wordBreak: "break-all" }}>
              {l.text || "\u00a0"}
            </span>
          </Flex>
        ))}
      </Flex>
      {jump && (
        <Flex
          justify="space-between"
          style={{
            borderTop: "1px solid #f0f0f0",
            marginTop: 12,
            paddingTop: 10,
            color: "#576b95",
          }}
        >
          <span data-testid={mini ? "preview-mini" : undefined}>
            {mini ? `${t("messaging.preview.mini")} · ${mini}` : t("send.compose.viewDetails")}
          </span>
          <RightOutlined />
        </Flex>
      )}
      {card.problem && (
        <Typography.Text type="danger" style={{ fontSize: 12, display: "block", marginTop: 8 }}>
          {t("send.compose.rowProblem", {
            problem: renderProblemText(t, card.problem, isEnglish(i18n.language)),
          })}
        </Typography.Text>
      )}
    </div>
  );
}
