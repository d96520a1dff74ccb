// The composers' unsent drafts, kept by core per composer, account and template (they can name
// openids, so they live with the rest of the user's data and its backups, not in the webview).
import { commands, type DraftKind } from "../bindings";
import { unwrap } from "./index";

export type { ComposeDraft, DraftKind } from "../bindings";

export const draftsApi = {
  /** The account's drafts for one composer, the most recently saved first. */
  list: (kind: DraftKind, appid: string) => unwrap(commands.composeDrafts(kind, appid)),
  /** Saves (replaces) one; resolves to when it was saved (Unix ms). */
  save: (kind: DraftKind, appid: string, templateId: string, body: string) =>
    unwrap(commands.composeDraftSave(kind, appid, templateId, body)).then((at) => at ?? Date.now()),
  remove: (kind: DraftKind, appid: string, templateId: string) =>
    unwrap(commands.composeDraftDelete(kind, appid, templateId)),
};
