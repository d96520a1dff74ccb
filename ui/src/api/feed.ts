// The relay feed as the frame shows it: the shell's `feed:notice` events (relay trouble, parked
// and lost events, authorization results) and the list of parked events.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { commands, type ErrorCode, events, type FeedStatus, type Msg } from "../bindings";
import { listenWhileMounted, unwrap } from "./index";

export type { FeedNoticeKind, FeedStatus, ParkedEvent as ParkedEventView } from "../bindings";

export const feedKeys = {
  parked: ["feed", "parked"] as const,
};

/** Events the feed could not apply yet; refetched whenever a notice says the list changed. */
export function useParkedEvents() {
  return useQuery({
    queryKey: feedKeys.parked,
    queryFn: () => unwrap(commands.feedParked()),
    staleTime: 60_000,
  });
}

/** Why the feed cannot poll the relay right now, or `null` while it can. The message keeps both
 * languages: the banner picks one when it draws, so switching language changes it at once. */
export interface RelayTrouble {
  code: ErrorCode;
  message: Msg | null;
  retryInSecs: number | null;
}

/**
 * The relay trouble after `n`. A failed poll sets it; anything the relay delivered (an applied
 * event, catching up) clears it. A parked event's failed retry or a given-up one says nothing
 * about the relay, so it leaves the state as it was.
 */
export function relayTroubleAfter(prev: RelayTrouble | null, n: FeedStatus): RelayTrouble | null {
  switch (n.notice) {
    case "retrying":
      return {
        code: n.code ?? "relay",
        message: n.message ?? null,
        retryInSecs: n.retry_in_secs,
      };
    case "event_parked":
    case "parked_given_up":
    // The ticket watch asks the relay about tickets, and account calls reach WeChat or not:
    // neither says anything about the relay's event log.
    case "ticket_stale":
    case "ticket_fresh":
    case "wechat_unreachable":
    case "wechat_reachable":
      return prev;
    default:
      return null;
  }
}

/** WeChat's tickets stopped arriving at the relay: the newest one's age (`null`: none at all). */
export interface TicketTrouble {
  ageSecs: number | null;
}

/** Whether tickets have stopped arriving after `n`; only the ticket watch's notices change it. */
export function ticketTroubleAfter(
  prev: TicketTrouble | null,
  n: FeedStatus,
): TicketTrouble | null {
  switch (n.notice) {
    case "ticket_stale":
      return { ageSecs: n.age_secs };
    case "ticket_fresh":
      return null;
    default:
      return prev;
  }
}

/** Whether the parked list may have changed after `n`. */
export function changesParked(n: FeedStatus): boolean {
  return (
    n.notice === "event_parked" || n.notice === "parked_applied" || n.notice === "parked_given_up"
  );
}

/**
 * Calls `onNotice` with every feed notice while mounted, and refetches the parked list when a
 * notice changes it.
 */
export function useFeedNotices(onNotice: (n: FeedStatus) => void) {
  const qc = useQueryClient();
  // The latest callback, without resubscribing on every render.
  const handler = useRef(onNotice);
  useEffect(() => {
    handler.current = onNotice;
  });
  useEffect(
    () =>
      listenWhileMounted(
        events.feedNotice.listen((e) => {
          if (changesParked(e.payload)) {
            void qc.invalidateQueries({ queryKey: feedKeys.parked });
          }
          handler.current(e.payload);
        }),
      ),
    [qc],
  );
}

/** Why WeChat's API could not be reached (in both languages: worded when shown), or `null`. */
export interface WechatTrouble {
  message: FeedStatus["message"];
}

/** Whether WeChat is unreachable after `n`; only the account calls' word changes it. */
export function wechatTroubleAfter(
  prev: WechatTrouble | null,
  n: FeedStatus,
): WechatTrouble | null {
  switch (n.notice) {
    case "wechat_unreachable":
      return { message: n.message };
    case "wechat_reachable":
      return null;
    default:
      return prev;
  }
}
