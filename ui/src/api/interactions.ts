// 客服消息 recipients: the users whose customer-service window is open (interactions_open),
// refetched when the relay feed brings a new message or event for the account.
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { commands, events, type WindowCursor } from "../bindings";
import { listenWhileMounted, unwrap } from "./index";

export type {
  InteractionKind,
  OpenWindow as InteractionRow,
  WindowCursor as InteractionCursor,
  WindowPage as InteractionPage,
} from "../bindings";

/** Rows per keyset page of the open-window list. */
export const INTERACTION_PAGE = 200;

export const interactionKeys = {
  open: (appid: string) => ["interactions", appid, "open"] as const,
};

/** Users whose window is open now, newest action first, "load more" by keyset. */
export function useOpenInteractions(appid: string | undefined) {
  return useInfiniteQuery({
    queryKey: interactionKeys.open(appid ?? ""),
    queryFn: ({ pageParam }) =>
      unwrap(commands.interactionsOpen(appid ?? "", pageParam, INTERACTION_PAGE)),
    initialPageParam: null as WindowCursor | null,
    getNextPageParam: (last) => last.next ?? undefined,
    enabled: !!appid,
    // Remaining times count down: a list older than a minute is stale.
    staleTime: 60_000,
    refetchInterval: 60_000,
  });
}

/** Refetches the list whenever the feed applies an event for `appid` (or catches up). */
export function useInteractionsLive(appid: string | undefined) {
  const qc = useQueryClient();
  useEffect(() => {
    if (!appid) return;
    return listenWhileMounted(
      events.feedNotice.listen((e) => {
        const n = e.payload;
        const mine = n.notice === "event" && n.appid === appid;
        if (mine || n.notice === "caught_up") {
          void qc.invalidateQueries({ queryKey: interactionKeys.open(appid) });
        }
      }),
    );
  }, [qc, appid]);
}

/** "还剩 23 小时" style parts: whole hours when an hour or more is left, else minutes. */
export function remainingParts(secs: number): { unit: "hours" | "minutes"; count: number } {
  if (secs >= 3600) return { unit: "hours", count: Math.floor(secs / 3600) };
  return { unit: "minutes", count: Math.max(1, Math.ceil(secs / 60)) };
}
