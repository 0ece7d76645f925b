const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1000],
];
const relative = new Intl.RelativeTimeFormat("en", { numeric: "always" });

/** "in 59 minutes", "3 days ago": `at` relative to `now`, in the largest whole unit. */
export function relativeTime(at: Date, now: number = Date.now()): string {
  const delta = at.getTime() - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "second") return relative.format(Math.trunc(delta / size), unit);
  }
  return relative.format(0, "second");
}

/** `2026-01-02T03:04:05.000Z (in 59 minutes)`. */
export function dateWithRelative(at: Date, now: number = Date.now()): string {
  return `${at.toISOString()} (${relativeTime(at, now)})`;
}
