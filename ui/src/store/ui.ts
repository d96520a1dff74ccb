import { create } from "zustand";
import { DEFAULT_LANGUAGE, i18n, type Language } from "../i18n";

// Small UI-only state. The language is not persisted here on purpose: it will live with the
// other settings in the app's store, so the CLI and every window agree on it.
interface UiState {
  language: Language;
  setLanguage: (language: Language) => void;
  siderCollapsed: boolean;
  setSiderCollapsed: (collapsed: boolean) => void;
}

export const useUiStore = create<UiState>((set) => ({
  language: DEFAULT_LANGUAGE,
  setLanguage: (language) => {
    // i18next first, so the render the store triggers already has the new strings.
    void i18n.changeLanguage(language);
    document.documentElement.lang = language;
    set({ language });
  },
  siderCollapsed: false,
  setSiderCollapsed: (siderCollapsed) => set({ siderCollapsed }),
}));
