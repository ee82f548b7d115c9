/** Durations and sizes in the config may carry units; these turn them into numbers. */

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_B: Record<string, number> = {
  B: 1,
  KB: 1000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

export function ms(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new TypeError(`not a duration: ${value}`);
  return Number(m[1]) * (DURATION_MS[m[2]!] ?? 1);
}

export function bytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(B|KB|MB|GB|KiB|MiB|GiB)$/.exec(value);
  if (!m) throw new TypeError(`not a size: ${value}`);
  return Number(m[1]) * (SIZE_B[m[2]!] ?? 1);
}
