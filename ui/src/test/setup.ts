import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { useUiStore } from "../store/ui";

afterEach(() => {
  cleanup();
  clearMocks();
  useUiStore.getState().setLanguage("zh-CN");
});

// antd's responsive helpers ask for matchMedia, which happy-dom may not provide.
if (!window.matchMedia) {
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
