/**
 * V8 settings for the supervisor process. PID 1 idles nearly all its life, yet with V8's defaults
 * a few dozen calls of a path helper at boot already compile it with TurboFan, and that first
 * compile touches ~3.5 MB of the compiler's own code: memory held for the container's whole
 * life. TurboFan here waits for 16× more of V8's profiler ticks (and small functions get no early
 * tier-up): boot and idle code stay in the interpreter and Sparkplug, whose timing is unchanged
 * (a larger interrupt budget did the same for memory but slowed boot); code that is truly hot,
 * copying a flood of log lines, is still optimized. Measured in docs/benchmarks.md (Node 20).
 */
const TICKS_FLAGS = '--ticks-before-optimization=48 --max-bytecode-size-for-early-opt=0';
/**
 * V8 12 and later (Node 22, 24: the release's executable) count invocations instead of ticks,
 * and have Maglev between Sparkplug and TurboFan; the flags above are unknown there (V8 prints
 * an error and ignores them). The same 16× later, on their counts.
 */
const INVOCATION_FLAGS = '--invocation-count-for-turbofan=48000 --invocation-count-for-maglev=6400 --invocation-count-for-early-optimization=480';

/** The flags for the V8 of version `v8Version` (process.versions.v8). */
export function pid1V8Flags(v8Version: string): string {
  return Number.parseInt(v8Version, 10) >= 12 ? INVOCATION_FLAGS : TICKS_FLAGS;
}

/** Applies pid1V8Flags; V8 reads them each time it weighs a function, so they apply at once. */
export async function tuneV8ForSupervisor(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(pid1V8Flags(process.versions.v8));
}
