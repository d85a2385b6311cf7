/**
 * How long a fuzzer runs and from which seed: a bounded count and a fixed seed in the test suite
 * (every run the same cases, so a failure replays), more of both through `npm run fuzz`
 * (WARDEN_FUZZ_COUNT, WARDEN_FUZZ_SEED). A failure message names the seed and the case number.
 */
export function fuzzSettings(defaultCount: number): { readonly count: number; readonly seed: number } {
  const count = Number(process.env.WARDEN_FUZZ_COUNT ?? defaultCount);
  const seed = Number(process.env.WARDEN_FUZZ_SEED ?? 20261206);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) throw new Error('WARDEN_FUZZ_COUNT and WARDEN_FUZZ_SEED must be whole numbers');
  return { count, seed };
}
