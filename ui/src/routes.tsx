import { Navigate, type RouteObject } from "react-router";
import { AppLayout } from "./layout/AppLayout";
import { AuthorizePage } from "./pages/AuthorizePage";
import {
  AccountsPage,
  AudiencePage,
  CodePage,
  ComposePage,
  HistoryPage,
  JobsPage,
  OverviewPage,
  TemplatesPage,
} from "./pages/pages";
import { SettingsPage } from "./pages/SettingsPage";

export const routes: RouteObject[] = [
  {
    path: "/",
    element: <AppLayout />,
    children: [
      { index: true, element: <Navigate to="/overview" replace /> },
      { path: "overview", element: <OverviewPage /> },
      { path: "accounts", element: <AccountsPage /> },
      { path: "accounts/authorize", element: <AuthorizePage /> },
      { path: "templates", element: <TemplatesPage /> },
      { path: "audience", element: <AudiencePage /> },
      { path: "compose", element: <ComposePage /> },
      { path: "jobs", element: <JobsPage /> },
      { path: "history", element: <HistoryPage /> },
      { path: "code", element: <CodePage /> },
      { path: "settings", element: <SettingsPage /> },
      { path: "*", element: <Navigate to="/overview" replace /> },
    ],
  },
];
