// The first frame index.html paints before any script (#19 item 1): what it shows, and what its
// script makes of the saved preferences before it is painted.
import { render } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import bindings from "../bindings.ts?raw";
import en from "../i18n/locales/en.json";
import zhCN from "../i18n/locales/zh-CN.json";
import { UI_PREFS_KEY } from "../store/ui";
import { FIRST_FRAME_ID, firstFrame, SHOW_WINDOW_COMMAND, withFirstFrame } from "./firstFrame";
import { NAV_ITEMS } from "./nav";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/g;

type TauriWindow = Window & { __TAURI_INTERNALS__?: { invoke: (cmd: string) => Promise<unknown> } };

/** Puts the frame in the document as index.html has it and runs its script, as the parser
 * would (innerHTML does not run scripts). Returns the frame element. */
function mount(entry: string | null = null): HTMLElement {
  const { style, body } = firstFrame(entry);
  document.head.innerHTML = style;
  document.body.innerHTML = `<div id="root">${body}</div>`;
  const script = document.querySelector("#root script");
  if (!script?.textContent) throw new Error("the frame has no script");
  new Function(script.textContent)();
  const frame = document.getElementById(FIRST_FRAME_ID);
  if (!frame) throw new Error("no frame");
  return frame;
}

function labels(frame: HTMLElement): string[] {
  return [...frame.querySelectorAll("li [data-t]")].map((e) => e.textContent ?? "");
}

function selected(frame: HTMLElement): string | null {
  return frame.querySelector("li.ff-on")?.getAttribute("data-nav") ?? null;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  localStorage.clear();
  window.location.hash = "";
  document.documentElement.lang = "zh-CN";
  delete (window as TauriWindow).__TAURI_INTERNALS__;
});

