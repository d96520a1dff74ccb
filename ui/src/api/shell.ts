// 设置, 体验沙箱 and 授权账号: typed hooks over the platform and accounts commands, and the live
// link from the shell's `accounts:changed` event to react-query.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Channel } from "@tauri-apps/api/core";
import { useEffect } from "react";
import {
  type AuthScope as AuthScopeChoice,
  commands,
  events,
  type SettingsForm as PlatformSettingsForm,
  type SandboxStep,
} from "../bindings";
import { listenWhileMounted, queryKeys, unwrap } from "./index";

// The core's types under the names the pages use.
export type {
  AccountCard as AccountView,
  AuthAttempt,
  AuthScope as AuthScopeChoice,
  CheckDetail,
  CheckStep,
  CheckStepId,
  ErrorReport,
  Msg,
  RecoverReport as RecoverReportView,
  SandboxStep,
  SettingsForm as PlatformSettingsForm,
  SettingsView as PlatformSettingsView,
  TokenHealth as TokenHealthView,
} from "../bindings";

export const shellKeys = {
  settings: ["settings"] as const,
  /** Under the settings' key: every settings change (save, sandbox) runs the check again. */
  check: ["settings", "check"] as const,
  accounts: ["accounts"] as const,
  tokenHealth: (appid: string) => ["accounts", appid, "token_health"] as const,
};

/** Refetches what depends on the platform after it changed (mode badge, settings, accounts). */
function useInvalidatePlatform() {
  const qc = useQueryClient();
  return () =>
    Promise.all([
      qc.invalidateQueries({ queryKey: queryKeys.appInfo }),
      qc.invalidateQueries({ queryKey: shellKeys.settings }),
      qc.invalidateQueries({ queryKey: shellKeys.accounts }),
    ]);
}

export function useSettings() {
  return useQuery({
    queryKey: shellKeys.settings,
    queryFn: () => unwrap(commands.getSettings()),
  });
}

export function useSaveSettings() {
  const done = useInvalidatePlatform();
  return useMutation({
    mutationFn: (form: PlatformSettingsForm) => unwrap(commands.saveSettings(form)),
    onSuccess: done,
  });
}

/**
 * 检测连接 of the saved settings: one run that the card's summary and its steps both show (never
 * two answers that can disagree), run when 设置 opens, again after every settings change and on
 * demand (`refetch`). Never fails as a whole; each step says what is wrong.
 */
export function useConnectionCheck(enabled: boolean) {
  return useQuery({
    queryKey: shellKeys.check,
    queryFn: () => commands.checkConnection(),
    enabled,
    // A check calls WeChat: only when asked or when the settings change, not on every focus.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
    retry: false,
  });
}

/** 检测连接 of a settings form before it is saved (保存 runs it first). */
export function useCheckSettings() {
  return useMutation({
    mutationFn: (form: PlatformSettingsForm) => unwrap(commands.checkSettings(form)),
  });
}

/** The deployment guide (docs/deploy), bundled with the app. */
export function useDeployGuide(enabled: boolean) {
  return useQuery({
    queryKey: ["deploy-guide"] as const,
    queryFn: () => commands.deployGuide(),
    enabled,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** 体验沙箱, with its steps streamed to `onStep`. */
export function useStartSandbox(onStep: (s: SandboxStep) => void) {
  const done = useInvalidatePlatform();
  return useMutation({
    mutationFn: () => {
      const ch = new Channel<SandboxStep>();
      ch.onmessage = onStep;
      return unwrap(commands.startSandbox(ch));
    },
    onSuccess: done,
  });
}

export function useAccounts() {
  return useQuery({
    queryKey: shellKeys.accounts,
    queryFn: () => unwrap(commands.listAccounts()),
  });
}

function useAccountsMutation<A, T>(fn: (a: A) => Promise<T>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => qc.invalidateQueries({ queryKey: shellKeys.accounts }),
  });
}

export const useRefreshAccount = () =>
  useAccountsMutation((appid: string) => unwrap(commands.refreshAccount(appid)));
export const useRemoveAccount = () =>
  useAccountsMutation((appid: string) => unwrap(commands.removeAccount(appid)));
export const useRecoverRefreshTokens = () =>
  useAccountsMutation((_: undefined) => unwrap(commands.recoverRefreshTokens()));
export const useTokenHealth = () =>
  useMutation({ mutationFn: (appid: string) => unwrap(commands.tokenHealth(appid)) });

export function useBeginAuthorization() {
  return useMutation({
    mutationFn: (a: { scope: AuthScopeChoice; bizAppid: string | null }) =>
      unwrap(commands.beginAuthorization(a.scope, a.bizAppid)),
  });
}

/** 在本机扫码: resolves with the account, or `null` when the user closed the window. */
export const useAuthorizeInWindow = () =>
  useAccountsMutation((launchUrl: string) => unwrap(commands.authorizeInWindow(launchUrl)));

/**
 * Keeps the accounts live: every `accounts:changed` (authorized, revoked, …) refetches them.
 * `onEvent` lets the wizard notice the push for its own attempt.
 */
export function useAccountsLive(onEvent?: (e: import("../bindings").AccountsChanged) => void) {
  const qc = useQueryClient();
  useEffect(() => {
    return listenWhileMounted(
      events.accountsChanged.listen((e) => {
        void qc.invalidateQueries({ queryKey: shellKeys.accounts });
        onEvent?.(e.payload);
      }),
    );
  }, [qc, onEvent]);
}
