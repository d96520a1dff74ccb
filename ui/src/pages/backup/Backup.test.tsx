import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App as AntApp } from "antd";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import "../../i18n";
import type { BackupResultView, BackupStatusView } from "../../api/backup";
import { useUiStore } from "../../store/ui";
import { BackupCard } from "./BackupCard";

const EMPTY: BackupStatusView = {
  restore_allowed: true,
  platform_configured: false,
  accounts: 0,
  jobs: 0,
  lists: 0,
  data_dir: "/tmp/wxdesk-test",
  min_passphrase_chars: 8,
};

const EXPORTED: BackupResultView = {
  path: "/home/u/wxdesk-备份-2026-11-22.wxbak",
  summary: {
    secrets: 5,
    accounts_with_refresh_token: 1,
    database_bytes: 65536,
    created_at: 1_795_000_000,
  },
};

/** The 备份与恢复 card with the shell answering from `answers`; returns every call made. */
function renderCard(answers: Record<string, unknown>) {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    if (!(cmd in answers)) throw new Error(`unexpected command ${cmd}`);
    return answers[cmd];
  });
  const wrap = (n: ReactNode) => (
    <QueryClientProvider client={new QueryClient()}>
      <AntApp>{n}</AntApp>
    </QueryClientProvider>
  );
  render(wrap(<BackupCard />));
  return calls;
}

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("导出加密备份", () => {
  it("refuses a short passphrase with the rule and opens no save dialog", async () => {
    const calls = renderCard({ backup_status: EMPTY });
    fireEvent.click(await screen.findByTestId("backup-export"));
    expect((await screen.findByTestId("backup-export-modal")).textContent).toContain(
      "忘记口令就无法恢复备份",
    );
    type("backup-passphrase", "1234567");
    type("backup-confirm", "1234567");
    fireEvent.click(screen.getByTestId("backup-export-go"));
    expect(await screen.findByText("口令至少 8 个字符")).toBeTruthy();
    expect(calls.map((c) => c.cmd)).toEqual(["backup_status"]);
  });

  it("refuses a confirmation that differs", async () => {
    const calls = renderCard({ backup_status: EMPTY });
    fireEvent.click(await screen.findByTestId("backup-export"));
    type("backup-passphrase", "correct horse battery");
    type("backup-confirm", "correct horse batterz");
    fireEvent.click(screen.getByTestId("backup-export-go"));
    expect(await screen.findByText("两次输入的口令不一致")).toBeTruthy();
    expect(calls.map((c) => c.cmd)).toEqual(["backup_status"]);
  });

  it("exports to the chosen file and shows what the backup holds", async () => {
    const calls = renderCard({
      backup_status: EMPTY,
      "plugin:dialog|save": EXPORTED.path,
      backup_export: EXPORTED,
    });
    fireEvent.click(await screen.findByTestId("backup-export"));
    type("backup-passphrase", "八个汉字的口令啊");
    type("backup-confirm", "八个汉字的口令啊");
    fireEvent.click(screen.getByTestId("backup-export-go"));
    const done = await screen.findByTestId("backup-export-done");
    expect(done.textContent).toContain("备份已导出");
    expect(done.textContent).toContain("账号刷新令牌1 个");
    expect(done.textContent).toContain("钥匙串条目5 个");
    expect(done.textContent).toContain(EXPORTED.path);
    const save = calls.find((c) => c.cmd === "plugin:dialog|save");
    expect(save?.args).toMatchObject({
      options: { defaultPath: expect.stringMatching(/^wxdesk-备份-\d{4}-\d{2}-\d{2}\.wxbak$/) },
    });
    expect(calls.find((c) => c.cmd === "backup_export")?.args).toEqual({
      passphrase: "八个汉字的口令啊",
      path: EXPORTED.path,
    });
  });
});

describe("从备份恢复", () => {
  it("is disabled with the way out when the workspace is not empty", async () => {
    renderCard({
      backup_status: { ...EMPTY, restore_allowed: false, platform_configured: true, accounts: 2 },
    });
    await screen.findByTestId("restore-disabled");
    await waitFor(() =>
      expect((screen.getByTestId("backup-restore") as HTMLButtonElement).disabled).toBe(true),
    );
  });

  it("restores the chosen file and says the app restarts", async () => {
    const calls = renderCard({
      backup_status: EMPTY,
      "plugin:dialog|open": "/media/usb/wxdesk-备份-2026-11-20.wxbak",
      backup_restore: { ...EXPORTED, path: "/media/usb/wxdesk-备份-2026-11-20.wxbak" },
    });
    const button = await screen.findByTestId("backup-restore");
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(button);
    fireEvent.click(await screen.findByTestId("restore-pick"));
    await waitFor(() =>
      expect(screen.getByTestId("restore-file").textContent).toBe(
        "/media/usb/wxdesk-备份-2026-11-20.wxbak",
      ),
    );
    type("restore-passphrase", "旧电脑上的口令");
    fireEvent.click(screen.getByTestId("restore-go"));
    const done = await screen.findByTestId("restore-done");
    expect(done.textContent).toContain("恢复完成，应用将重新启动");
    expect(done.textContent).toContain("已恢复 1 个账号的刷新令牌和 5 个钥匙串条目");
    expect(calls.find((c) => c.cmd === "backup_restore")?.args).toEqual({
      passphrase: "旧电脑上的口令",
      path: "/media/usb/wxdesk-备份-2026-11-20.wxbak",
    });
  });
});

describe("in English", () => {
  it("names the backup file, its filter and both file dialogs in English", async () => {
    const calls = renderCard({
      backup_status: EMPTY,
      set_language: null,
      "plugin:dialog|save": "/home/u/wxdesk-backup-2026-11-22.wxbak",
      backup_export: { ...EXPORTED, path: "/home/u/wxdesk-backup-2026-11-22.wxbak" },
      "plugin:dialog|open": "/media/usb/wxdesk-backup-2026-11-20.wxbak",
    });
    useUiStore.getState().setLanguage("en");
    fireEvent.click(await screen.findByText("Export encrypted backup"));
    type("backup-passphrase", "correct horse battery");
    type("backup-confirm", "correct horse battery");
    fireEvent.click(screen.getByTestId("backup-export-go"));
    await screen.findByTestId("backup-export-done");
    const save = calls.find((c) => c.cmd === "plugin:dialog|save");
    expect(save?.args).toMatchObject({
      options: {
        title: "Export the encrypted backup to",
        defaultPath: expect.stringMatching(/^wxdesk-backup-\d{4}-\d{2}-\d{2}\.wxbak$/),
        filters: [{ name: "wxdesk backup", extensions: ["wxbak"] }],
      },
    });

    fireEvent.click(
      within(screen.getByTestId("backup-export-done")).getByRole("button", { name: "Close" }),
    );
    fireEvent.click(screen.getByTestId("backup-restore"));
    fireEvent.click(await screen.findByTestId("restore-pick"));
    await waitFor(() =>
      expect(screen.getByTestId("restore-file").textContent).toBe(
        "/media/usb/wxdesk-backup-2026-11-20.wxbak",
      ),
    );
    const open = calls.find((c) => c.cmd === "plugin:dialog|open");
    expect(open?.args).toMatchObject({
      options: {
        title: "Choose backup file",
        filters: [{ name: "wxdesk backup", extensions: ["wxbak"] }],
      },
    });
    for (const c of [save, open]) {
      expect(JSON.stringify(c?.args)).not.toMatch(/[\u3000-\u9fff]/);
    }
  });
});
