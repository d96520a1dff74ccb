// ext.json as the operator types it: checked before anything is sent, with the line and column
// of the first mistake. The engines' own JSON.parse messages differ (V8 gives a position,
// WebKit does not), so the position comes from a small scanner of our own; JSON.parse still
// decides what the value is.

export type ExtJsonCheck =
  | { ok: true; value: Record<string, unknown>; warnings: ExtJsonWarning[] }
  | { ok: false; error: ExtJsonError };

export type ExtJsonError =
  | { kind: "syntax"; line: number; column: number }
  | { kind: "not_object" };

/** Things WeChat accepts but that are likely not what the operator meant. */
export type ExtJsonWarning =
  | { kind: "ext_appid_missing" }
  | { kind: "ext_appid_other"; found: string }
  | { kind: "ext_disabled" };

/** Where the scanner stopped: the offset of the first character that cannot be there. */
function firstErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch.charCodeAt(0) < 0x20) fail();
      if (ch === "\\") {
        i++;
        const esc = text[i];
        if (esc === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail();
            }
          }
          i += 5;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail();
      }
      i++;
    }
    fail();
  };
  const digits = () => {
    const start = i;
    while (/[0-9]/.test(text[i] ?? "")) i++;
    if (i === start) fail();
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    }
    if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    }
    if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || /[0-9]/.test(ch ?? "")) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
  return -1;
}

/** 1-based line and column of `offset`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 };
}

/**
 * Checks ext.json text: it must be one JSON object (as core requires). `appid`, when given,
 * is the mini program it is committed to: an `extAppid` naming another one is worth a warning
 * (a rollout sets `extAppid` to each client itself).
 */
export function checkExtJson(text: string, appid?: string): ExtJsonCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const at = firstErrorOffset(text);
    return {
      ok: false,
      error: { kind: "syntax", ...lineColumn(text, at < 0 ? text.length : at) },
    };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: { kind: "not_object" } };
  }
  const value = parsed as Record<string, unknown>;
  const warnings: ExtJsonWarning[] = [];
  if (appid !== undefined) {
    const found = value.extAppid;
    if (found === undefined) warnings.push({ kind: "ext_appid_missing" });
    else if (found !== appid) warnings.push({ kind: "ext_appid_other", found: String(found) });
  }
  if (value.extEnable === false) warnings.push({ kind: "ext_disabled" });
  return { ok: true, value, warnings };
}

/** The starting ext.json for one mini program. */
export function extJsonTemplate(appid: string): string {
  return JSON.stringify({ extEnable: true, extAppid: appid, ext: {} }, null, 2);
}

/** Pretty-printed text when it parses, else the text unchanged. */
export function formatExtJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
