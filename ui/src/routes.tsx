import { Navigate, type RouteObject } from "react-router";
import { AppLayout } from "./layout/AppLayout";
import {
  AccountsPage,
  AudiencePage,
  AuthorizePage,
  CodePage,
  ComposePage,
  HistoryPage,
  JobsPage,
  OverviewPage,
  SettingsPage,
  TemplatesPage,
} from "./pages/pages";

// The pages are lazy components (pages.tsx); AppLayout's Suspense around the Outlet shows a
// spinner in the content area while one loads, so the sidebar and header stay put.
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
