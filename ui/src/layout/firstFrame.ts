// The app's first frame as plain HTML and CSS, written into index.html at build time (#19 item 1).
//
// Without it the window shows nothing until the first-paint JavaScript (~1 MB) is fetched, parsed
// and run and React has rendered: ~0.3 s after navigation in WebKitGTK. This frame — sidebar, header,
// language switch, the same sizes and colours as AppLayout's — paints as soon as the HTML is
// parsed, and React replaces it with the live frame at its first commit (React clears the root's
// children when it mounts), in the same place, so staff see the app at once and then the page
// fill in. A small inline script, run before the frame is painted, puts it in the saved language
// and sidebar state (the same localStorage entry as store/ui.ts), marks the page the window is
// reopening on, and asks the shell to show the window (the window starts hidden: see
// src-tauri/src/lib.rs, `show_window`).
//
// Build-time only (vite.config.ts, tests); nothing here reaches the app's bundle. The sidebar's
// icons are drawn from the outlines @ant-design/icons draws them from (firstFrame.test.ts holds
// each against the live sidebar's component).

import {
  CodeOutlined,
  DashboardOutlined,
  FileTextOutlined,
  HistoryOutlined,
  LeftOutlined,
  RightOutlined,
  SafetyCertificateOutlined,
  ScheduleOutlined,
  SendOutlined,
  SettingOutlined,
  TeamOutlined,
} from "@ant-design/icons-svg";
import type { AbstractNode, IconDefinition } from "@ant-design/icons-svg/lib/types";
// Extensions and JSON attributes spelled out: vite.config.ts loads this file as Node would.
import en from "../i18n/locales/en.json" with { type: "json" };
import zhCN from "../i18n/locales/zh-CN.json" with { type: "json" };
import { UI_PREFS_KEY } from "../store/prefsKey.ts";
import { NAV_ITEMS, type NavKey } from "./nav.ts";

/** The element id of the frame inside #root. */
export const FIRST_FRAME_ID = "first-frame";

/** The command the frame's script invokes once the frame is in the document. */
export const SHOW_WINDOW_COMMAND = "show_window";

type Strings = typeof zhCN;

