/** Small statistics over latency samples (ms). */

/** The q-quantile (0..1) by nearest rank; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);
export const p95 = (samples: readonly number[]): number => quantile(samples, 0.95);

/** Formats ms with a precision that fits its size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** `x / warden` as `1.00×`; n/a when either is missing. */
export function ratio(value: number, warden: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(warden) || warden === 0) return 'n/a';
  return `${(value / warden).toFixed(2)}×`;
}
