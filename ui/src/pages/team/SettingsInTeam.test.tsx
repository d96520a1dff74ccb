import { act, cleanup, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { i18n } from "../../i18n";
import { renderApp, SANDBOX_INFO } from "../../test/renderApp";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

const MEMBERSHIP = {
  server_url: "https://team.example.com",
  member: "alice",
  role: "operator",
  component_appid: "wx5a9d0c0e7f3b1a2c",
  joined_at: 1_795_000_000,
};
const TEAM_INFO = { ...SANDBOX_INFO, mode: "production" as const };
const TEAM_ANSWERS = {
  team_membership: MEMBERSHIP,
  team_status: { membership: MEMBERSHIP, accepted: true, role_now: "operator", problem: null },
  get_settings: {
    mode: "production",
    component_appid: "wx5a9d0c0e7f3b1a2c",
    relay_url: "https://team.example.com",
    egress: "relay",
    appsecret_saved: false,
    token_saved: false,
    aes_key_saved: false,
    relay_key_saved: true,
  },
};

afterEach(cleanup);

describe("设置 in a team workspace", () => {
  it("says the server manages the platform and offers no platform form to overwrite it", async () => {
    renderApp(TEAM_INFO, "/settings", TEAM_ANSWERS);
    expect(await screen.findByTestId("team-managed")).toBeTruthy();
    await screen.findByTestId("app-info");
    expect(screen.queryByTestId("input-component_appid")).toBeNull();
    expect(screen.queryByTestId("save")).toBeNull();
  });

  it("keeps the platform form on a desk that is not in a team", async () => {
    renderApp(TEAM_INFO, "/settings");
    expect(await screen.findByTestId("input-component_appid")).toBeTruthy();
    expect(screen.queryByTestId("team-managed")).toBeNull();
  });

  it("says it in English without Chinese", async () => {
    await act(() => i18n.changeLanguage("en"));
    try {
      renderApp(TEAM_INFO, "/settings", TEAM_ANSWERS);
      const note = await screen.findByTestId("team-managed");
      await waitFor(() => expect(note.textContent).toContain("team server"));
      expect(CJK.test(note.textContent ?? "")).toBe(false);
    } finally {
      await act(() => i18n.changeLanguage("zh-CN"));
    }
  });
});
