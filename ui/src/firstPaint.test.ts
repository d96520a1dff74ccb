// @vitest-environment node
// What the first paint loads (#19): the entry chunk and what it imports statically, as the
// production build lays them out. Only the frame and 概览 belong there; every other page, the
// first-start welcome and echarts come in their own chunks when first needed. A static import
// of one of them anywhere on the entry's path puts it back into the first paint, and this fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Rolldown } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import en from "./i18n/locales/en.json";
import zhCN from "./i18n/locales/zh-CN.json";

const UI = fileURLToPath(new URL("..", import.meta.url));

/** Modules that must stay out of the first paint (paths relative to ui/). */
const LATER = [
  "src/pages/accounts/AccountsPage.tsx",
  "src/pages/AuthorizePage.tsx",
  "src/pages/audience/AudiencePage.tsx",
  "src/pages/code/CodePage.tsx",
  "src/pages/compose/ComposePage.tsx",
  "src/pages/history/HistoryPage.tsx",
  "src/pages/jobs/JobsPage.tsx",
  "src/pages/SettingsPage.tsx",
  "src/pages/templates/TemplatesPage.tsx",
  "src/pages/team/TeamCard.tsx",
  "src/layout/Welcome.tsx",
  "src/pages/overview/OverviewChart.tsx",
];

type OutputChunk = Rolldown.OutputChunk;

let chunks: OutputChunk[] = [];
let indexHtml = "";
let outDir = "";

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "wxdesk-ui-build-"));
  // vitest runs with NODE_ENV=test, which would make vite bundle React's development build;
  // the app ships the production one.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    const out = (await build({
      root: UI,
      configFile: join(UI, "vite.config.ts"),
      mode: "production",
      logLevel: "silent",
      build: { write: false, outDir, emptyOutDir: false },
    })) as Rolldown.RolldownOutput | Rolldown.RolldownOutput[];
    const outputs = Array.isArray(out) ? out : [out];
    chunks = outputs.flatMap((o) => o.output).filter((c): c is OutputChunk => c.type === "chunk");
    const html = outputs.flatMap((o) => o.output).find((a) => a.fileName === "index.html");
    indexHtml = html?.type === "asset" ? String(html.source) : "";
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}, 180_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** The entry chunk and every chunk reachable from it by static imports. */
function firstPaint(): OutputChunk[] {
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const entry = chunks.filter((c) => c.isEntry);
  expect(entry).toHaveLength(1);
  const seen = new Map<string, OutputChunk>();
  const todo = [...entry];
  for (let c = todo.pop(); c; c = todo.pop()) {
    if (seen.has(c.fileName)) continue;
    seen.set(c.fileName, c);
    for (const f of c.imports) {
      const next = byName.get(f);
      if (next) todo.push(next);
    }
  }
  return [...seen.values()];
}

const rel = (id: string) => id.replace(/\\/g, "/").replace(`${UI.replace(/\\/g, "/")}`, "");

describe("the first paint", () => {
  it("holds the frame and 概览, and no other page, the welcome, echarts or antd's table pieces", () => {
    const modules = firstPaint().flatMap((c) => c.moduleIds.map(rel));
    // The walk found the real first paint: the frame and the page the app opens on are in it.
    expect(modules).toContain("src/layout/AppLayout.tsx");
    expect(modules).toContain("src/pages/overview/OverviewPage.tsx");
    for (const later of LATER) expect(modules, later).not.toContain(later);
    expect(modules.filter((m) => /node_modules\/(echarts|zrender)\//.test(m))).toEqual([]);
    // antd's heavy components that only other pages use (their locale strings and contexts
    // are part of antd's frame): 概览's 需要关注 rows and error alert once brought Select and
    // Pagination in, through List and AccountPicker.
    const ANTD_LATER = /node_modules\/antd\/es\/(select|pagination|table|date-picker)\/index\.js$/;
    expect(modules.filter((m) => ANTD_LATER.test(m))).toEqual([]);
  });

  it("holds the Chinese strings and antd's locale, not the English table or antd's CommonJS copies", () => {
    const first = firstPaint();
    const modules = first.flatMap((c) => c.moduleIds.map(rel));
    const code = first.map((c) => c.code).join("\n");
    // zh-CN is the default language: its table is there, and the string check below could see
    // a table's text if it were.
    expect(code).toContain(zhCN.app.subtitle);
    // English comes by import() when it is the saved language or staff switch to it (#19).
    expect(modules.filter((m) => /^src\/i18n\/(locales\/.*\ben\.json|en\.ts)$/.test(m))).toEqual(
      [],
    );
    expect(code).not.toContain(en.app.subtitle);
    // antd's ES locales are its own default (en_US) and ours (zh_CN); `antd/locale/*` are
    // CommonJS re-exports of antd/lib, which brought second copies of both locales along.
    expect(modules.filter((m) => /node_modules\/antd\/(lib|locale)\//.test(m))).toEqual([]);
  });

  it("gives each later page a chunk of its own, loaded by import()", () => {
    const first = new Set(firstPaint().map((c) => c.fileName));
    const dynamic = new Set(chunks.flatMap((c) => c.dynamicImports));
    for (const later of LATER) {
      const home = chunks.find((c) => c.moduleIds.map(rel).includes(later));
      expect(home, later).toBeDefined();
      expect(first.has(home?.fileName ?? ""), later).toBe(false);
      expect(dynamic.has(home?.fileName ?? ""), later).toBe(true);
    }
  });

  it("paints the frame from index.html itself, before the module script has run", () => {
    // The built page carries the first frame (layout/firstFrame.ts) inside #root, with its
    // style in <head>: the sidebar in Chinese, in order, with no script needed to show it.
    const root = indexHtml.indexOf('<div id="root"><div id="first-frame"');
    expect(root).toBeGreaterThan(indexHtml.indexOf("<style>#first-frame{"));
    let at = root;
    for (const key of ["overview", "accounts", "templates", "history", "settings"] as const) {
      const next = indexHtml.indexOf(`>${zhCN.nav[key]}<`, at);
      expect(next, key).toBeGreaterThan(at);
      at = next;
    }
    // The one script is the frame's: it starts the app's entry after the frame is painted, and
    // the entry is fetched from the start like the chunks it imports.
    expect(indexHtml.match(/<script/g)).toHaveLength(1);
    const entry = chunks.find((c) => c.isEntry)?.fileName;
    expect(entry).toBeDefined();
    expect(indexHtml).toContain(`<link rel="modulepreload" crossorigin href="/${entry}">`);
    expect(indexHtml).toContain(`"entry":"/${entry}"`);
  });
});
