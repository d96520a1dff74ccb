// 用户与名单: typed hooks over the followers_*, tags_*, list_* and bridge_* commands.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Channel } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";
import { useCallback, useRef, useState } from "react";
import {
  commands,
  type FollowerFilter as FollowerQuery,
  type SyncProgress as FollowerSyncProgress,
  type SyncReport as FollowerSyncResult,
  type ImportOptions as ImportChoices,
  type ImportInput,
} from "../bindings";
import { AppError, unwrap } from "./index";

// The core's types under the names the pages use.
export type {
  BridgeReport as BridgeView,
  DuplicateRow as DuplicateLine,
  Follower as FollowerRow,
  FollowerCounts as FollowerTotals,
  FollowerFilter as FollowerQuery,
  ImportInput,
  ImportOptions as ImportChoices,
  ImportPreview as ImportPreviewView,
  ImportRow as SampleRow,
  InvalidRow as InvalidLine,
  ListMember,
  ListSource as ListOrigin,
  OpenidProblem,
  RecipientList as ListInfo,
  SyncPhase,
  SyncProgress as FollowerSyncProgress,
  SyncReport as FollowerSyncResult,
  SyncState as FollowerSyncCheckpoint,
  TagRow as TagInfo,
  Unmatched,
  UnmatchedRow as UnmatchedLine,
} from "../bindings";

/** Rows fetched per keyset page of the follower table. */
export const FOLLOWER_PAGE = 500;

export const audienceKeys = {
  all: (appid: string) => ["audience", appid] as const,
  totals: (appid: string) => ["audience", appid, "totals"] as const,
  syncState: (appid: string) => ["audience", appid, "sync_state"] as const,
  count: (appid: string, q: FollowerQuery) => ["audience", appid, "count", q] as const,
  followers: (appid: string, q: FollowerQuery) => ["audience", appid, "followers", q] as const,
  tags: (appid: string) => ["audience", appid, "tags"] as const,
  lists: (appid: string) => ["audience", appid, "lists"] as const,
  members: (listId: number) => ["audience", "members", listId] as const,
};

export function useFollowerTotals(appid: string | undefined) {
  return useQuery({
    queryKey: audienceKeys.totals(appid ?? ""),
    queryFn: () => unwrap(commands.followersTotals(appid ?? "")),
    enabled: !!appid,
  });
}

export function useFollowerSyncState(appid: string | undefined) {
  return useQuery({
    queryKey: audienceKeys.syncState(appid ?? ""),
    queryFn: () => unwrap(commands.followersSyncState(appid ?? "")),
    enabled: !!appid,
  });
}

export function useFollowerCount(appid: string | undefined, query: FollowerQuery) {
  return useQuery({
    queryKey: audienceKeys.count(appid ?? "", query),
    queryFn: () => unwrap(commands.followersCount(appid ?? "", query)).then((r) => r.count),
    enabled: !!appid,
  });
}

/** Keyset pages of followers; the table asks for the next page as the user scrolls. */
export function useFollowerPages(appid: string | undefined, query: FollowerQuery) {
  return useInfiniteQuery({
    queryKey: audienceKeys.followers(appid ?? "", query),
    queryFn: ({ pageParam }) =>
      unwrap(commands.followersPage(appid ?? "", query, pageParam, FOLLOWER_PAGE)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_after ?? undefined,
    enabled: !!appid,
  });
}

export function useTags(appid: string | undefined) {
  return useQuery({
    queryKey: audienceKeys.tags(appid ?? ""),
    queryFn: () => unwrap(commands.tagsList(appid ?? "")),
    enabled: !!appid,
  });
}

export type SyncRun =
  | { state: "idle" }
  | { state: "running"; progress: FollowerSyncProgress | null }
  | { state: "done"; result: FollowerSyncResult }
  | { state: "failed"; error: AppError };

/**
 * 同步粉丝 with progress streamed over a Channel. `cancel` stops it at the next step; the
 * checkpoint stays, so `start` again continues where it stopped.
 */
export function useFollowerSync(appid: string | undefined) {
  const qc = useQueryClient();
  const [run, setRun] = useState<SyncRun>({ state: "idle" });
  const running = useRef(false);
  const start = useCallback(async () => {
    if (!appid || running.current) return;
    running.current = true;
    setRun({ state: "running", progress: null });
    const channel = new Channel<FollowerSyncProgress>();
    channel.onmessage = (progress) => setRun({ state: "running", progress });
    try {
      const result = await unwrap(commands.followersSync(appid, channel));
      setRun({ state: "done", result });
    } catch (e) {
      setRun({
        state: "failed",
        error:
          e instanceof AppError
            ? e
            : new AppError({ code: "unknown", message: String(e), hint: null, errcode: null }),
      });
    } finally {
      running.current = false;
      await qc.invalidateQueries({ queryKey: audienceKeys.all(appid) });
    }
  }, [appid, qc]);
  const cancel = useCallback(async () => {
    if (appid) await commands.followersSyncCancel(appid);
  }, [appid]);
  return { run, start, cancel };
}

export function useLists(appid: string | undefined) {
  return useQuery({
    queryKey: audienceKeys.lists(appid ?? ""),
    queryFn: () => unwrap(commands.listsList(appid ?? "")),
    enabled: !!appid,
  });
}

export function useListMembers(listId: number | undefined) {
  return useInfiniteQuery({
    queryKey: audienceKeys.members(listId ?? -1),
    queryFn: ({ pageParam }) => unwrap(commands.listMembers(listId ?? -1, pageParam, 200)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_after ?? undefined,
    enabled: listId !== undefined,
  });
}

function useInvalidateLists(appid: string) {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: audienceKeys.lists(appid) });
}

export function useDeleteList(appid: string) {
  const done = useInvalidateLists(appid);
  return useMutation({
    mutationFn: (listId: number) => unwrap(commands.listDelete(listId)),
    onSettled: done,
  });
}

export function useCreateListFromFollowers(appid: string) {
  const done = useInvalidateLists(appid);
  return useMutation({
    mutationFn: (v: { name: string; tagId: number | null }) =>
      unwrap(commands.listCreateFromFollowers(appid, v.name, v.tagId)),
    onSettled: done,
  });
}

export function useImportPreview(appid: string) {
  return useMutation({
    mutationFn: (v: { input: ImportInput; choices: ImportChoices }) =>
      unwrap(commands.listImportPreview(appid, v.input, v.choices)),
  });
}

export function useImportSave(appid: string) {
  const done = useInvalidateLists(appid);
  return useMutation({
    mutationFn: (v: { name: string; input: ImportInput; choices: ImportChoices }) =>
      unwrap(commands.listImportSave(appid, v.name, v.input, v.choices)),
    onSettled: done,
  });
}

export function useBridgePreview(appid: string) {
  return useMutation({
    mutationFn: (input: ImportInput) => unwrap(commands.bridgePreview(appid, input)),
  });
}

export function useBridgeSave(appid: string) {
  const done = useInvalidateLists(appid);
  return useMutation({
    mutationFn: (v: { name: string; input: ImportInput }) =>
      unwrap(commands.bridgeSave(appid, v.name, v.input)),
    onSettled: done,
  });
}

/** The system open dialog for a CSV/XLSX file; `null` when the user cancels. */
export async function pickSpreadsheet(title: string): Promise<string | null> {
  const picked = await open({
    title,
    multiple: false,
    directory: false,
    filters: [{ name: "CSV / Excel", extensions: ["csv", "txt", "xlsx"] }],
  });
  return typeof picked === "string" ? picked : null;
}
