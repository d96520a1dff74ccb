// The English table, a chunk of its own: the first paint carries only the default language's
// strings (#19). Loaded through loadLanguage in ./index.

import type { Translation } from "./index";
import archiveEn from "./locales/archive.en.json";
import audienceEn from "./locales/audience.en.json";
import backupEn from "./locales/backup.en.json";
import codeEn from "./locales/code.en.json";
import en from "./locales/en.json";
import feedEn from "./locales/feed.en.json";
import interactionsEn from "./locales/interactions.en.json";
import messagingEn from "./locales/messaging.en.json";
import sendEn from "./locales/send.en.json";
import shellEn from "./locales/shell.en.json";
import teamEn from "./locales/team.en.json";
import templatesEn from "./locales/templates.en.json";

export const enAll = {
  ...en,
  shell: shellEn,
  templates: templatesEn,
  audience: audienceEn,
  send: sendEn,
  interactions: interactionsEn,
  backup: backupEn,
  feed: feedEn,
  code: codeEn,
  messaging: messagingEn,
  team: teamEn,
  archive: archiveEn,
} satisfies Translation;
