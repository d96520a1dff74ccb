// 订阅通知 (subscription templates, who can receive, the composer's tab), 统一服务消息 (withdrawn by
// WeChat: the attempt comes back as 45109 with its explanation) and the quota tools: typed hooks
// over the subscribe_*, compose_subscribe_*, compose_uniform_send and quota_* commands.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  commands,
  type RecipientSource,
  type SubscribeDraft,
  type UniformDraft,
} from "../bindings";
import { unwrap } from "./index";

export type {
  LibraryKeyword,
  LibraryPage,
  LibraryTitle,
  QuotaCleared,
  QuotaReport,
  Receiver,
  Receivers,
  SubscribeCategory,
  SubscribeDraft,
  SubscribeKind,
  SubscribeReach,
  SubscribeStarted,
  SubscribeTemplate,
  UniformDraft,
} from "../bindings";

/** WeChat allows this many quota resets per account (and for the platform) a month. */
export const CLEARS_PER_MONTH = 10;

/** How many receivers the picker lists. */
export const RECEIVERS_LIMIT = 200;

export const messagingKeys = {
  templates: (appid: string) => ["subscribe", appid, "templates"] as const,
  categories: (appid: string) => ["subscribe", appid, "categories"] as const,
  library: (appid: string, ids: number[], start: number) =>
    ["subscribe", appid, "library", ids, start] as const,
  keywords: (appid: string, tid: string) => ["subscribe", appid, "keywords", tid] as const,
  receivers: (appid: string, templateId: string) =>
    ["subscribe", appid, "receivers", templateId] as const,
  reach: (draft: SubscribeDraft | null, source: RecipientSource | null) =>
    ["subscribe", "reach", draft, source] as const,
  quota: (appid: string, path: string) => ["quota", appid, path] as const,
};

/** The account's subscription templates as last listed (local). */
export function useSubscribeTemplates(appid: string | undefined) {
  return useQuery({
    queryKey: messagingKeys.templates(appid ?? ""),
    queryFn: () => unwrap(commands.subscribeTemplates(appid ?? "")),
    enabled: !!appid,
  });
}

function useInvalidateSubscribe(appid: string) {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: ["subscribe", appid] });
}

/** Lists the account's subscription templates from WeChat. */
export function useSyncSubscribeTemplates(appid: string) {
  const done = useInvalidateSubscribe(appid);
  return useMutation({
    mutationFn: () => unwrap(commands.subscribeTemplatesSync(appid)),
    onSettled: done,
  });
}

export function useSubscribeCategories(appid: string, enabled: boolean) {
  return useQuery({
    queryKey: messagingKeys.categories(appid),
    queryFn: () => unwrap(commands.subscribeCategories(appid)),
    enabled,
    staleTime: 60_000,
  });
}

/** One page (30) of the library under `ids` (all the account's categories when empty). */
export function useSubscribeLibrary(appid: string, ids: number[], start: number, enabled: boolean) {
  return useQuery({
    queryKey: messagingKeys.library(appid, ids, start),
    queryFn: () => unwrap(commands.subscribeLibrary(appid, ids, start, 30)),
    enabled,
    staleTime: 60_000,
  });
}

export function useSubscribeKeywords(appid: string, tid: string | undefined) {
  return useQuery({
    queryKey: messagingKeys.keywords(appid, tid ?? ""),
    queryFn: () => unwrap(commands.subscribeKeywords(appid, tid ?? "")),
    enabled: !!tid,
    staleTime: 60_000,
  });
}

export function useAddSubscribeTemplate(appid: string) {
  const done = useInvalidateSubscribe(appid);
  return useMutation({
    mutationFn: (v: { tid: string; kids: number[]; scene: string }) =>
      unwrap(commands.subscribeTemplateAdd(appid, v.tid, v.kids, v.scene)),
    onSettled: done,
  });
}

export function useDeleteSubscribeTemplate(appid: string) {
  const done = useInvalidateSubscribe(appid);
  return useMutation({
    mutationFn: (templateId: string) => unwrap(commands.subscribeTemplateDelete(appid, templateId)),
    onSettled: done,
  });
}

/** Who can receive a template now (what the relay's subscription pushes said). */
export function useReceivers(appid: string, templateId: string | undefined) {
  return useQuery({
    queryKey: messagingKeys.receivers(appid, templateId ?? ""),
    queryFn: () => unwrap(commands.subscribeReceivers(appid, templateId ?? "", RECEIVERS_LIMIT)),
    enabled: !!templateId,
    refetchInterval: 5_000,
  });
}

/** How many of the recipients can receive the notice (the others would get 43101). */
export function useSubscribeReach(draft: SubscribeDraft | null, source: RecipientSource | null) {
  return useQuery({
    queryKey: messagingKeys.reach(draft, source),
    queryFn: () =>
      draft && source
        ? unwrap(commands.composeSubscribeReach(draft, source))
        : Promise.resolve(null),
    enabled: !!draft && !!source,
    retry: false,
  });
}

export const messagingApi = {
  sendSubscribe: (draft: SubscribeDraft, source: RecipientSource) =>
    unwrap(commands.composeSubscribeSend(draft, source)),
  sendUniform: (draft: UniformDraft, openid: string) =>
    unwrap(commands.composeUniformSend(draft, openid)),
  clearQuota: (appid: string) => unwrap(commands.quotaClear(appid)),
  clearComponentQuota: () => unwrap(commands.quotaClearComponent()),
};

/** An API's quota of the account today, asked of WeChat each time (never cached). */
export function useQuota(appid: string, path: string, enabled: boolean) {
  return useQuery({
    queryKey: messagingKeys.quota(appid, path),
    queryFn: () => unwrap(commands.quotaGet(appid, path || null)),
    enabled,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
}
