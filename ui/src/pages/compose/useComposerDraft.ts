import { useCallback, useEffect, useRef, useState } from "react";
import { type DraftKind, draftsApi } from "../../api/drafts";

/** How long after the last keystroke a draft is saved. Leaving the page saves at once. */
export const DRAFT_SAVE_MS = 500;

export interface ComposerDraft {
  /** The drafts have been read (or could not be); the composer may start. */
  ready: boolean;
  /** The draft typed in last, to open on: its template id and its parsed body. */
  latest: { templateId: string; body: unknown } | null;
  /** The saved draft of a template, parsed (undefined when there is none). */
  get: (templateId: string) => unknown;
  /** When the draft of the template being edited was last saved; null when it has none. */
  savedAt: number | null;
  /** Why reading or saving failed (the composer keeps working, the draft is not safe). */
  error: string | null;
  /**
   * What the composer holds for a template now, as JSON, or null when nothing is worth keeping
   * (an empty form removes the saved draft). Saved DRAFT_SAVE_MS after the last call.
   */
  track: (templateId: string, body: string | null) => void;
  /** 清空 or sent: removes the template's draft now. */
  clear: (templateId: string) => Promise<void>;
}

const parse = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

// Every composer's reads, saves and removals reach core one after another, in the order they
// were made: a removal (清空, sent) is never overtaken by a save that started before it, and a
// composer opened again at once reads what the one just closed saved on its way out.
let chain: Promise<unknown> = Promise.resolve();
function run<T>(op: () => Promise<T>): Promise<T> {
  const next = chain.then(op, op);
  chain = next.catch(() => undefined);
  return next;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * One composer's drafts for one account: read once when it opens, saved as staff type, and
 * flushed when it closes (another page, another account), so nothing typed is lost.
 */
export function useComposerDraft(kind: DraftKind, appid: string): ComposerDraft {
  const [ready, setReady] = useState(false);
  const [latest, setLatest] = useState<ComposerDraft["latest"]>(null);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  // What core holds (or is being sent to hold), per template, and when each was saved.
  const sent = useRef(new Map<string, string>());
  const times = useRef(new Map<string, number>());
  const pending = useRef<{ templateId: string; body: string | null } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const current = useRef<string | null>(null);
  const mounted = useRef(true);
  // Bumped by 清空: a save that was already on its way does not count as the saved draft.
  const epoch = useRef(0);

  useEffect(() => {
    mounted.current = true;
    let live = true;
    run(() => draftsApi.list(kind, appid))
      .then((drafts) => {
        if (!live) return;
        for (const d of drafts) {
          sent.current.set(d.template_id, d.body);
          times.current.set(d.template_id, d.updated_at);
        }
        const first = drafts[0];
        if (first) setLatest({ templateId: first.template_id, body: parse(first.body) });
      })
      .catch((e: unknown) => {
        if (live) setError(messageOf(e));
      })
      .finally(() => {
        if (live) setReady(true);
      });
    return () => {
      live = false;
    };
  }, [kind, appid]);

  const flush = useCallback(() => {
    clearTimeout(timer.current);
    const p = pending.current;
    pending.current = null;
    if (!p) return;
    const { templateId, body } = p;
    const shown = () => mounted.current && current.current === templateId;
    if (body === null) {
      if (!sent.current.delete(templateId)) return;
      times.current.delete(templateId);
      if (shown()) setSavedAt(null);
      run(() => draftsApi.remove(kind, appid, templateId)).catch((e: unknown) => {
        if (mounted.current) setError(messageOf(e));
      });
      return;
    }
    const started = epoch.current;
    sent.current.set(templateId, body);
    run(() => draftsApi.save(kind, appid, templateId, body))
      .then((at) => {
        if (epoch.current !== started) return;
        times.current.set(templateId, at);
        if (shown()) setSavedAt(at);
        if (mounted.current) setError(null);
      })
      .catch((e: unknown) => {
        // Not saved: the next change tries again.
        if (sent.current.get(templateId) === body) sent.current.delete(templateId);
        if (mounted.current) setError(messageOf(e));
      });
  }, [kind, appid]);

  // Leaving (another page, another account): what was typed in the last moments is saved now.
  // Closing the window or reloading unmounts nothing, so the page going away saves as well
  // (best effort: the save is handed to the shell before the page is gone).
  useEffect(() => {
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      mounted.current = false;
      flush();
    };
  }, [flush]);

  const track = useCallback(
    (templateId: string, body: string | null) => {
      if (!ready) return;
      if (current.current !== templateId) {
        // Another template: the one left behind keeps what it had.
        flush();
        current.current = templateId;
        setSavedAt(times.current.get(templateId) ?? null);
      }
      if (body === (sent.current.get(templateId) ?? null)) {
        clearTimeout(timer.current);
        pending.current = null;
        return;
      }
      pending.current = { templateId, body };
      clearTimeout(timer.current);
      timer.current = setTimeout(flush, DRAFT_SAVE_MS);
    },
    [ready, flush],
  );

  const clear = useCallback(
    async (templateId: string) => {
      epoch.current += 1;
      if (pending.current?.templateId === templateId) {
        clearTimeout(timer.current);
        pending.current = null;
      }
      sent.current.delete(templateId);
      times.current.delete(templateId);
      if (current.current === templateId) setSavedAt(null);
      try {
        await run(() => draftsApi.remove(kind, appid, templateId));
        if (mounted.current) setError(null);
      } catch (e) {
        if (mounted.current) setError(messageOf(e));
      }
    },
    [kind, appid],
  );

  const get = useCallback((templateId: string) => {
    const s = sent.current.get(templateId);
    return s === undefined ? undefined : parse(s);
  }, []);

  return { ready, latest, get, savedAt, error, track, clear };
}

/** A string field of a restored body ("" when missing or not a string). */
export function str(body: unknown, key: string): string {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" ? v : "";
}

/** A string map field of a restored body (only its string values). */
export function strMap(body: unknown, key: string): Record<string, string> {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)[key] : undefined;
  const out: Record<string, string> = {};
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  }
  return out;
}

/** A number field of a restored body (undefined when missing). */
export function num(body: unknown, key: string): number | undefined {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** One of `allowed`, or `fallback`. */
export function oneOf<T extends string>(v: string, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
}
