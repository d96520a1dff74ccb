import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App as AntApp } from "antd";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import type { Membership, TeamStatus } from "../../api/team";
import { i18n } from "../../i18n";
import { TeamBadge } from "../../layout/TeamBadge";
import { TeamCard } from "./TeamCard";

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

const ALICE: Membership = {
  server_url: "https://team.example.com",
  member: "alice",
  role: "operator",
  component_appid: "wx5a9d0c0e7f3b1a2c",
  joined_at: 1_795_000_000,
};

const ACCEPTED: TeamStatus = {
  membership: ALICE,
  accepted: true,
  role_now: "operator",
  problem: null,
};

const REFUSED: TeamStatus = {
  membership: ALICE,
  accepted: false,
  role_now: null,
  problem: {
    zh: "团队服务器不认识这个成员密钥（请管理员用 wxdesk-relay members add 生成新密钥）",
    en: "The team server does not know this member key (ask the admin for a new key).",
  },
};

type Answer = unknown | ((args: Record<string, unknown>) => unknown);

/** `node` with the shell answering from `answers` (a value, or a function of the call's
 * arguments); returns every call made. */
function renderWith(node: ReactNode, answers: Record<string, Answer>) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    if (!(cmd in answers)) throw new Error(`unexpected command ${cmd}`);
    const answer = answers[cmd];
    return typeof answer === "function" ? answer(a) : answer;
  });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <AntApp>{node}</AntApp>
    </QueryClientProvider>,
  );
  return calls;
}

async function type(testId: string, value: string) {
  fireEvent.change(await screen.findByTestId(testId), { target: { value } });
}

describe("设置 → 团队, not joined", () => {
  it("joins with the typed server and key, then says it restarts and restarts", async () => {
    let joined = false;
    const calls = renderWith(<TeamCard />, {
      team_status: () => (joined ? ACCEPTED : null),
      team_join: () => {
        joined = true;
        return ALICE;
      },
      team_restart: null,
    });
    const card = await screen.findByTestId("team-card");
    await waitFor(() => expect(card.textContent).toContain("wxdesk-relay members add"));
    expect(card.textContent).toContain("本地工作区原样保留");
    await type("team-server-url", " https://team.example.com ");
    await type("team-member-key", "wxm_secret-key");
    fireEvent.click(screen.getByTestId("team-join"));

    const text = await screen.findByTestId("team-restart-text");
    expect(text.textContent).toContain("alice（操作员）");
    expect(text.textContent).toContain("将重新启动");
    const join = calls.find((c) => c.cmd === "team_join");
    expect(join?.args).toEqual({
      serverUrl: "https://team.example.com",
      memberKey: "wxm_secret-key",
    });
    expect(calls.some((c) => c.cmd === "team_restart")).toBe(false);
    fireEvent.click(screen.getByTestId("team-restart"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "team_restart")).toBe(true));
  });

  it("asks for both fields before calling the shell", async () => {
    const calls = renderWith(<TeamCard />, { team_status: null });
    fireEvent.click(await screen.findByTestId("team-join"));
    expect(await screen.findByText("请填写团队服务器地址")).toBeTruthy();
    expect(await screen.findByText("请填写成员密钥")).toBeTruthy();
    expect(calls.map((c) => c.cmd)).toEqual(["team_status"]);
  });

  it("shows the server's refusal and stays on the form, without restarting", async () => {
    const calls = renderWith(<TeamCard />, {
      team_status: null,
      team_join: () => {
        throw {
          code: "invalid",
          message: "团队服务器拒绝了这个成员密钥",
          hint: "请向管理员要一个新密钥",
          errcode: null,
        };
      },
    });
    await type("team-server-url", "https://team.example.com");
    await type("team-member-key", "wxm_wrong");
    fireEvent.click(await screen.findByTestId("team-join"));
    const err = await screen.findByTestId("team-join-error");
    expect(err.textContent).toContain("未能加入团队");
    expect(err.textContent).toContain("团队服务器拒绝了这个成员密钥。请向管理员要一个新密钥");
    expect(screen.queryByTestId("team-restart")).toBeNull();
    expect(calls.map((c) => c.cmd)).toEqual(["team_status", "team_join"]);
  });
});

