// 发送's confirmation and 先发给自己: the account's template quota left today (compose_quota) and
// the follower search behind the test-recipient picker (the audience module's followers_page).
import { useMutation, useQuery } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./index";

export type { ApiQuota as SendQuotaView } from "../bindings";

/** Followers offered by the test-recipient picker per search. */
export const TEST_PICKER_LIMIT = 20;

export const composeKeys = {
  quota: (appid: string) => ["compose", "quota", appid] as const,
  testFollowers: (appid: string, search: string) =>
    ["compose", "test_followers", appid, search] as const,
};

/**
 * 今日剩余额度, asked of WeChat each time the confirmation opens (`enabled`): the quota moves
 * with every send, so nothing is cached between openings, and a failure is not retried (the
 * dialog says why and still lets the operator send).
 */
export function useSendQuota(appid: string, enabled: boolean) {
  return useQuery({
    queryKey: composeKeys.quota(appid),
    queryFn: () => unwrap(commands.composeQuota(appid)),
    enabled,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
}

/** Synced, still-following followers whose openid, unionid or remark contains `search`. */
export function useTestFollowers(appid: string, search: string) {
  return useQuery({
    queryKey: composeKeys.testFollowers(appid, search),
    queryFn: () =>
      unwrap(
        commands.followersPage(
          appid,
          {
            search: search.trim() || null,
            tag_id: null,
            subscribed: true,
            subscribed_from: null,
            subscribed_until: null,
          },
          null,
          TEST_PICKER_LIMIT,
        ),
      ).then((p) => p.items),
    placeholderData: (prev) => prev,
  });
}

const lastTestKey = (appid: string) => `wxdesk.compose.testOpenid.${appid}`;

/** The test openid last used for `appid` (this machine only). */
export function loadLastTestOpenid(appid: string): string {
  try {
    return localStorage.getItem(lastTestKey(appid)) ?? "";
  } catch {
    return "";
  }
}

export function saveLastTestOpenid(appid: string, openid: string) {
  try {
    localStorage.setItem(lastTestKey(appid), openid);
  } catch {
    // Storage may be unavailable (private mode); the picker then starts empty next time.
  }
}

/** 扫码找到自己: a fresh temporary QR code of the account each time it is asked for. */
export function useFindYourselfQr() {
  return useMutation({
    mutationFn: (appid: string) => unwrap(commands.composeFindYourselfQr(appid)),
  });
}
