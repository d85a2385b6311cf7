/**
 * V8 settings for the supervisor process. PID 1 idles nearly all its life, yet with V8's defaults
 * a few dozen calls of a path function at boot already compile it with TurboFan, and that first
 * compile touches ~3.5 MB of the compiler's own code: memory held for the container's whole
 * life. A 16× larger interrupt budget (and no early tier-up of small functions) leaves boot and
 * idle code to the interpreter; code that is truly hot (copying a flood of log lines) is still
 * optimized, a few milliseconds later. Measured in docs/benchmarks.md.
 */
export const PID1_V8_FLAGS = '--interrupt-budget=1048576 --max-bytecode-size-for-early-opt=0';

/** Applies PID1_V8_FLAGS; V8 reads both per function as it runs, so they take effect at once. */
export async function tuneV8ForSupervisor(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(PID1_V8_FLAGS);
}
