import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncRun } from "../../api/audience";
import { i18n, loadLanguage } from "../../i18n";
import { SyncStatus } from "./FollowersTab";

const listing = (early: number): SyncRun => ({
  state: "running",
  progress: { phase: "listing", fetched: 20_000, total: 45_000, early_details: early },
});

afterEach(async () => {
  await i18n.changeLanguage("zh-CN");
});

describe("a running follower sync", () => {
  it("says how many details a first sync already has while it lists", () => {
    render(<SyncStatus run={listing(1_800)} />);
    const bar = screen.getByTestId("followers-progress");
    expect(bar.textContent).toContain("获取粉丝列表");
    expect(bar.textContent).toContain("20,000 / 45,000");
    expect(screen.getByTestId("followers-early-details").textContent).toContain(
      "已取到 1,800 位粉丝的资料",
    );
  });

  it("says nothing of details when none came during the listing, or in the details phase", () => {
    const { unmount } = render(<SyncStatus run={listing(0)} />);
    expect(screen.queryByTestId("followers-early-details")).toBeNull();
    unmount();
    render(
      <SyncStatus
        run={{
          state: "running",
          progress: { phase: "details", fetched: 1_800, total: 45_000, early_details: 0 },
        }}
      />,
    );
    expect(screen.getByTestId("followers-progress").textContent).toContain("获取粉丝资料");
    expect(screen.queryByTestId("followers-early-details")).toBeNull();
  });

  it("says it in English too", async () => {
    await loadLanguage("en");
    await i18n.changeLanguage("en");
    render(<SyncStatus run={listing(1_800)} />);
    expect(screen.getByTestId("followers-early-details").textContent).toContain(
      "details already fetched for 1,800",
    );
  });
});
