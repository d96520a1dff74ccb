import { EmptyState, PageShell } from "./PageShell";

// Shells for now: each says what is missing and leads to the step that comes first.

export function OverviewPage() {
  return (
    <PageShell page="overview">
      <EmptyState page="overview" to="/accounts" />
    </PageShell>
  );
}

export { AccountsPage } from "./accounts/AccountsPage";

export { AudiencePage } from "./audience/AudiencePage";
export { TemplatesPage } from "./templates/TemplatesPage";

export function ComposePage() {
  return (
    <PageShell page="compose">
      <EmptyState page="compose" to="/templates" />
    </PageShell>
  );
}

export function JobsPage() {
  return (
    <PageShell page="jobs">
      <EmptyState page="jobs" to="/compose" />
    </PageShell>
  );
}

export function HistoryPage() {
  return (
    <PageShell page="history">
      <EmptyState page="history" to="/compose" />
    </PageShell>
  );
}
