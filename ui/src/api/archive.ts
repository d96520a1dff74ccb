// Accounts of another platform (the sandbox's after switching to a real platform): which
// platforms are archived here, removing one, and which appids to mark 沙箱 wherever an account
// shows. Under the accounts' key, so every accounts change refetches them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./index";

export type { ArchivedPlatform, PurgeReport } from "../bindings";

export const archiveKeys = {
  platforms: ["accounts", "archived_platforms"] as const,
  sandboxAppids: ["accounts", "sandbox_appids"] as const,
};

export function useArchivedPlatforms() {
  return useQuery({
    queryKey: archiveKeys.platforms,
    queryFn: () => unwrap(commands.archivedPlatforms()),
  });
}

/** The set of appids shown with a 沙箱 tag (jobs and history included). */
export function useSandboxAppids() {
  return useQuery({
    queryKey: archiveKeys.sandboxAppids,
    queryFn: () => unwrap(commands.sandboxAppids()),
    select: (ids) => new Set(ids),
  });
}

/** Removes one archived platform's accounts and data; every page's data may have changed. */
export function usePurgeArchived() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (componentAppid: string) => unwrap(commands.purgeArchivedAccounts(componentAppid)),
    onSettled: () => qc.invalidateQueries(),
  });
}