describe("the first frame", () => {
  it("shows the sidebar, the name and the language switch in Chinese, 概览 selected", () => {
    const frame = mount();
    expect(labels(frame)).toEqual(NAV_ITEMS.map((i) => zhCN.nav[i.key]));
    // One icon per item, drawn from the same components the live sidebar uses.
    expect(frame.querySelectorAll("li svg")).toHaveLength(NAV_ITEMS.length);
    expect(frame.textContent).toContain(zhCN.app.subtitle);
    expect(selected(frame)).toBe("overview");
    expect(frame.querySelector(".ff-lang .ff-on")?.getAttribute("data-lang")).toBe("zh-CN");
    expect(frame.className).toBe("");
  });

  it("draws each entry's icon as the live sidebar's component draws it", () => {
    const frame = mount();
    for (const item of NAV_ITEMS) {
      const live = render(createElement(item.icon)).container.querySelector("svg");
      const drawn = frame.querySelector(`li[data-nav="${item.key}"] svg`);
      expect(drawn?.getAttribute("viewBox"), item.key).toBe(live?.getAttribute("viewBox"));
      const paths = (svg: Element | null | undefined) =>
        [...(svg?.querySelectorAll("path") ?? [])].map((p) => p.getAttribute("d"));
      expect(paths(drawn), item.key).toEqual(paths(live));
      expect(paths(drawn).length, item.key).toBeGreaterThan(0);
    }
  });

  it("is in English, folded and on the reopened page when that is what was saved", () => {
    localStorage.setItem(UI_PREFS_KEY, JSON.stringify({ language: "en", siderCollapsed: true }));
    window.location.hash = "#/history";
    const frame = mount();
    expect(labels(frame)).toEqual(NAV_ITEMS.map((i) => en.nav[i.key]));
    expect(frame.textContent).toContain(en.app.subtitle);
    // No Chinese left but the switch's own 中文, as the live frame has it.
    expect((frame.textContent ?? "").replace(zhCN.language.zh, "").match(CJK)).toBeNull();
    expect(document.documentElement.lang).toBe("en");
    expect(frame.querySelector(".ff-lang .ff-on")?.getAttribute("data-lang")).toBe("en");
    expect(frame.className).toBe("ff-folded");
    expect(selected(frame)).toBe("history");
  });

  it("selects the page a sub-route belongs to, and 概览 for anything else", () => {
    window.location.hash = "#/accounts/authorize";
    expect(selected(mount())).toBe("accounts");
    window.location.hash = "#/nowhere";
    expect(selected(mount())).toBe("overview");
  });

  it("falls back to the defaults on a corrupt or foreign entry", () => {
    localStorage.setItem(UI_PREFS_KEY, "{not json");
    expect(labels(mount())).toEqual(NAV_ITEMS.map((i) => zhCN.nav[i.key]));
    localStorage.setItem(UI_PREFS_KEY, JSON.stringify({ language: "fr", siderCollapsed: "yes" }));
    const frame = mount();
    expect(labels(frame)).toEqual(NAV_ITEMS.map((i) => zhCN.nav[i.key]));
    expect(frame.className).toBe("");
  });

  it("asks the shell to show the window in the saved language, whatever the entry holds", async () => {
    const cases: [string | null, string][] = [
      [null, "zh"],
      ["{not json", "zh"],
      [JSON.stringify({ language: "fr" }), "zh"],
      [JSON.stringify({ language: "zh-CN" }), "zh"],
      [JSON.stringify({ language: "en" }), "en"],
    ];
    for (const [saved, lang] of cases) {
      if (saved === null) localStorage.removeItem(UI_PREFS_KEY);
      else localStorage.setItem(UI_PREFS_KEY, saved);
      const invoke = vi.fn(() => Promise.resolve(null));
      (window as TauriWindow).__TAURI_INTERNALS__ = { invoke };
      mount();
      await Promise.resolve();
      expect(invoke).toHaveBeenCalledWith(SHOW_WINDOW_COMMAND, { lang });
    }
  });

  it("invokes the command the shell declares, with its argument (the generated bindings)", () => {
    expect(bindings).toContain(`__TAURI_INVOKE<void>("${SHOW_WINDOW_COMMAND}", { lang })`);
    expect(bindings).toContain("showWindow: (lang: Lang) =>");
    expect(bindings).toContain('export type Lang = "zh" | "en"');
  });

  it("does nothing outside the app (no shell) and survives a shell that refuses", async () => {
    expect(() => mount()).not.toThrow();
    (window as TauriWindow).__TAURI_INTERNALS__ = {
      invoke: () => Promise.reject(new Error("not allowed")),
    };
    expect(() => mount()).not.toThrow();
    await Promise.resolve();
  });

  it("goes into index.html's head and root, and refuses a page without them", () => {
    const html = withFirstFrame(
      '<html><head><title>t</title></head><body><div id="root"></div></body></html>',
    );
    expect(html).toMatch(/<style>#first-frame\{.*<\/style><\/head>/);
    expect(html).toContain(`<div id="root"><div id="${FIRST_FRAME_ID}"`);
    expect(() => withFirstFrame("<html><body></body></html>")).toThrow(/#?root/);
  });

  it("starts the app's entry at once outside the shell", () => {
    const added: Node[] = [];
    vi.spyOn(document.head, "appendChild").mockImplementation((n) => {
      added.push(n);
      return n;
    });
    mount("/assets/index-abc.js");
    expect(added).toHaveLength(1);
    const script = added[0] as HTMLScriptElement;
    expect([script.type, script.getAttribute("src")]).toEqual(["module", "/assets/index-abc.js"]);
  });

  it("in the shell, starts the entry only once the shown window has painted the frame", async () => {
    vi.useFakeTimers();
    const frames: FrameRequestCallback[] = [];
    vi.spyOn(window, "requestAnimationFrame").mockImplementation((cb) => frames.push(cb));
    const added: Node[] = [];
    vi.spyOn(document.head, "appendChild").mockImplementation((n) => {
      added.push(n);
      return n;
    });
    let shown: () => void = () => undefined;
    const invoke = vi.fn(() => new Promise<null>((resolve) => (shown = () => resolve(null))));
    (window as TauriWindow).__TAURI_INTERNALS__ = { invoke };
    mount("/assets/index-abc.js");
    await vi.advanceTimersByTimeAsync(0);
    expect(invoke).toHaveBeenCalledWith(SHOW_WINDOW_COMMAND, { lang: "zh" });
    expect(added).toHaveLength(0);
    // Only this page's frames (earlier tests' pages may still ask for some).
    frames.length = 0;
    shown();
    await vi.advanceTimersByTimeAsync(0);
    // Shown: the first animation frame is the frame's paint, the second comes after it.
    expect(added).toHaveLength(0);
    frames.shift()?.(0);
    expect(added).toHaveLength(0);
    frames.shift()?.(16);
    expect(added).toHaveLength(1);
    // The fallback timer does not start it twice.
    await vi.advanceTimersByTimeAsync(5000);
    expect(added).toHaveLength(1);
  });

  it("starts the entry after a second if the window never paints", async () => {
    vi.useFakeTimers();
    vi.spyOn(window, "requestAnimationFrame").mockImplementation(() => 0);
    const added: Node[] = [];
    vi.spyOn(document.head, "appendChild").mockImplementation((n) => {
      added.push(n);
      return n;
    });
    (window as TauriWindow).__TAURI_INTERNALS__ = { invoke: () => new Promise(() => undefined) };
    mount("/assets/index-abc.js");
    await vi.advanceTimersByTimeAsync(999);
    expect(added).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(added).toHaveLength(1);
  });

  it("moves the build's entry script into the frame's script and keeps it fetched early", () => {
    const built =
      '<html><head><script type="module" crossorigin src="/assets/index-abc.js"></script>' +
      '</head><body><div id="root"></div></body></html>';
    const html = withFirstFrame(built, { deferEntry: true });
    expect(html).not.toContain('<script type="module"');
    expect(html).toContain('<link rel="modulepreload" crossorigin href="/assets/index-abc.js">');
    expect(html).toContain('"entry":"/assets/index-abc.js"');
    // The dev server's page keeps its own scripts; a build without the tag is refused.
    expect(withFirstFrame(built)).toContain('<script type="module"');
    expect(() =>
      withFirstFrame(built.replace(/<script.*<\/script>/, ""), { deferEntry: true }),
    ).toThrow(/entry/);
  });
});
