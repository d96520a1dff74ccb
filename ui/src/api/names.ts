// Names for the ids the core stores (an account's appid, a template's id): the tables of 任务 and
// 发送记录 show what staff recognise, with the id itself on hover and to copy.
import { useQueries } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { commands } from "../bindings";
import { unwrap } from "./index";
import { useAccounts } from "./shell";
import { templateKeys } from "./templates";

/** An account's nickname by appid (every account this desk knows, archived ones too). */
export function useAccountNames(): (appid: string) => string | null {
  const { data } = useAccounts();
  const names = useMemo(
    () => new Map((data ?? []).map((a) => [a.appid, a.nickname] as const)),
    [data],
  );
  return useCallback((appid: string) => names.get(appid) || null, [names]);
}

/** Template titles of the accounts in `appids` (their synced lists, read locally). */
export function useTemplateTitles(appids: string[]): (appid: string, id: string) => string | null {
  const distinct = useMemo(() => [...new Set(appids)].sort(), [appids]);
  const lists = useQueries({
    queries: distinct.map((appid) => ({
      queryKey: templateKeys.list(appid),
      queryFn: () => unwrap(commands.templatesList(appid)),
      // A title is only a label: an account whose list cannot be read shows the id.
      retry: false,
    })),
  });
  const titles = useMemo(() => {
    const m = new Map<string, string>();
    for (const q of lists) {
      for (const t of q.data ?? []) m.set(`${t.appid}\n${t.template_id}`, t.title);
    }
    return m;
  }, [lists]);
  return useCallback(
    (appid: string, id: string) => titles.get(`${appid}\n${id}`) || null,
    [titles],
  );
}
