// Which clients are on which online version: core groups the mini programs by getversioninfo;
// this orders the groups newest version first (1.10.0 after 1.9.0, as people number them),
// puts "nothing online" last, names the clients, and says how many are on a given version.
import type { VersionSummary } from "../../api/code";

export interface Client {
  appid: string;
  /** The nickname, or the appid when the account has none. */
  name: string;
}

export interface VersionRow {
  /** `null`: nothing released yet. */
  version: string | null;
  clients: Client[];
}

export interface VersionOverview {
  rows: VersionRow[];
  /** Mini programs whose version could not be read, with core's reason. */
  unknown: (Client & { why: string })[];
  total: number;
}

/** Compares version strings by their numbers where both have numbers, else by text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/(\d+)/).filter((p) => p !== "");
  const pb = b.split(/(\d+)/).filter((p) => p !== "");
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const x = pa[k];
    const y = pb[k];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

export function summarizeVersions(
  summary: VersionSummary,
  names: ReadonlyMap<string, string>,
): VersionOverview {
  const client = (appid: string): Client => ({ appid, name: names.get(appid) || appid });
  const byName = (a: Client, b: Client) => a.name.localeCompare(b.name, "zh-CN");
  const rows = summary.groups
    .map((g) => ({ version: g.version, clients: g.appids.map(client).sort(byName) }))
    .sort((a, b) => {
      if (a.version === null) return b.version === null ? 0 : 1;
      if (b.version === null) return -1;
      return compareVersions(b.version, a.version);
    });
  const unknown = summary.unknown.map(([appid, why]) => ({ ...client(appid), why }));
  const total = rows.reduce((n, r) => n + r.clients.length, 0) + unknown.length;
  return { rows, unknown, total };
}

/** How many of the clients are on `version` now. */
export function onVersion(overview: VersionOverview, version: string): number {
  return overview.rows.find((r) => r.version === version)?.clients.length ?? 0;
}
