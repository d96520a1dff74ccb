import { Segmented } from "antd";
import { useTranslation } from "react-i18next";
import type { Language } from "../i18n";
import { useUiStore } from "../store/ui";

/** 中文 / English. Changes i18next and, through the store, antd's own locale. */
export function LanguageSwitch() {
  const { t } = useTranslation();
  const language = useUiStore((s) => s.language);
  const setLanguage = useUiStore((s) => s.setLanguage);
  return (
    <Segmented<Language>
      aria-label={t("language.label")}
      data-testid="language-switch"
      size="small"
      value={language}
      onChange={setLanguage}
      options={[
        { label: <span data-testid="lang-zh-CN">{t("language.zh")}</span>, value: "zh-CN" },
        { label: <span data-testid="lang-en">{t("language.en")}</span>, value: "en" },
      ]}
    />
  );
}