/** The frame's texts, by key; `data-t` on an element names its key. */
function texts(s: Strings): Record<string, string> {
  const out: Record<string, string> = {
    "app.name": s.app.name,
    "app.subtitle": s.app.subtitle,
    "language.zh": s.language.zh,
    "language.en": s.language.en,
  };
  for (const item of NAV_ITEMS) out[`nav.${item.key}`] = s.nav[item.key];
  return out;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** The outline of each sidebar entry's icon (nav.ts names the components drawn from them). */
export const NAV_ICONS: Record<NavKey, IconDefinition> = {
  overview: DashboardOutlined,
  accounts: SafetyCertificateOutlined,
  templates: FileTextOutlined,
  audience: TeamOutlined,
  compose: SendOutlined,
  jobs: ScheduleOutlined,
  history: HistoryOutlined,
  code: CodeOutlined,
  settings: SettingOutlined,
};

function svgNode(node: AbstractNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join("");
  return `<${node.tag}${attrs}>${(node.children ?? []).map(svgNode).join("")}</${node.tag}>`;
}

/** An icon as antd draws it: a 1em square in the text's colour. */
function icon(definition: IconDefinition): string {
  if (typeof definition.icon === "function") throw new Error(`${definition.name}: two-tone icon`);
  const svg = definition.icon;
  const sized: AbstractNode = {
    ...svg,
    attrs: {
      ...svg.attrs,
      width: "1em",
      height: "1em",
      fill: "currentColor",
      "aria-hidden": "true",
    },
  };
  return `<span role="img" class="anticon">${svgNode(sized)}</span>`;
}

// antd's measures for what AppLayout renders (theme.ts: Layout and Menu tokens; antd's own
// defaults otherwise): sider 208 px (80 folded), header 56 px, inline menu items 40 px high with
// 4 px/8 px margins, 24 px indent, 10 px after the icon, the sider's trigger 48 px.
const CSS = `
#${FIRST_FRAME_ID}{display:flex;min-height:100vh;background:#f5f6f7;color:rgba(0,0,0,.88);font-size:14px;line-height:1.5715;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei","Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
#${FIRST_FRAME_ID} .ff-sider{position:relative;flex:0 0 208px;width:208px;background:#fff;padding-bottom:48px;box-sizing:border-box}
#${FIRST_FRAME_ID} .ff-logo{height:56px;display:flex;align-items:center;gap:10px;padding:0 20px;border-bottom:1px solid rgba(5,5,5,.06);box-sizing:border-box}
#${FIRST_FRAME_ID} .ff-mark{width:28px;height:28px;border-radius:7px;background:#07c160;color:#fff;font-weight:700;font-size:14px;display:flex;align-items:center;justify-content:center;flex-shrink:0}
#${FIRST_FRAME_ID} .ff-name{font-size:16px;font-weight:600}
#${FIRST_FRAME_ID} ul{list-style:none;margin:0;padding:8px 0 0}
#${FIRST_FRAME_ID} li{display:flex;align-items:center;height:40px;margin:4px 8px;padding-left:24px;border-radius:6px;white-space:nowrap;overflow:hidden}
#${FIRST_FRAME_ID} li .anticon{display:inline-flex;font-size:14px;margin-right:10px}
#${FIRST_FRAME_ID} li.ff-on{background:#e8f8ef;color:#068a45}
#${FIRST_FRAME_ID} .ff-trigger{position:absolute;bottom:0;left:0;right:0;height:48px;display:flex;align-items:center;justify-content:center}
#${FIRST_FRAME_ID} .ff-trigger .anticon{display:inline-flex;font-size:12px}
#${FIRST_FRAME_ID} .ff-unfold{display:none!important}
#${FIRST_FRAME_ID} .ff-main{flex:1;min-width:0;border-left:1px solid rgba(5,5,5,.06)}
#${FIRST_FRAME_ID} .ff-header{height:56px;padding:0 24px;background:#fff;display:flex;align-items:center;justify-content:space-between;border-bottom:1px solid rgba(5,5,5,.06);box-sizing:border-box}
#${FIRST_FRAME_ID} .ff-title{display:flex;align-items:center;gap:12px}
#${FIRST_FRAME_ID} .ff-sub{color:rgba(0,0,0,.45)}
#${FIRST_FRAME_ID} .ff-lang{display:flex;padding:2px;border-radius:4px;background:#f5f5f5;color:rgba(0,0,0,.65)}
#${FIRST_FRAME_ID} .ff-lang>span{padding:0 7px;line-height:20px;border-radius:2px}
#${FIRST_FRAME_ID} .ff-lang .ff-on{background:#fff;color:rgba(0,0,0,.88);box-shadow:0 1px 2px rgba(0,0,0,.08)}
#${FIRST_FRAME_ID}.ff-folded .ff-sider{flex-basis:80px;width:80px}
#${FIRST_FRAME_ID}.ff-folded .ff-logo{justify-content:center;padding:0}
#${FIRST_FRAME_ID}.ff-folded .ff-logo .ff-name,#${FIRST_FRAME_ID}.ff-folded li [data-t]{display:none}
#${FIRST_FRAME_ID}.ff-folded li{justify-content:center;padding:0}
#${FIRST_FRAME_ID}.ff-folded li .anticon{margin:0;font-size:16px}
#${FIRST_FRAME_ID}.ff-folded .ff-fold{display:none!important}
#${FIRST_FRAME_ID}.ff-folded .ff-unfold{display:inline-flex!important}
`
  .trim()
  .replace(/\n/g, "");

function markup(s: Record<string, string>): string {
  const text = (key: string) => `<span data-t="${key}">${escapeHtml(s[key] ?? "")}</span>`;
  const items = NAV_ITEMS.map(
    (item) =>
      `<li data-nav="${item.key}">${icon(NAV_ICONS[item.key])}${text(`nav.${item.key}`)}</li>`,
  ).join("");
  return (
    `<div id="${FIRST_FRAME_ID}" aria-busy="true">` +
    `<div class="ff-sider"><div class="ff-logo"><div class="ff-mark" aria-hidden="true">wx</div>` +
    `<span class="ff-name">${text("app.name")}</span></div>` +
    `<ul>${items}</ul>` +
    `<div class="ff-trigger"><span class="ff-fold">${icon(LeftOutlined)}</span>` +
    `<span class="ff-unfold">${icon(RightOutlined)}</span></div></div>` +
    `<div class="ff-main"><div class="ff-header"><div class="ff-title">` +
    `<strong class="ff-name">${text("app.name")}</strong><span class="ff-sub">${text("app.subtitle")}</span></div>` +
    `<div class="ff-lang"><span data-lang="zh-CN">${text("language.zh")}</span>` +
    `<span data-lang="en">${text("language.en")}</span></div></div></div></div>`
  );
}

/** What the frame's script is given (it is inlined as source text, so it takes no imports). */
export interface FrameScriptConfig {
  frameId: string;
  prefsKey: string;
  /** The frame's texts in English, by `data-t` key. */
  english: Record<string, string>;
  navKeys: readonly string[];
  command: string;
  /** The app's entry module, started once the frame is on screen (none: the page loads it). */
  entry: string | null;
  /** Start the entry after this long whatever happened (the window shown by a fallback). */
  fallbackMs: number;
}

type TauriInternals = { invoke?: (cmd: string, args?: unknown) => Promise<unknown> };

/** The frame's script: the saved language and sidebar state, the page being reopened; then the
 * shell's `show_window` (with that language, for the window's title), and the app's entry module
 * once the frame has been painted. Inline and classic, so it runs before the frame's first paint.
 * It reads only what store/ui.ts writes and ignores anything it does not understand.
 *
 * Why the entry waits: the window is hidden until `show_window`, and a hidden view does not paint.
 * Run at once, the ~1 MB module would keep the web process busy (parse, run, React's first render)
 * when the window appears, and the frame would be painted only after it, ~0.25 s later. Its files
 * are still fetched at once (index.html's modulepreload links). */
export function frameScript(c: FrameScriptConfig): void {
  const frame = document.getElementById(c.frameId);
  let lang = "zh-CN";
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(c.prefsKey) ?? "null");
    const prefs = (saved && typeof saved === "object" ? saved : {}) as Record<string, unknown>;
    lang = prefs.language === "en" ? "en" : "zh-CN";
    if (frame && lang === "en") {
      document.documentElement.lang = "en";
      for (const e of frame.querySelectorAll("[data-t]")) {
        const text = c.english[e.getAttribute("data-t") ?? ""];
        if (text) e.textContent = text;
      }
    }
    frame?.querySelector(`[data-lang="${lang}"]`)?.classList.add("ff-on");
    if (frame && prefs.siderCollapsed === true) frame.className = "ff-folded";
    const route = /^#\/([a-z]+)/.exec(location.hash)?.[1];
    const page = route && c.navKeys.includes(route) ? route : "overview";
    frame?.querySelector(`[data-nav="${page}"]`)?.classList.add("ff-on");
  } catch {
    // Storage disabled or a strange entry: the frame as built is a fine start.
  }
  let started = false;
  const start = () => {
    if (started || !c.entry) return;
    started = true;
    const script = document.createElement("script");
    script.type = "module";
    script.crossOrigin = "";
    script.src = c.entry;
    document.head.appendChild(script);
  };
  const shell = (window as unknown as { __TAURI_INTERNALS__?: TauriInternals }).__TAURI_INTERNALS__;
  if (!shell?.invoke) {
    start();
    return;
  }
  // Two animation frames after the window is shown: the frame has been painted.
  const afterPaint = () => requestAnimationFrame(() => requestAnimationFrame(start));
  Promise.resolve()
    .then(() => shell.invoke?.(c.command, { lang: lang === "en" ? "en" : "zh" }))
    .then(afterPaint, afterPaint);
  setTimeout(start, c.fallbackMs);
}

