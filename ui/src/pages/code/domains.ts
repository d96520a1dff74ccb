// The domain lists' order, schemes and the check a value passes before it is sent: WeChat takes
// a bare origin (scheme and host, an optional port, no path) and silently drops the rest.
import type { ServerLists } from "../../api/code";

export type ServerList = keyof ServerLists;

/** The six lists in the order the platform's own page shows them, with the scheme each takes. */
export const SERVER_LISTS: readonly { key: ServerList; scheme: string }[] = [
  { key: "requestdomain", scheme: "https://" },
  { key: "wsrequestdomain", scheme: "wss://" },
  { key: "uploaddomain", scheme: "https://" },
  { key: "downloaddomain", scheme: "https://" },
  { key: "udpdomain", scheme: "udp://" },
  { key: "tcpdomain", scheme: "tcp://" },
];

export const WEBVIEW_SCHEME = "https://";

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d{1,5})?$/i;

/** Whether `value` is `scheme` + a host name (a port allowed, no path, no IP-free check). */
export function isDomain(value: string, scheme: string): boolean {
  if (!value.toLowerCase().startsWith(scheme)) return false;
  return HOST.test(value.slice(scheme.length));
}

/** The values of a list that are not `scheme` + a host. */
export function badDomains(values: readonly string[], scheme: string): string[] {
  return values.filter((v) => !isDomain(v, scheme));
}

/** Trimmed, blank ones and repeats dropped (a pasted list often has both). */
export function tidy(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter((v) => v !== ""))];
}
