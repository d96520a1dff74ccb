import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import audienceEn from "./locales/audience.en.json";
import audienceZh from "./locales/audience.zh-CN.json";
import backupEn from "./locales/backup.en.json";
import backupZh from "./locales/backup.zh-CN.json";
import codeEn from "./locales/code.en.json";
import codeZh from "./locales/code.zh-CN.json";
import en from "./locales/en.json";
import feedEn from "./locales/feed.en.json";
import feedZh from "./locales/feed.zh-CN.json";
import interactionsEn from "./locales/interactions.en.json";
import interactionsZh from "./locales/interactions.zh-CN.json";
import messagingEn from "./locales/messaging.en.json";
import messagingZh from "./locales/messaging.zh-CN.json";
import sendEn from "./locales/send.en.json";
import sendZh from "./locales/send.zh-CN.json";
import shellEn from "./locales/shell.en.json";
import shellZh from "./locales/shell.zh-CN.json";
import teamEn from "./locales/team.en.json";
import teamZh from "./locales/team.zh-CN.json";
import templatesEn from "./locales/templates.en.json";
import templatesZh from "./locales/templates.zh-CN.json";
import zhCN from "./locales/zh-CN.json";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = "zh-CN";

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

// English is typed against the Chinese file, so a key missing from one of them fails tsc.
// Each area's strings live in their own files, merged under the area's key.
const zhAll = {
  ...zhCN,
  shell: shellZh,
  templates: templatesZh,
  audience: audienceZh,
  send: sendZh,
  interactions: interactionsZh,
  backup: backupZh,
  feed: feedZh,
  code: codeZh,
  messaging: messagingZh,
  team: teamZh,
};
const enAll = {
  ...en,
  shell: shellEn,
  templates: templatesEn,
  audience: audienceEn,
  send: sendEn,
  interactions: interactionsEn,
  backup: backupEn,
  feed: feedEn,
  code: codeEn,
  messaging: messagingEn,
  team: teamEn,
};
const resources = {
  "zh-CN": { translation: zhAll },
  en: { translation: enAll satisfies typeof zhAll },
} as const;

declare module "i18next" {
  interface CustomTypeOptions {
    resources: { translation: typeof zhAll };
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
