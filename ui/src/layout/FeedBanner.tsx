import { Alert, App, Button, Flex, Typography } from "antd";
import type { TFunction } from "i18next";
import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import {
  type FeedStatus,
  type ParkedEventView,
  type RelayTrouble,
  relayTroubleAfter,
  type TicketTrouble,
  ticketTroubleAfter,
  useFeedNotices,
  useParkedEvents,
  type WechatTrouble,
  wechatTroubleAfter,
} from "../api/feed";
import { msg } from "../pages/accounts/labels";

const KNOWN_KINDS = [
  "authorized",
  "updateauthorized",
  "unauthorized",
  "auth_callback",
  "query_auth_code",
] as const;

/** A relay event kind in the user's language. */
export function kindLabel(t: TFunction, kind: string | null): string {
  const known = KNOWN_KINDS.find((k) => k === kind);
  return known ? t(`feed.kind.${known}`) : t("feed.kind.other", { kind: kind ?? "" });
}

function account(t: TFunction, appid: string | null): string {
  return appid ? t("feed.account", { appid }) : "";
}

function RelayAlert({ trouble }: { trouble: RelayTrouble }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const which =
    trouble.code === "relay_unauthorized"
      ? "relayUnauthorized"
      : trouble.code === "relay"
        ? "relayUnreachable"
        : "feedFailing";
  const retry =
    trouble.retryInSecs !== null ? t("feed.retryIn", { count: trouble.retryInSecs }) : "";
  return (
    <Alert
      data-testid="feed-banner-relay"
      data-code={trouble.code}
      type={which === "relayUnauthorized" ? "error" : "warning"}
      showIcon
      banner
      title={t(`feed.${which}.title`)}
      description={
        <>
          <div>{t(`feed.${which}.hint`)}</div>
          {trouble.message && (
            <Typography.Text type="secondary">
              {msg(trouble.message)}
              {retry}
            </Typography.Text>
          )}
        </>
      }
      action={
        which === "feedFailing" ? undefined : (
          <Button size="small" onClick={() => navigate("/settings")}>
            {t("feed.openSettings")}
          </Button>
        )
      }
    />
  );
}

function TicketAlert({ trouble }: { trouble: TicketTrouble }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Alert
      data-testid="feed-banner-ticket"
      type="warning"
      showIcon
      banner
      title={
        trouble.ageSecs === null
          ? t("feed.ticketStale.titleNone")
          : t("feed.ticketStale.title", { minutes: Math.floor(trouble.ageSecs / 60) })
      }
      description={t("feed.ticketStale.hint")}
      action={
        <Button size="small" onClick={() => navigate("/settings")}>
          {t("feed.openSettings")}
        </Button>
      }
    />
  );
}

function WechatAlert({ trouble }: { trouble: WechatTrouble }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Alert
      data-testid="feed-banner-wechat"
      type="error"
      showIcon
      banner
      title={t("feed.wechatUnreachable.title")}
      description={
        <>
          <div>{t("feed.wechatUnreachable.hint")}</div>
          {trouble.message && (
            <Typography.Text type="secondary">{msg(trouble.message)}</Typography.Text>
          )}
        </>
      }
      action={
        <Button size="small" onClick={() => navigate("/settings")}>
          {t("feed.openSettings")}
        </Button>
      }
    />
  );
}

function ParkedAlert({ parked }: { parked: ParkedEventView[] }) {
  const { t, i18n } = useTranslation();
  return (
    <Alert
      data-testid="feed-banner-parked"
      type="warning"
      showIcon
      banner
      title={t("feed.parked.title", { count: parked.length })}
      description={
        <Flex vertical gap={2}>
          <div>{t("feed.parked.hint")}</div>
          {parked.slice(0, 5).map((p) => (
            <Typography.Text key={p.seq} type="secondary">
              {t("feed.parked.item", {
                seq: p.seq,
                kind: kindLabel(t, p.kind),
                account: account(t, p.appid),
                error: msg(p.error),
              })}
              {t("feed.parked.next", {
                attempts: p.attempts,
                time: new Date(p.next_retry_at * 1000).toLocaleTimeString(i18n.language),
              })}
            </Typography.Text>
          ))}
        </Flex>
      }
    />
  );
}

/** Shows a notification for the notices that are news once rather than a lasting state. */
function useOneShotNotices() {
  const { t } = useTranslation();
  const { notification } = App.useApp();
  return useCallback(
    (n: FeedStatus) => {
      const key = `feed-${n.notice}-${n.seq ?? n.appid ?? ""}`;
      switch (n.notice) {
        case "authorization_failed":
          notification.error({
            key,
            title: t("feed.authorizationFailed.title") + account(t, n.appid),
            description: `${n.message ? msg(n.message) : ""} ${t("feed.authorizationFailed.hint")}`,
          });
          break;
        case "release_test_answered":
          notification.success({
            key,
            title: t("feed.releaseTest.title"),
            description: t("feed.releaseTest.body", { account: account(t, n.appid) }),
          });
          break;
        case "parked_given_up":
          notification.warning({
            key,
            title: t("feed.givenUp.title", { kind: kindLabel(t, n.kind) }) + account(t, n.appid),
            description: `${n.message ? msg(n.message) : ""} ${t("feed.givenUp.hint")}`,
          });
          break;
        case "events_lost": {
          const from = n.seq ?? 0;
          const to = n.to_seq ?? from;
          notification.warning({
            key,
            title: t("feed.lost.title", { count: to - from + 1 }),
            description: t("feed.lost.body", { from, to }),
            duration: 0,
          });
          break;
        }
        default:
          break;
      }
    },
    [t, notification],
  );
}

/**
 * The frame's view of the relay feed: a banner while the relay cannot be polled (clearing
 * itself once the feed works again), while WeChat's API cannot be reached (clearing with the
 * next call that reaches it), while WeChat's tickets do not arrive at the relay
 * (clearing when one does) or events are parked (clearing when none are left), and a
 * notification for authorization failures, answered release tests, given-up and lost events.
 */
export function FeedBanner() {
  const [trouble, setTrouble] = useState<RelayTrouble | null>(null);
  const [ticket, setTicket] = useState<TicketTrouble | null>(null);
  const [wechat, setWechat] = useState<WechatTrouble | null>(null);
  const oneShot = useOneShotNotices();
  const { data: parked } = useParkedEvents();
  useFeedNotices(
    useCallback(
      (n: FeedStatus) => {
        setTrouble((prev) => relayTroubleAfter(prev, n));
        setTicket((prev) => ticketTroubleAfter(prev, n));
        setWechat((prev) => wechatTroubleAfter(prev, n));
        oneShot(n);
      },
      [oneShot],
    ),
  );
  if (!trouble && !ticket && !wechat && !parked?.length) return null;
  return (
    <Flex vertical data-testid="feed-banner">
      {trouble && <RelayAlert trouble={trouble} />}
      {wechat && <WechatAlert trouble={wechat} />}
      {ticket && <TicketAlert trouble={ticket} />}
      {parked && parked.length > 0 && <ParkedAlert parked={parked} />}
    </Flex>
  );
}
