// How far a rollout has come, for its bar: each client counts by the step it reached on the
// way to the rollout's target (a client under review is half-way to released), not only once
// it is done — a rollout waiting on WeChat's reviews would otherwise sit at 0 for days.
import type { RolloutTarget, RowCounts, RowState } from "../../api/code";

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
