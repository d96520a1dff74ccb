import { describe, expect, it } from "vitest";
import { bytesToDataUrl } from "../../api/code";
import { i18n } from "../../i18n";
import codeEn from "../../i18n/locales/code.en.json";
import codeZh from "../../i18n/locales/code.zh-CN.json";
import { describeCheck } from "./ExtJsonEditor";
import { checkExtJson, extJsonTemplate, formatExtJson } from "./extJson";

const APPID = "wx1234567890abcdef";
const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

function syntaxAt(text: string) {
  const c = checkExtJson(text);
  if (c.ok || c.error.kind !== "syntax") throw new Error(`expected a syntax error: ${text}`);
  return [c.error.line, c.error.column];
}

describe("ext.json check", () => {
  it("accepts one JSON object naming this mini program, with no warning", () => {
    const c = checkExtJson(extJsonTemplate(APPID), APPID);
    expect(c.ok).toBe(true);
    expect(c.ok && c.warnings).toEqual([]);
    expect(c.ok && c.value.extAppid).toBe(APPID);
  });

  it("points at the first mistake by line and column, whatever the engine says", () => {
    // A missing comma: the second key starts where the scanner wanted `,` or `}`.
    expect(syntaxAt('{\n  "a": 1\n  "b": 2\n}')).toEqual([3, 3]);
    // A trailing comma: `}` where a key must come.
    expect(syntaxAt('{"a": 1,}')).toEqual([1, 9]);
    // Single quotes are not JSON.
    expect(syntaxAt("{'a': 1}")).toEqual([1, 2]);
    // A string never closed: the end of the text.
    expect(syntaxAt('{"a": "b')).toEqual([1, 9]);
    // A bad escape, a bare word, text after the object.
    expect(syntaxAt('{"a": "\\x"}')).toEqual([1, 9]);
    expect(syntaxAt('{"a": yes}')).toEqual([1, 7]);
    expect(syntaxAt('{"a": 1} x')).toEqual([1, 10]);
    expect(syntaxAt("")).toEqual([1, 1]);
    expect(syntaxAt('{"a": 01}')).toEqual([1, 8]);
  });

  it("refuses JSON that is not an object, as core does", () => {
    for (const text of ["[]", "null", '"ext"', "42"]) {
      const c = checkExtJson(text);
      expect(!c.ok && c.error.kind).toBe("not_object");
    }
  });

  it("warns about an extAppid missing or naming another mini program, and extEnable false", () => {
    const kinds = (text: string) => {
      const c = checkExtJson(text, APPID);
      return c.ok ? c.warnings.map((w) => w.kind) : ["error"];
    };
    expect(kinds('{"ext": {}}')).toEqual(["ext_appid_missing"]);
    expect(kinds('{"extAppid": "wx0000000000000000"}')).toEqual(["ext_appid_other"]);
    expect(kinds(`{"extAppid": "${APPID}", "extEnable": false}`)).toEqual(["ext_disabled"]);
    // A rollout's base ext.json names no mini program: extAppid is set per client by core.
    expect(checkExtJson('{"ext": {}}')).toMatchObject({ ok: true, warnings: [] });
  });

  it("says what is wrong in either language, the English free of Chinese", () => {
    const zh = i18n.getFixedT("zh-CN");
    const en = i18n.getFixedT("en");
    const bad = checkExtJson('{\n  "a": 1\n  "b": 2\n}');
    expect(describeCheck(zh, bad)).toEqual([
      "不是合法的 JSON：第 3 行第 3 列有错，检查引号、逗号和括号。",
    ]);
    expect(describeCheck(en, bad)[0]).toContain("line 3, column 3");
    const warned = checkExtJson('{"extAppid": "wx0000000000000000"}', APPID);
    for (const line of [...describeCheck(en, warned), ...describeCheck(en, checkExtJson("[]"))]) {
      expect(line).not.toMatch(CJK);
    }
  });

  it("formats valid text and leaves invalid text alone", () => {
    expect(formatExtJson('{"a":{"b":1}}')).toBe('{\n  "a": {\n    "b": 1\n  }\n}');
    expect(formatExtJson('{"a":')).toBe('{"a":');
  });
});

describe("code page strings", () => {
  function keys(obj: object, prefix = ""): string[] {
    return Object.entries(obj).flatMap(([k, v]) =>
      typeof v === "object" && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
    );
  }

  it("have the same keys in both languages, and no Chinese in the English ones", () => {
    expect(keys(codeEn).sort()).toEqual(keys(codeZh).sort());
    const values = (o: object): string[] =>
      Object.values(o).flatMap((v) => (typeof v === "object" ? values(v) : [String(v)]));
    expect(values(codeEn).filter((v) => CJK.test(v))).toEqual([]);
  });
});

describe("trial QR image", () => {
  it("becomes a data URL an <img> shows", () => {
    const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    expect(bytesToDataUrl("image/png", png)).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("survives images larger than one argument list", () => {
    const big = Array.from({ length: 200_000 }, (_, i) => i % 256);
    const url = bytesToDataUrl("image/jpeg", big);
    const back = atob(url.slice("data:image/jpeg;base64,".length));
    expect(back.length).toBe(big.length);
    expect(back.charCodeAt(199_999)).toBe(199_999 % 256);
  });
});
