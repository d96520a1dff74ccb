// 备份与恢复: the encrypted workspace backup (设置) and the restore into an empty workspace
// (首次启动 / 设置), then the restart. The passphrase goes to the shell once per call and is
// never kept in a query cache or state outside the dialog.
import { useMutation, useQuery } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./index";

export type {
  BackupReport as BackupResultView,
  BackupStatus as BackupStatusView,
} from "../bindings";

export const backupKeys = {
  status: ["backup", "status"] as const,
};

/** Whether 从备份恢复 is allowed (the workspace is empty) and the passphrase rule. */
export function useBackupStatus() {
  return useQuery({
    queryKey: backupKeys.status,
    queryFn: () => unwrap(commands.backupStatus()),
    // Cheap, and the workspace changes under other pages (体验沙箱, 保存设置): ask on every mount.
    refetchOnMount: "always",
  });
}

export function useBackupExport() {
  return useMutation({
    mutationFn: (v: { passphrase: string; path: string }) =>
      unwrap(commands.backupExport(v.passphrase, v.path)),
  });
}

export function useBackupRestore() {
  return useMutation({
    mutationFn: (v: { passphrase: string; path: string }) =>
      unwrap(commands.backupRestore(v.passphrase, v.path)),
  });
}

/** Restarts the app so every service starts from the restored workspace. */
export function restartApp() {
  return unwrap(commands.backupRestart());
}

/** The same minimum as the shell and the CLI enforce. */
export const MIN_PASSPHRASE_CHARS = 8;

export type PassphraseProblem = "tooShort" | "mismatch";

/**
 * What is wrong with a new backup passphrase and its confirmation, or `null` when it may be
 * used. Length counts characters (a Chinese character is one), as the shell does.
 */
export function passphraseProblem(
  passphrase: string,
  confirm: string,
  min: number = MIN_PASSPHRASE_CHARS,
): PassphraseProblem | null {
  if ([...passphrase].length < min) return "tooShort";
  if (passphrase !== confirm) return "mismatch";
  return null;
}

/** `wxdesk-备份-2026-11-22.wxbak` with `word` = 备份 (`backup` in English), dated in local time. */
export function defaultBackupName(word: string, now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `wxdesk-${word}-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.wxbak`;
}

/** The file filter of the save and open dialogs, named in the window's language. */
export function backupFilters(name: string) {
  return [{ name, extensions: ["wxbak"] }];
}
