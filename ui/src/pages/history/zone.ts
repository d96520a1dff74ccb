/**
 * The window's time zone as an offset from UTC ("UTC+8", "UTC-3:30", "UTC"), for column headers:
 * the screen shows local time and the CSV export Beijing time (UTC+8), and each says which, so
 * the two can be matched.
 */
export function utcOffsetLabel(at: Date = new Date()): string {
  // getTimezoneOffset is minutes *behind* UTC: -480 in Beijing.
  const ahead = -at.getTimezoneOffset();
  if (ahead === 0) return "UTC";
  const sign = ahead > 0 ? "+" : "-";
  const abs = Math.abs(ahead);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return `UTC${sign}${h}${m ? `:${String(m).padStart(2, "0")}` : ""}`;
}
