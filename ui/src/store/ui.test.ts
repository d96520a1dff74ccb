import { describe, expect, it } from "vitest";
import { loadUiPrefs, saveUiPrefs, UI_PREFS_KEY } from "./ui";

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
