// 模板: typed hooks over the templates_* commands. Every mutation refreshes the account's list.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./index";

// The core's types under the names the pages use.
export type {
  Field as TemplateField,
  IndustryPair as Industry,
  KeywordType as KeywordKind,
  Template as TemplateInfo,
  TemplateSyncReport as TemplateSyncSummary,
} from "../bindings";

export const templateKeys = {
  list: (appid: string) => ["templates", appid] as const,
  industry: (appid: string) => ["templates", appid, "industry"] as const,
};

/** The account's templates as last synced (local, no network). */
export function useTemplates(appid: string | undefined) {
  return useQuery({
    queryKey: templateKeys.list(appid ?? ""),
    queryFn: () => unwrap(commands.templatesList(appid ?? "")),
    enabled: !!appid,
  });
}

function useInvalidateTemplates(appid: string) {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: templateKeys.list(appid) });
}

/** 同步模板: get_all_private_template into the local table. */
export function useSyncTemplates(appid: string) {
  const done = useInvalidateTemplates(appid);
  return useMutation({
    mutationFn: () => unwrap(commands.templatesSync(appid)),
    onSettled: done,
  });
}

/** 从模板库添加 (library number + keyword names, or a legacy TM… id). */
export function useAddTemplate(appid: string) {
  const done = useInvalidateTemplates(appid);
  return useMutation({
    mutationFn: (v: { shortId: string; keywords: string[] }) =>
      unwrap(commands.templatesAdd(appid, v.shortId, v.keywords)),
    onSettled: done,
  });
}

export function useDeleteTemplate(appid: string) {
  const done = useInvalidateTemplates(appid);
  return useMutation({
    mutationFn: (templateId: string) => unwrap(commands.templatesDelete(appid, templateId)),
    onSettled: done,
  });
}

/** Local alias and note (never sent to WeChat). */
export function useSetTemplateNotes(appid: string) {
  const done = useInvalidateTemplates(appid);
  return useMutation({
    mutationFn: (v: { templateId: string; alias: string; note: string }) =>
      unwrap(commands.templatesSetNotes(appid, v.templateId, v.alias, v.note)),
    onSettled: done,
  });
}

/** Read on demand (a WeChat call), not on every page view. */
export function useIndustry(appid: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: templateKeys.industry(appid ?? ""),
    queryFn: () => unwrap(commands.templatesGetIndustry(appid ?? "")),
    enabled: !!appid && enabled,
    retry: false,
  });
}

export function useSetIndustry(appid: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { primaryId: string; secondaryId: string }) =>
      unwrap(commands.templatesSetIndustry(appid, v.primaryId, v.secondaryId)),
    onSettled: () => qc.invalidateQueries({ queryKey: templateKeys.industry(appid) }),
  });
}

export type { AccountCard as AccountOption } from "../bindings";

/** Authorized official accounts for the pickers of 模板 and 用户与名单. */
export function useAccountOptions() {
  return useQuery({
    queryKey: ["audience_accounts"] as const,
    queryFn: () => unwrap(commands.audienceAccounts()),
  });
}