describe("设置 → 团队, joined", () => {
  it("shows the server, the member, the role and that the key is accepted", async () => {
    renderWith(<TeamCard />, { team_status: ACCEPTED });
    expect((await screen.findByTestId("team-member")).textContent).toBe("alice");
    expect(screen.getByTestId("team-role").textContent).toBe("操作员");
    expect(screen.getByTestId("team-membership").textContent).toContain("https://team.example.com");
    expect(screen.getByTestId("team-status").textContent).toBe("正常");
    expect(screen.queryByTestId("team-problem")).toBeNull();
  });

  it("says the key is not accepted, with the server's reason, and a changed role", async () => {
    renderWith(<TeamCard />, { team_status: { ...ACCEPTED, role_now: "viewer" } });
    expect((await screen.findByTestId("team-role")).textContent).toBe("只读 (加入时为操作员)");
    cleanupAndRender(REFUSED);
    const tag = await screen.findByTestId("team-status");
    expect(tag.textContent).toBe("密钥未通过");
    expect(screen.getByTestId("team-problem").textContent).toContain(
      "团队服务器不认识这个成员密钥",
    );
  });

  it("leaves only after 离开团队 in the confirmation, then restarts", async () => {
    let joined = true;
    const calls = renderWith(<TeamCard />, {
      team_status: () => (joined ? ACCEPTED : null),
      team_leave: () => {
        joined = false;
        return true;
      },
      team_restart: null,
    });
    fireEvent.click(await screen.findByTestId("team-leave"));
    // The buttons say what they do (离开团队 / 取消, no 确定); 取消 leaves the desk in the team.
    let dialog = await confirmDialog("离开团队？");
    expect(buttonTexts(dialog)).toEqual(["取消", "离开团队"]);
    fireEvent.click(button(dialog, "取消"));
    expect(calls.some((c) => c.cmd === "team_leave")).toBe(false);
    expect(screen.queryByTestId("team-restart")).toBeNull();

    fireEvent.click(screen.getByTestId("team-leave"));
    dialog = await confirmDialog("离开团队？");
    fireEvent.click(button(dialog, "离开团队"));
    const text = await screen.findByTestId("team-restart-text");
    expect(text.textContent).toContain("回到本机的本地工作区");
    expect(calls.filter((c) => c.cmd === "team_leave")).toHaveLength(1);
    fireEvent.click(screen.getByTestId("team-restart"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "team_restart")).toBe(true));
  });
});

/** The newest confirmation titled `title` (a closed one lingers in the DOM while it fades). */
async function confirmDialog(title: string): Promise<HTMLElement> {
  const titles = await screen.findAllByText(title);
  const dialog = titles[titles.length - 1]?.closest(".ant-modal");
  if (!(dialog instanceof HTMLElement)) throw new Error(`no dialog titled ${title}`);
  return dialog;
}

function buttonTexts(dialog: HTMLElement): string[] {
  return [...dialog.querySelectorAll("button")].map((b) =>
    (b.textContent ?? "").replace(/\s/g, ""),
  );
}

function button(dialog: HTMLElement, text: string): HTMLElement {
  const b = [...dialog.querySelectorAll("button")].find(
    (x) => (x.textContent ?? "").replace(/\s/g, "") === text.replace(/\s/g, ""),
  );
  if (!b) throw new Error(`no button ${text} in ${buttonTexts(dialog).join(", ")}`);
  return b;
}

/** Renders the card again, alone, for another status. */
function cleanupAndRender(status: TeamStatus) {
  cleanup();
  renderWith(<TeamCard />, { team_status: status });
}

