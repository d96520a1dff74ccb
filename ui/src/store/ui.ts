import { create } from "zustand";
import { commands } from "../bindings";
import { DEFAULT_LANGUAGE, i18n, isLanguage, type Language } from "../i18n";

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

export const UI_PREFS_KEY = "wxdesk.ui-prefs";

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
  // i18next first, so the render the store triggers already has the new strings.
  void i18n.changeLanguage(language);
  if (typeof document !== "undefined") document.documentElement.lang = language;
  // The shell renders errors (core's and WeChat's) in the window's language. Outside the app
  // (unit tests) there is no shell to tell.
  commands.setLanguage(language === "en" ? "en" : "zh").catch(() => undefined);
}

const initial = loadUiPrefs(storage());
applyLanguage(initial.language);

export const useUiStore = create<UiState>((set, get) => ({
  ...initial,
  setLanguage: (language) => {
    applyLanguage(language);
    set({ language });
    saveUiPrefs(storage(), { language, siderCollapsed: get().siderCollapsed });
  },
  setSiderCollapsed: (siderCollapsed) => {
    set({ siderCollapsed });
    saveUiPrefs(storage(), { language: get().language, siderCollapsed });
  },
}));
