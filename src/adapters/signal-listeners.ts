/**
 * Listens to a signal by number, the real-time ones included. `process.on` knows only the
 * named signals (1 to 31); the real-time ones (34 to 64) would kill warden by their default
 * action, so they go through the same libuv signal handle Node uses underneath
 * (`signal_wrap`). Node 20 still exposes it through `process.binding`; Node 24 (the release's)
 * only to a process started with `--expose-internals`, which the release's executable is.
 */

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  close(): void;
  unref(): void;
}

type SignalWrap = { Signal: new () => SignalHandle };

let wrap: SignalWrap | null | undefined;

type InternalBinding = (name: string) => unknown;

/** Node's signal_wrap binding, without its deprecation warning on warden's stderr. */
function signalWrap(): SignalWrap | null {
  if (wrap !== undefined) return wrap;
  const binding = (fromProcessBinding() ?? fromInternalBinding()) as Partial<SignalWrap> | null;
  wrap = typeof binding?.Signal === 'function' ? (binding as SignalWrap) : null;
  return wrap;
}

function fromProcessBinding(): unknown {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return (process as unknown as { binding(name: string): unknown }).binding('signal_wrap');
  } catch {
    return null;
  } finally {
    process.noDeprecation = quiet;
  }
}

/** Where `process.binding` no longer has it: Node's internal loader, given --expose-internals. */
function fromInternalBinding(): unknown {
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  try {
    const testing = getBuiltin?.call(process, 'internal/test/binding') as { internalBinding?: InternalBinding } | undefined;
    return testing?.internalBinding?.('signal_wrap') ?? null;
  } catch {
    return null;
  }
}

/** Calls `handler` on each delivery of `signal`; returns why it cannot, or null. */
export function listenTo(signal: number, name: string, handler: () => void): string | null {
  if (name.startsWith('SIG') && !name.startsWith('SIGRT')) {
    try {
      process.on(name as NodeJS.Signals, handler);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  const binding = signalWrap();
  if (binding === null) return 'this Node has no signal_wrap binding';
  const handle = new binding.Signal();
  handle.unref();
  handle.onsignal = () => handler();
  const err = handle.start(signal);
  if (err !== 0) {
    handle.close();
    return `uv_signal_start: error ${err}`;
  }
  return null;
}
