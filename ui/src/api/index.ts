// The UI's one typed call site for the shell: generated bindings + react-query hooks. Pages use
// the hooks below and never call `invoke` with a command name.
import { useQuery } from "@tanstack/react-query";
import { commands, type ErrorCode, type ShellError } from "../bindings";

export type { AppInfo, AppMode, ErrorCode, ShellError } from "../bindings";

/** A failed command, as a real Error so react-query and error boundaries handle it. */
export class AppError extends Error {
  readonly code: ErrorCode | "unknown";
  readonly hint: string | null;
  /** WeChat's errcode, when WeChat refused the request. */
  readonly errcode: number | null;

  constructor(error: ShellError | { code: "unknown"; message: string; hint: null; errcode: null }) {
    super(error.message);
    this.name = "AppError";
    this.code = error.code;
    this.hint = error.hint;
    this.errcode = error.errcode;
  }
}

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: ShellError };

export async function unwrap<T>(call: Promise<CommandResult<T>>): Promise<T> {
  let result: CommandResult<T>;
  try {
    result = await call;
  } catch (e) {
    // Framework failures (unknown command, ACL denial) reject with a plain string.
    throw new AppError({ code: "unknown", message: String(e), hint: null, errcode: null });
  }
  if (result.status === "error") {
    throw new AppError(result.error);
  }
  return result.data;
}

export const api = {
  appInfo: () => unwrap(commands.appInfo()),
};

export const queryKeys = {
  appInfo: ["app_info"] as const,
};

/** Version, data directory and sandbox/production mode; rarely changes, so cached for long. */
export function useAppInfo() {
  return useQuery({
    queryKey: queryKeys.appInfo,
    queryFn: api.appInfo,
    staleTime: 60_000,
  });
}

/**
 * An effect's subscription to a shell event: returns the effect's cleanup, which unlistens even
 * when the effect ends before the shell has answered the subscription. Outside Tauri (unit tests)
 * there is nothing to listen to, and nothing happens.
 */
export function listenWhileMounted(listening: Promise<() => void>): () => void {
  let unlisten: (() => void) | undefined;
  let gone = false;
  listening
    .then((u) => {
      if (gone) u();
      else unlisten = u;
    })
    .catch(() => undefined);
  return () => {
    gone = true;
    unlisten?.();
  };
}
