import {
  CodeOutlined,
  DashboardOutlined,
  FileTextOutlined,
  HistoryOutlined,
  SafetyCertificateOutlined,
  ScheduleOutlined,
  SendOutlined,
  SettingOutlined,
  TeamOutlined,
} from "@ant-design/icons";
import type { ComponentType } from "react";

export type NavKey =
  | "overview"
  | "accounts"
  | "templates"
  | "audience"
  | "compose"
  | "jobs"
  | "history"
  | "code"
  | "settings";

export interface NavItem {
  key: NavKey;
  path: `/${NavKey}`;
  /** An @ant-design/icons component (a component, not an element: firstFrame.test.ts draws each
   * and holds the first frame's outline, firstFrame.ts's NAV_ICONS, against it). */
  icon: ComponentType;
}

/** The sidebar of the final product, in its order. Labels come from i18n `nav.<key>`. */
export const NAV_ITEMS: readonly NavItem[] = [
  { key: "overview", path: "/overview", icon: DashboardOutlined },
  { key: "accounts", path: "/accounts", icon: SafetyCertificateOutlined },
  { key: "templates", path: "/templates", icon: FileTextOutlined },
  { key: "audience", path: "/audience", icon: TeamOutlined },
  { key: "compose", path: "/compose", icon: SendOutlined },
  { key: "jobs", path: "/jobs", icon: ScheduleOutlined },
  { key: "history", path: "/history", icon: HistoryOutlined },
  { key: "code", path: "/code", icon: CodeOutlined },
  { key: "settings", path: "/settings", icon: SettingOutlined },
];

export function navKeyForPath(pathname: string): NavKey | undefined {
  return NAV_ITEMS.find((item) => pathname === item.path || pathname.startsWith(`${item.path}/`))
    ?.key;
}
