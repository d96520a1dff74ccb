// The ext.json editor: monospace text with the check under it as the operator types (the line
// and column of the first mistake, warnings about extAppid), and a button that formats it.
import { Button, Flex, Input, Typography } from "antd";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { checkExtJson, type ExtJsonCheck, formatExtJson } from "./extJson";

interface Props {
  value: string;
  onChange: (text: string) => void;
  /** The mini program it is for (single commit); absent for a rollout's base ext.json. */
  appid?: string;
  rows?: number;
  testid?: string;
}

/** The check's words in the UI language (the first error, or every warning). */
export function describeCheck(t: TFunction, check: ExtJsonCheck): string[] {
  if (!check.ok) {
    return check.error.kind === "syntax"
      ? [t("code.ext.syntax", { line: check.error.line, column: check.error.column })]
      : [t("code.ext.notObject")];
  }
  return check.warnings.map((w) =>
    w.kind === "ext_appid_other"
      ? t("code.ext.appidOther", { found: w.found })
      : t(`code.ext.${w.kind === "ext_appid_missing" ? "appidMissing" : "disabled"}`),
  );
}

export function ExtJsonEditor({ value, onChange, appid, rows = 8, testid = "ext-json" }: Props) {
  const { t } = useTranslation();
  const check = checkExtJson(value, appid);
  const lines = describeCheck(t, check);
  return (
    <Flex vertical gap={4}>
      <Input.TextArea
        data-testid={testid}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        rows={rows}
        spellCheck={false}
        status={check.ok ? undefined : "error"}
        style={{ fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", fontSize: 12 }}
      />
      <Flex justify="space-between" align="start" gap={8}>
        <Flex vertical data-testid={`${testid}-check`}>
          {check.ok && lines.length === 0 && (
            <Typography.Text type="success" style={{ fontSize: 12 }}>
              {t("code.ext.ok")}
            </Typography.Text>
          )}
          {lines.map((l) => (
            <Typography.Text
              key={l}
              type={check.ok ? "warning" : "danger"}
              style={{ fontSize: 12 }}
            >
              {l}
            </Typography.Text>
          ))}
        </Flex>
        <Button size="small" disabled={!check.ok} onClick={() => onChange(formatExtJson(value))}>
          {t("code.ext.format")}
        </Button>
      </Flex>
    </Flex>
  );
}
