// Every page of the navigation, for routes.tsx. Each page but 概览 is its own chunk, fetched
// the first time its route renders, so the first paint parses only the frame and the page the
// app opens on (#19). Each import() names the page's own module, never a barrel that
// re-exports several pages: a barrel would pull every page into one chunk again.
import { lazy } from "react";

// 概览 is where the app opens (the index route leads to it), so it stays in the entry chunk:
// loaded lazily it would add a second round trip before the first page shows, for a page that
// is small once its chart (echarts, loaded on its own by OverviewPage) is out.
export { OverviewPage } from "./overview/OverviewPage";

export const AccountsPage = lazy(() =>
  import("./accounts/AccountsPage").then((m) => ({ default: m.AccountsPage })),
);
export const AuthorizePage = lazy(() =>
  import("./AuthorizePage").then((m) => ({ default: m.AuthorizePage })),
);
export const AudiencePage = lazy(() =>
  import("./audience/AudiencePage").then((m) => ({ default: m.AudiencePage })),
);
export const CodePage = lazy(() =>
  import("./code/CodePage").then((m) => ({ default: m.CodePage })),
);
export const ComposePage = lazy(() =>
  import("./compose/ComposePage").then((m) => ({ default: m.ComposePage })),
);
export const HistoryPage = lazy(() =>
  import("./history/HistoryPage").then((m) => ({ default: m.HistoryPage })),
);
export const JobsPage = lazy(() =>
  import("./jobs/JobsPage").then((m) => ({ default: m.JobsPage })),
);
export const SettingsPage = lazy(() =>
  import("./SettingsPage").then((m) => ({ default: m.SettingsPage })),
);
export const TemplatesPage = lazy(() =>
  import("./templates/TemplatesPage").then((m) => ({ default: m.TemplatesPage })),
);
