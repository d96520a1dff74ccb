import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en.json";
import zhCN from "./locales/zh-CN.json";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = "zh-CN";

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

// English is typed against the Chinese file, so a key missing from one of them fails tsc.
const resources = {
  "zh-CN": { translation: zhCN },
  en: { translation: en satisfies typeof zhCN },
} as const;

declare module "i18next" {
  interface CustomTypeOptions {
    resources: { translation: typeof zhCN };
  }
}

// Initialized on import (synchronously: the resources are bundled), so anything that imports
// this module can translate or switch language. Chinese first, English as the fallback.
void i18n.use(initReactI18next).init({
  resources,
  lng: DEFAULT_LANGUAGE,
  fallbackLng: DEFAULT_LANGUAGE,
  interpolation: { escapeValue: false },
  initAsync: false,
});

export { i18n };
