import type { TFunction } from "i18next";
import { knownRole } from "../../api/team";

// Apart from TeamCard so the header's TeamBadge, part of the first paint, does not pull the
// whole card (its forms and modals) into the entry chunk with it.

/** 只读 / 操作员 / 管理员 in the window's language; a role the window does not know, as sent. */
export function roleText(t: TFunction, role: string): string {
  const known = knownRole(role);
  return known ? t(`team.roles.${known}`) : role;
}
