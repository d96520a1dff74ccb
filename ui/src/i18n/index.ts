import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import archiveZh from "./locales/archive.zh-CN.json";
import audienceZh from "./locales/audience.zh-CN.json";
import backupZh from "./locales/backup.zh-CN.json";
import codeZh from "./locales/code.zh-CN.json";
import feedZh from "./locales/feed.zh-CN.json";
import interactionsZh from "./locales/interactions.zh-CN.json";
import messagingZh from "./locales/messaging.zh-CN.json";
import sendZh from "./locales/send.zh-CN.json";
import shellZh from "./locales/shell.zh-CN.json";
import teamZh from "./locales/team.zh-CN.json";
import templatesZh from "./locales/templates.zh-CN.json";
import zhCN from "./locales/zh-CN.json";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE = "zh-CN" satisfies Language;

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

// Only the default language's strings are bundled with the first paint (#19); English is its
// own chunk (./en), loaded when it is the saved language or staff switch to it. It is typed
// against the Chinese table, so a key missing from one of them fails tsc. Each area's strings
// live in their own files, merged under the area's key.
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
  archive: archiveZh,
};
export type Translation = typeof zhAll;

declare module "i18next" {
  interface CustomTypeOptions {
    resources: { translation: Translation };
  }
}

// Initialized on import (synchronously: the default's strings are bundled), so anything that
// imports this module can translate at once. Chinese first, and the fallback.
void i18n.use(initReactI18next).init({
  resources: { [DEFAULT_LANGUAGE]: { translation: zhAll } },
  lng: DEFAULT_LANGUAGE,
  fallbackLng: DEFAULT_LANGUAGE,
  interpolation: { escapeValue: false },
  initAsync: false,
});

const LOADERS: Record<Exclude<Language, typeof DEFAULT_LANGUAGE>, () => Promise<Translation>> = {
  en: () => import("./en").then((m) => m.enAll),
};

/** Whether i18next holds `language`'s strings, so switching to it shows no key or fallback. */
export function hasLanguage(language: Language): boolean {
  return i18n.hasResourceBundle(language, "translation");
}

/** Loads `language`'s strings into i18next (once; a no-op for one already there). */
export async function loadLanguage(language: Language): Promise<void> {
  if (language === DEFAULT_LANGUAGE || hasLanguage(language)) return;
  const table = await LOADERS[language]();
  if (!hasLanguage(language)) i18n.addResourceBundle(language, "translation", table);
}

export { i18n };
