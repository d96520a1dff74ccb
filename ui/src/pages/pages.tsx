// Every page of the navigation, re-exported for routes.tsx.

export { AccountsPage } from "./accounts/AccountsPage";
export { AudiencePage } from "./audience/AudiencePage";
export { CodePage } from "./code/CodePage";
export { ComposePage } from "./compose/ComposePage";
export { HistoryPage } from "./history/HistoryPage";
export { JobsPage } from "./jobs/JobsPage";
export { OverviewPage } from "./overview/OverviewPage";
export { TemplatesPage } from "./templates/TemplatesPage";
