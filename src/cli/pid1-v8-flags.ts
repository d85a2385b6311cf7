/**
 * V8 settings for the supervisor process. PID 1 idles nearly all its life, yet with V8's defaults
 * a few dozen calls of a path helper at boot already compile it with TurboFan, and that first
 * compile touches ~3.5 MB of the compiler's own code: memory held for the container's whole
 * life. TurboFan here waits for 16× more of V8's profiler ticks (and small functions get no early
 * tier-up): boot and idle code stay in the interpreter and Sparkplug, whose timing is unchanged
 * (a larger interrupt budget did the same for memory but slowed boot); code that is truly hot,
 * copying a flood of log lines, is still optimized. Measured in docs/benchmarks.md.
 */
export const PID1_V8_FLAGS = '--ticks-before-optimization=48 --max-bytecode-size-for-early-opt=0';

/** Applies PID1_V8_FLAGS; V8 reads both each time it weighs a function, so they apply at once. */
export async function tuneV8ForSupervisor(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(PID1_V8_FLAGS);
}
