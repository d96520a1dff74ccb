import { describe, expect, it } from "vitest";
import { i18n, loadLanguage } from "../../i18n";
import { utcOffsetLabel } from "./zone";

/** A Date whose zone is `minutesBehindUtc` (what getTimezoneOffset answers). */
const at = (minutesBehindUtc: number) => {
  const d = new Date(0);
  d.getTimezoneOffset = () => minutesBehindUtc;
  return d;
};

describe("utcOffsetLabel", () => {
  it("names the window's zone by its offset, half hours included", () => {
    expect(utcOffsetLabel(at(-480))).toBe("UTC+8");
    expect(utcOffsetLabel(at(300))).toBe("UTC-5");
    expect(utcOffsetLabel(at(-330))).toBe("UTC+5:30");
    expect(utcOffsetLabel(at(0))).toBe("UTC");
  });

  it("goes into the time column's header in both languages, and the export says its zone", async () => {
    await i18n.changeLanguage("zh-CN");
    expect(i18n.t("send.history.colTime", { zone: "UTC+8" })).toBe("时间（UTC+8）");
    expect(i18n.t("send.history.exported", { n: 3, path: "a.csv" })).toContain("北京时间 UTC+8");
    await loadLanguage("en");
    await i18n.changeLanguage("en");
    expect(i18n.t("send.history.colTime", { zone: "UTC-5" })).toBe("Time (UTC-5)");
    expect(i18n.t("send.history.exported", { n: 3, path: "a.csv" })).toContain(
      "Beijing time, UTC+8",
    );
    await i18n.changeLanguage("zh-CN");
  });
});
