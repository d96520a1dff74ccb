// 设置 → 团队: this desk as a member of a team server. Joining and leaving switch the workspace
// the app works on, which happens at the next start: the window says so, then restarts the app.
// The member key goes to the shell once per join and is never kept in a query cache or state
// outside the form.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./index";

export type { AuditEntry, Membership, TeamStatus } from "../bindings";

export const teamKeys = {
  status: ["team", "status"] as const,
  membership: ["team", "membership"] as const,
  audit: ["team", "audit"] as const,
};

const AUDIT_PAGE = 50;

/** 操作记录 (admins), newest first, a page at a time. */
export function useTeamAudit(enabled: boolean) {
  return useInfiniteQuery({
    queryKey: teamKeys.audit,
    queryFn: ({ pageParam }) => unwrap(commands.teamAudit(pageParam, AUDIT_PAGE)),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
    enabled,
    // Another desk's work lands here: look again on every visit.
    refetchOnMount: "always",
  });
}

/** The membership, checked with the server now; `null` when not joined. */
export function useTeamStatus() {
  return useQuery({
    queryKey: teamKeys.status,
    queryFn: () => unwrap(commands.teamStatus()),
    // Asks the server: whether it still accepts the key is worth a fresh look on every visit.
    refetchOnMount: "always",
    retry: false,
  });
}

/** The team this session works in (read locally; no network): the header's member badge. */
export function useTeamMembership() {
  return useQuery({
    queryKey: teamKeys.membership,
    queryFn: () => unwrap(commands.teamMembership()),
    // Changes only with a restart.
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useTeamJoin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { serverUrl: string; memberKey: string }) =>
      unwrap(commands.teamJoin(v.serverUrl.trim(), v.memberKey)),
    onSuccess: () => qc.invalidateQueries({ queryKey: teamKeys.status }),
  });
}

export function useTeamLeave() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(commands.teamLeave()),
    onSuccess: () => qc.invalidateQueries({ queryKey: teamKeys.status }),
  });
}

/** Restarts the app so the next start opens the team (or the local) workspace. */
export function restartForTeam() {
  return unwrap(commands.teamRestart());
}

export type Role = "viewer" | "operator" | "admin";

/** A role the window has words for, or `null` for one it does not know (shown as sent). */
export function knownRole(role: string): Role | null {
  return role === "viewer" || role === "operator" || role === "admin" ? role : null;
}