describe("English", () => {
  it("has no Chinese on the join form, a refusal, the joined card or the header", async () => {
    await act(() => i18n.changeLanguage("en"));
    try {
      renderWith(<TeamCard />, {
        team_status: null,
        team_join: () => {
          throw {
            code: "invalid",
            message: "The team server refused this member key",
            hint: "Ask the admin for a new key",
            errcode: null,
          };
        },
      });
      await type("team-server-url", "https://team.example.com");
      await type("team-member-key", "wxm_wrong");
      fireEvent.click(await screen.findByTestId("team-join"));
      await screen.findByTestId("team-join-error");
      expect(screen.getByTestId("team-card").textContent).toContain("Join team");
      expect(document.body.textContent).not.toMatch(CJK);

      cleanupAndRender(REFUSED);
      expect((await screen.findByTestId("team-role")).textContent).toBe("Operator");
      expect(screen.getByTestId("team-status").textContent).toBe("Key not accepted");
      expect(screen.getByTestId("team-problem").textContent).toContain("does not know");
      fireEvent.click(screen.getByTestId("team-leave"));
      const dialog = await confirmDialog("Leave the team?");
      expect(buttonTexts(dialog)).toEqual(["Cancel", "Leaveteam"]);
      expect(document.body.textContent).not.toMatch(CJK);

      cleanup();
      renderWith(<TeamBadge />, { team_membership: ALICE });
      expect((await screen.findByTestId("team-badge")).textContent).toBe("Team · alice · Operator");
      expect(document.body.textContent).not.toMatch(CJK);
    } finally {
      await act(() => i18n.changeLanguage("zh-CN"));
    }
  });
});

describe("the header", () => {
  it("shows the member and role of the session's team workspace", async () => {
    renderWith(<TeamBadge />, { team_membership: { ...ALICE, role: "admin" } });
    expect((await screen.findByTestId("team-badge")).textContent).toBe("团队 · alice · 管理员");
  });
});

describe("操作记录", () => {
  const ADMIN: TeamStatus = {
    ...ACCEPTED,
    membership: { ...ALICE, role: "admin" },
    role_now: "admin",
  };
  const newest = {
    id: 3,
    at: "2026-12-04T02:00:00Z",
    member: "bob",
    action: "list.create",
    what: {
      zh: "新建了名单「十一月」（账号 wx1，2 人）",
      en: 'Made the list "Nov" (account wx1, 2 members)',
    },
  };
  const older = {
    id: 1,
    at: "2026-12-03T02:00:00Z",
    member: null,
    action: "member.add",
    what: { zh: "添加了成员 bob（operator）", en: "Added member bob (operator)" },
  };
  const audit = (a: Record<string, unknown>) =>
    a.before === 3
      ? { entries: [older], next_before: null }
      : { entries: [newest], next_before: 3 };

  it("shows an admin who did what, newest first, and older entries on request", async () => {
    const calls = renderWith(<TeamCard />, { team_status: ADMIN, team_audit: audit });
    const card = await screen.findByTestId("team-audit");
    await waitFor(() => expect(card.textContent).toContain("新建了名单「十一月」"));
    expect(card.textContent).toContain("bob");
    fireEvent.click(await screen.findByTestId("team-audit-more"));
    await waitFor(() => expect(card.textContent).toContain("添加了成员 bob"));
    // The entry the server's administrator made at its shell names the server.
    expect(card.textContent).toContain("服务器");
    const whats = screen.getAllByTestId("team-audit-what").map((e) => e.textContent);
    expect(whats).toEqual(["新建了名单「十一月」（账号 wx1，2 人）", "添加了成员 bob（operator）"]);
    expect(calls.filter((c) => c.cmd === "team_audit").map((c) => c.args.before)).toEqual([
      null,
      3,
    ]);
    expect(screen.queryByTestId("team-audit-more")).toBeNull();
  });

  it("is in English on an English screen", async () => {
    await act(() => i18n.changeLanguage("en"));
    try {
      renderWith(<TeamCard />, { team_status: ADMIN, team_audit: audit });
      const card = await screen.findByTestId("team-audit");
      await waitFor(() => expect(card.textContent).toContain('Made the list "Nov"'));
      expect(card.textContent).toContain("Audit log");
      expect(card.textContent).not.toMatch(CJK);
    } finally {
      await act(() => i18n.changeLanguage("zh-CN"));
    }
  });

  it("is not shown to an operator, nor asked for", async () => {
    const calls = renderWith(<TeamCard />, { team_status: ACCEPTED });
    await screen.findByTestId("team-membership");
    expect(screen.queryByTestId("team-audit")).toBeNull();
    expect(calls.some((c) => c.cmd === "team_audit")).toBe(false);
  });
});
