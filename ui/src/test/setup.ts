import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeAll } from "vitest";
import { loadLanguage } from "../i18n";
import { useUiStore } from "../store/ui";

// A test in the node environment (the production build's, firstPaint.test.ts) has no window:
// nothing rendered to clean up, no IPC mock, no matchMedia to provide.
const hasDom = typeof window !== "undefined";

// The app loads English when it is first needed (a chunk of its own); tests switch language
// synchronously, so it is loaded before each file. src/store/ui.test.ts unloads it to test
// the loading itself.
beforeAll(() => loadLanguage("en"));

afterEach(() => {
  if (!hasDom) return;
  cleanup();
  clearMocks();
  useUiStore.getState().setLanguage("zh-CN");
});

// antd's responsive helpers ask for matchMedia, which happy-dom may not provide.
if (hasDom && !window.matchMedia) {
  Object.defineProperty(window, "matchMedia", {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}
