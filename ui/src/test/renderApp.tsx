import { QueryClient } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render } from "@testing-library/react";
import { createMemoryRouter } from "react-router";
import { App } from "../App";
import type { AppInfo, ShellError } from "../bindings";
import { routes } from "../routes";

export const SANDBOX_INFO: AppInfo = {
  version: "0.1.0",
  data_dir: "/tmp/wxdesk-test",
  mode: "sandbox",
  platform_appid: "wx5a9d0c0e7f3b1a2c",
};

/** What the shell answers when a test does not care: no accounts, the sandbox configured. */
const SHELL_DEFAULTS: Record<string, unknown> = {
  list_accounts: [],
  get_settings: {
    mode: "sandbox",
    component_appid: "wx5a9d0c0e7f3b1a2c",
    relay_url: "http://127.0.0.1:1",
    egress: "direct",
    appsecret_saved: true,
    token_saved: true,
    aes_key_saved: true,
    relay_key_saved: true,
  },
  feed_parked: [],
  team_membership: null,
  team_status: null,
};

/** Renders the whole app at `path`, with `app_info` answered by `appInfo` (or failing with it)
 * and `answers` taking precedence over the defaults. An answer that is a function is called
 * with the command's arguments (to look at what the page sent). */
export function renderApp(
  appInfo: AppInfo | ShellError = SANDBOX_INFO,
  path = "/overview",
  answers: Record<string, unknown> = {},
) {
  const calls: string[] = [];
  mockIPC((cmd, args) => {
    calls.push(cmd);
    if (cmd === "app_info") {
      if ("code" in appInfo) throw appInfo;
      return appInfo;
    }
    if (cmd in answers) {
      const answer = answers[cmd];
      return typeof answer === "function" ? answer(args) : answer;
    }
    if (cmd in SHELL_DEFAULTS) return SHELL_DEFAULTS[cmd];
    throw new Error(`unexpected command ${cmd}`);
  });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result = render(<App router={router} queryClient={queryClient} />);
  return { ...result, router, calls };
}
