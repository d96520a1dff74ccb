import { describe, expect, it } from "vitest";
import { defaultBackupName, passphraseProblem } from "./backup";

describe("passphraseProblem", () => {
  it("asks for at least eight characters, counting a Chinese character as one", () => {
    expect(passphraseProblem("1234567", "1234567")).toBe("tooShort");
    expect(passphraseProblem("", "")).toBe("tooShort");
    expect(passphraseProblem("12345678", "12345678")).toBeNull();
    expect(passphraseProblem("八个汉字的口令啊", "八个汉字的口令啊")).toBeNull();
    expect(passphraseProblem("七个汉字的口令", "七个汉字的口令")).toBe("tooShort");
  });

  it("refuses a confirmation that differs, once the length is fine", () => {
    expect(passphraseProblem("correct horse", "correct hors")).toBe("mismatch");
    expect(passphraseProblem("correct horse", "")).toBe("mismatch");
  });
});

describe("defaultBackupName", () => {
  it("dates the file name in local time with zero-padded month and day", () => {
    expect(defaultBackupName("备份", new Date(2026, 10, 22, 23, 59))).toBe(
      "wxdesk-备份-2026-11-22.wxbak",
    );
    expect(defaultBackupName("backup", new Date(2027, 0, 5))).toBe(
      "wxdesk-backup-2027-01-05.wxbak",
    );
  });
});