/** The app's entry as Vite writes it into index.html. */
const ENTRY = /<script type="module" crossorigin src="([^"]+)"><\/script>\s*/;

/** The `<style>` for <head> and the frame plus its script for #root, in the default language;
 * `entry` is the module the script starts after the first paint. */
export function firstFrame(entry: string | null = null): { style: string; body: string } {
  const config: FrameScriptConfig = {
    frameId: FIRST_FRAME_ID,
    prefsKey: UI_PREFS_KEY,
    english: texts(en as Strings),
    navKeys: NAV_ITEMS.map((i) => i.key),
    command: SHOW_WINDOW_COMMAND,
    entry,
    fallbackMs: 1000,
  };
  const script = `(${frameScript.toString()})(${JSON.stringify(config)});`;
  return {
    style: `<style>${CSS}</style>`,
    body: `${markup(texts(zhCN))}<script>${script.replace(/<\//g, "<\\/")}</script>`,
  };
}

/** Puts the first frame into index.html: its style into <head>, the frame into `#root`. With
 * `deferEntry` (the production build) the app's entry script moves into the frame's script,
 * which starts it after the first paint. */
export function withFirstFrame(html: string, { deferEntry = false } = {}): string {
  const root = '<div id="root"></div>';
  if (!html.includes(root) || !html.includes("</head>")) {
    throw new Error(`index.html: no ${root} or </head> to put the first frame in`);
  }
  let entry: string | null = null;
  if (deferEntry) {
    const found = ENTRY.exec(html);
    if (!found?.[1]) throw new Error("index.html: no entry module script to start after the frame");
    entry = found[1];
    // Fetched at once all the same, like the chunks it imports; only its run waits.
    html = html.replace(found[0], `<link rel="modulepreload" crossorigin href="${entry}">\n    `);
  }
  const frame = firstFrame(entry);
  return html
    .replace("</head>", `${frame.style}</head>`)
    .replace(root, `<div id="root">${frame.body}</div>`);
}
