import { Button, type ButtonProps, Flex, Popconfirm, Tooltip, Typography } from "antd";
import { useTranslation } from "react-i18next";

interface Props {
  /** When the shown draft was last saved; null when it has none. */
  savedAt: number | null;
  error: string | null;
  /** Something is typed: 清空 asks first; with nothing typed it has nothing to clear. */
  hasContent: boolean;
  /** What 清空 clears, said in its confirmation. */
  clears: string;
  onClear: () => void;
  testId: string;
}

/** 已保存草稿 and 清空, above a composer. */
export function DraftBar({ savedAt, error, hasContent, clears, onClear, testId }: Props) {
  const { t, i18n } = useTranslation();
  const time =
    savedAt === null
      ? ""
      : new Date(savedAt).toLocaleTimeString(i18n.language, {
          hour: "2-digit",
          minute: "2-digit",
        });
  return (
    <Flex justify="flex-end" align="center" gap={8} style={{ marginBottom: 8 }}>
      {error ? (
        <Typography.Text type="danger" style={{ fontSize: 12 }} data-testid={`${testId}-error`}>
          {t("send.draft.failed", { error })}
        </Typography.Text>
      ) : (
        savedAt !== null && (
          <Tooltip title={t("send.draft.hint")}>
            <Typography.Text
              type="secondary"
              style={{ fontSize: 12 }}
              data-testid={`${testId}-saved`}
            >
              {t("send.draft.saved", { time })}
            </Typography.Text>
          </Tooltip>
        )
      )}
      <Popconfirm
        title={t("send.draft.clearTitle")}
        description={<div style={{ maxWidth: 320 }}>{clears}</div>}
        okText={t("send.draft.clearOk")}
        cancelText={t("send.draft.clearCancel")}
        okButtonProps={{ danger: true, "data-testid": `${testId}-clear-ok` } as ButtonProps}
        onConfirm={onClear}
        disabled={!hasContent}
      >
        <Button size="small" disabled={!hasContent} data-testid={`${testId}-clear`}>
          {t("send.draft.clear")}
        </Button>
      </Popconfirm>
    </Flex>
  );
}
