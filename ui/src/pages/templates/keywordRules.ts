import type { TFunction } from "i18next";
import { AppError } from "../../api";
import type { KeywordKind, TemplateField } from "../../api/templates";

/** Tag colours by family: text, numbers/codes, dates, money, people, fixed values, legacy. */
const COLOR: Record<KeywordKind, string> = {
  thing: "blue",
  short_thing: "blue",
  phrase: "blue",
  name: "purple",
  phone_number: "purple",
  car_number: "purple",
  number: "cyan",
  letter: "cyan",
  symbol: "cyan",
  character_string: "cyan",
  time: "green",
  date: "green",
  amount: "gold",
  const: "magenta",
  enum: "magenta",
  first: "default",
  keyword: "default",
  remark: "default",
  unknown: "default",
};

export interface KeywordRule {
  /** Short type name shown on the tag (事物, 时间…). */
  kind: string;
  /** What a value of this type must look like, in the UI language. */
  rule: string;
  color: string;
}

/** The display of one keyword type: its name, its value rule (protocol E.1) and a colour. */
export function keywordRule(t: TFunction, kind: KeywordKind): KeywordRule {
  return {
    kind: t(`templates.kinds.${kind}`),
    rule: t(`templates.rules.${kind}`),
    color: COLOR[kind],
  };
}

/** `工单名称 · 事物` for a field tag; the key when the template has no label for it. */
export function fieldTagText(t: TFunction, f: TemplateField): string {
  return `${f.label || f.key} · ${t(`templates.kinds.${f.kind}`)}`;
}

/**
 * A short title for a template error: the 25-template limit and missing permission get their
 * own, recognised from WeChat's errcode (in the error or in the core's message).
 */
export function templateErrorTitle(t: TFunction, error: unknown): string | null {
  if (!(error instanceof AppError)) return null;
  const code = error.errcode ?? Number(/errcode (\d+)/.exec(error.message)?.[1] ?? Number.NaN);
  if (code === 45026) return t("templates.errors.limit");
  if (code === 48001 || code === 61007) return t("templates.errors.permission");
  return null;
}
