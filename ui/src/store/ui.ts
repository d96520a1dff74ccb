import { create } from "zustand";
import { commands } from "../bindings";
import {
  DEFAULT_LANGUAGE,
  hasLanguage,
  i18n,
  isLanguage,
  type Language,
  loadLanguage,
} from "../i18n";
import { UI_PREFS_KEY } from "./prefsKey";

// Small UI-only state, remembered across launches in the webview's own storage (it lives in
// the app's data folder): the language staff chose and whether the sidebar is folded.
interface UiPrefs {
  language: Language;
  siderCollapsed: boolean;
}

interface UiState extends UiPrefs {
  setLanguage: (language: Language) => void;
  setSiderCollapsed: (collapsed: boolean) => void;
}

export { UI_PREFS_KEY };

/** The saved preferences; anything missing, unreadable or unknown falls back to the default. */
export function loadUiPrefs(storage: Pick<Storage, "getItem"> | undefined): UiPrefs {
  const prefs: UiPrefs = { language: DEFAULT_LANGUAGE, siderCollapsed: false };
  try {
    const saved: unknown = JSON.parse(storage?.getItem(UI_PREFS_KEY) ?? "null");
    if (saved && typeof saved === "object") {
      const s = saved as Record<string, unknown>;
      if (isLanguage(s.language)) prefs.language = s.language;
      if (typeof s.siderCollapsed === "boolean") prefs.siderCollapsed = s.siderCollapsed;
    }
  } catch {
    // A corrupt entry is not worth an error: the defaults are a fine start.
  }
  return prefs;
}

export function saveUiPrefs(storage: Pick<Storage, "setItem"> | undefined, prefs: UiPrefs): void {
  try {
    storage?.setItem(UI_PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Storage full or disabled: the choice still holds for this run.
  }
}

function storage(): Storage | undefined {
  return typeof window === "undefined" ? undefined : window.localStorage;
}

function applyLanguage(language: Language) {
  // i18next first, so the render the store triggers already has the new strings (they are
  // loaded: changeLanguage then finishes synchronously).
  void i18n.changeLanguage(language);
  if (typeof document !== "undefined") {
    document.documentElement.lang = language;
    // The page's title, as the shell titles the window (what assistive tools name the page).
    document.title = i18n.t("app.windowTitle");
  }
  // The shell renders errors (core's and WeChat's) in the window's language. Outside the app
  // (unit tests) there is no shell to tell.
  commands.setLanguage(language === "en" ? "en" : "zh").catch(() => undefined);
}

// The store starts in the default language, whose strings are bundled; the saved one follows
// through startLanguage, before the first render.
export const useUiStore = create<UiState>((set, get) => ({
  siderCollapsed: loadUiPrefs(storage()).siderCollapsed,
  language: DEFAULT_LANGUAGE,
  setLanguage: (language) => {
    void switchLanguage(language);
  },
  setSiderCollapsed: (siderCollapsed) => {
    set({ siderCollapsed });
    saveUiPrefs(storage(), { language: get().language, siderCollapsed });
  },
}));

/** The language last asked for: a switch still loading its strings gives way to a later one. */
let wanted: Language = DEFAULT_LANGUAGE;

/**
 * Switches i18next, antd (through the store) and the shell to `language` once its strings are
 * loaded — at once when they already are — so no key, fallback string or mix of languages
 * ever shows. Resolves when switched, or when a later switch or a failed load means it won't.
 */
export function switchLanguage(language: Language, remember = true): Promise<void> {
  wanted = language;
  const apply = () => {
    if (wanted !== language) return;
    applyLanguage(language);
    useUiStore.setState({ language });
    if (remember) {
      saveUiPrefs(storage(), { language, siderCollapsed: useUiStore.getState().siderCollapsed });
    }
  };
  if (hasLanguage(language)) {
    apply();
    return Promise.resolve();
  }
  // The chunk is part of the app's own assets; should it fail to load, the current language
  // stays, whole, and the switch still shows it.
  return loadLanguage(language).then(apply, () => undefined);
}

/**
 * Before the first render (main.tsx): the saved language, its strings loaded, so an English
 * user never sees Chinese first.
 */
export function startLanguage(from: Pick<Storage, "getItem"> | undefined = storage()) {
  return switchLanguage(loadUiPrefs(from).language, false);
}
