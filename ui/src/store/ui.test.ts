import { describe, expect, it } from "vitest";
import indexHtml from "../../index.html?raw";
import { hasLanguage, i18n } from "../i18n";
import en from "../i18n/locales/en.json";
import zhCN from "../i18n/locales/zh-CN.json";
import {
  loadUiPrefs,
  saveUiPrefs,
  startLanguage,
  switchLanguage,
  UI_PREFS_KEY,
  useUiStore,
} from "./ui";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => {
      data.set(k, v);
    },
  };
}

describe("UI preferences", () => {
  it("remember the chosen language and sidebar across launches", () => {
    const s = memoryStorage();
    saveUiPrefs(s, { language: "en", siderCollapsed: true });
    expect(loadUiPrefs(s)).toEqual({ language: "en", siderCollapsed: true });
  });

  it("start in Chinese with the sidebar open when nothing was saved", () => {
    expect(loadUiPrefs(memoryStorage())).toEqual({ language: "zh-CN", siderCollapsed: false });
    expect(loadUiPrefs(undefined)).toEqual({ language: "zh-CN", siderCollapsed: false });
  });

  it("ignore a corrupt entry or an unknown language", () => {
    expect(loadUiPrefs(memoryStorage({ [UI_PREFS_KEY]: "{not json" })).language).toBe("zh-CN");
    const odd = memoryStorage({
      [UI_PREFS_KEY]: JSON.stringify({ language: "fr", siderCollapsed: "yes" }),
    });
    expect(loadUiPrefs(odd)).toEqual({ language: "zh-CN", siderCollapsed: false });
  });
});

// English is a chunk of its own (#19): the test setup loads it up front, these tests drop it
// again to see the app load it.
function unloadEnglish() {
  i18n.removeResourceBundle("en", "translation");
  expect(hasLanguage("en")).toBe(false);
}

/** What the window shows: the store's language (antd's locale follows it) and i18next's. */
function shown() {
  return {
    store: useUiStore.getState().language,
    i18n: i18n.language,
    text: i18n.t("app.subtitle"),
  };
}

const CHINESE = { store: "zh-CN", i18n: "zh-CN", text: zhCN.app.subtitle };
const ENGLISH = { store: "en", i18n: "en", text: en.app.subtitle };

describe("the language", () => {
  it("switches to English only once its strings are loaded, never half-way", async () => {
    unloadEnglish();
    const switched = switchLanguage("en");
    expect(shown()).toEqual(CHINESE);
    await switched;
    expect(hasLanguage("en")).toBe(true);
    expect(shown()).toEqual(ENGLISH);
  });

  it("switches at once when the strings are there", () => {
    void switchLanguage("en");
    expect(shown()).toEqual(ENGLISH);
    void switchLanguage("zh-CN");
    expect(shown()).toEqual(CHINESE);
  });

  it("titles the page in the language, as the shell titles the window", () => {
    void switchLanguage("en");
    expect(document.title).toBe(en.app.windowTitle);
    expect(document.documentElement.lang).toBe("en");
    void switchLanguage("zh-CN");
    expect(document.title).toBe(zhCN.app.windowTitle);
    expect(document.title).toBe("wxdesk 微信第三方平台助手");
    // index.html's own title, before any script: the default language's.
    expect(indexHtml).toContain(`<title>${zhCN.app.windowTitle}</title>`);
  });

  it("gives way to a later switch while English still loads", async () => {
    unloadEnglish();
    const first = switchLanguage("en");
    await switchLanguage("zh-CN");
    await first;
    expect(shown()).toEqual(CHINESE);
  });

  it("starts in the saved language with its strings loaded, not the default first", async () => {
    unloadEnglish();
    const saved = memoryStorage();
    saveUiPrefs(saved, { language: "en", siderCollapsed: false });
    const started = startLanguage(saved);
    expect(shown()).toEqual(CHINESE);
    await started;
    expect(shown()).toEqual(ENGLISH);
  });
});
