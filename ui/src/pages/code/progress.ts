// How far a rollout has come, for its bar: each client counts by the step it reached on the
// way to the rollout's target (a client under review is half-way to released), not only once
// it is done — a rollout waiting on WeChat's reviews would otherwise sit at 0 for days.
import type { RolloutTarget, RowCounts, RowState } from "../../api/code";
import type { RolloutStatus } from "../../bindings";

/** The steps in order; a delayed review stands where the review does. */
const PATH: RowState[] = [
  "pending",
  "committing",
  "committed",
  "submitting",
  "auditing",
  "audit_passed",
  "releasing",
  "released",
];

const DONE: Record<RolloutTarget, RowState> = {
  committed: "committed",
  audited: "audit_passed",
  released: "released",
};

/** 0–1: how much of its way to `target` a client in `state` has gone. */
export function stepShare(state: RowState, target: RolloutTarget): number {
  if (state === "audit_failed" || state === "failed" || state === "cancelled") return 1;
  const at = PATH.indexOf(state === "audit_delayed" ? "auditing" : state);
  const end = PATH.indexOf(DONE[target]);
  return Math.min(1, at / end);
}

/** The bar's percentages: how far all clients have come, and how many are done. */
export function rolloutPercent(
  counts: RowCounts,
  target: RolloutTarget,
): { percent: number; done: number } {
  if (counts.total === 0) return { percent: 0, done: 0 };
  let sum = 0;
  for (const [state, n] of Object.entries(counts.by_state)) {
    sum += stepShare(state as RowState, target) * (n ?? 0);
  }
  return {
    percent: Math.floor((sum / counts.total) * 100),
    done: Math.floor((counts.done / counts.total) * 100),
  };
}

/**
 * The status and counts a rollout's card shows. While the list still says it runs, the runner's
 * live report is the newer word; once the list says it ended, the list is — the last live report
 * can predate the end (a page that kept it showed 进行中 under three released rows).
 */
export function shownRollout<S extends { status: RolloutStatus; counts: RowCounts }>(
  listed: S,
  live: { status: RolloutStatus; counts: RowCounts } | null,
): { status: RolloutStatus; counts: RowCounts } {
  if (listed.status !== "running" || !live) {
    return { status: listed.status, counts: listed.counts };
  }
  return { status: live.status, counts: live.counts };
}
