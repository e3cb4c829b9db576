const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "500ms" | "30s" | "5m" | "1h" -> milliseconds (the schema has checked the form). */
export function durationMs(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`duration ${JSON.stringify(text)}: write it as 500ms, 30s, 5m or 1h`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
