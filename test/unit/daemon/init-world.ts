/**
 * Init's ports in virtual time, over a VirtualWorld: the units the test says are on disk, a
 * signal source the test delivers signals from, a reaper that reports CMD's exit, a dir watcher
 * whose change the test makes, an exitcode file in memory, and a final sweep that records what it
 * found. Nothing here touches a file, a socket or a real process.
 */
import type { ReaperOptions } from '../../../src/adapters/reaper.js';
import type { RequestHandler } from '../../../src/adapters/control-server.js';
import type { BootSettings } from '../../../src/config/boot-settings.js';
import type { LoadedUnits } from '../../../src/config/load-units.js';
import type { OneshotAction, OneshotSpec } from '../../../src/config/s6-rc-source.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { OVERLAY_UNITS, resolveUnits, TOP, type UnitDef } from '../../../src/core/unit-set.js';
import type { InitEdges } from '../../../src/daemon/init-edges.js';
import { settle } from '../virtual-time.js';
import { VirtualWorld } from './virtual-edges.js';

/** What a scan of an s6-overlay tree finds: s6-overlay's own units and `services` in services.d. */
export function overlayTree(services: readonly ServiceSpec[]): LoadedUnits {
  const builtin: Readonly<Record<string, OneshotAction>> = {
    'fix-attrs': { kind: 'fix-attrs' },
    'legacy-cont-init': { kind: 'cont-init' },
    'legacy-services': { kind: 'legacy-services' },
  };
  // A services.d service waits for what legacy-services waits for: base and user.
  const legacy = services.map((s): UnitDef => ({
    kind: 'longrun',
    name: s.name,
    dir: s.dir,
    deps: ['base', 'user'].map((name) => ({ name, file: s.dir })),
    producerFor: null,
    consumerFor: [],
    pipelineName: null,
  }));
  const set = resolveUnits([...OVERLAY_UNITS, ...legacy], [TOP, ...services.map((s) => s.name).sort()]);
  const oneshots: OneshotSpec[] = [];
  const longruns: ServiceSpec[] = [];
  for (const atom of set.atoms.values()) {
    if (atom.kind === 'longrun') longruns.push({ ...services.find((s) => s.name === atom.name)!, dependencies: atom.deps });
    else oneshots.push({ name: atom.name, dir: `s6-overlay/${atom.name}`, action: builtin[atom.name]!, timeoutUpMs: 0, timeoutDownMs: 0, dependencies: atom.deps });
  }
  return { services: longruns, oneshots, set, problems: [], invalid: [] };
}

/** Settings of a container with an s6-overlay layout, CMD `/app/cmd`, and s6-overlay's defaults. */
export function initSettings(overrides: Partial<BootSettings> = {}): BootSettings {
  return {
    serviceDirs: ['/etc/services.d'],
    contInitDirs: ['/etc/cont-init.d'],
    contFinishDirs: ['/etc/cont-finish.d'],
    fixAttrsDirs: ['/etc/fix-attrs.d'],
    bundleDirs: [],
    requiredDirs: [],
    overlayLayout: true,
    // As overlayTree's set: the bring-up waits for services.d to be up (S6_CMD_WAIT_FOR_SERVICES=1).
    waitForLegacyServices: true,
    fixAttrsHidden: false,
    stage2Hook: [],
    command: ['/app/cmd'],
    servicesGraceMs: 3000,
    killGraceMs: 3000,
    contFinishMaxMs: 5000,
    cmdWaitMs: 60_000,
    socketPath: '/run/warden/control.sock',
    logDir: '/var/log/warden',
    consoleFormat: 'none',
    serviceDefaults: { timeoutKillMs: 3000, logMaxBytes: 1024 * 1024, logKeep: 10 },
    s6RcDirs: [],
    cmdReceivesSignals: false,
    waitForClosingFd: null,
    stage2Failure: 'continue-silently',
    runDir: '/run/warden',
    s6Runtime: true,
    execlineb: 'execlineb',
    metricsAddr: null,
    syncDisks: false,
    overlayNotes: [],
    hup: 'forward',
    hupChosen: false,
    ...overrides,
  };
}

export class InitWorld extends VirtualWorld {
  /** What the next scan of the dirs finds. */
  units: LoadedUnits = overlayTree([]);
  /** The files of each cont-init.d / cont-finish.d dir. */
  readonly scripts = new Map<string, string[]>();
  /** s6-overlay's exitcode file: its code and a stand-in for its mtime; null: never written. */
  exitcodeFile: { code: number; mtime: number } | null = null;
  private writes = 0;
  /** The final sweep: when it ran, and which processes were still alive then. */
  readonly sweeps: { at: number; live: number[] }[] = [];
  private readonly handlers = new Map<string, (() => void)[]>();
  private reaperOptions: ReaperOptions | null = null;
  private onChange: (() => void) | null = null;
  /** The health file's text as last written, or null while there is none. */
  healthText: string | null = null;
  /** The control socket's handler, once Init made it. */
  control: RequestHandler | null = null;

  readonly initEdges: InitEdges = {
    ...this.edges,
    pid1: true,
    wardenArgv: ['/usr/bin/node', '/opt/warden/main.js'],
    becomeSubreaper: () => undefined,
    reaper: (opts) => {
      this.reaperOptions = opts;
      return { start: () => undefined, drain: () => 0 };
    },
    signals: {
      listen: (_number, name, handler) => {
        this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
        return null;
      },
      block: () => undefined,
      ignoreLibc: () => true,
      restoreDefault: () => undefined,
    },
    controlServer: (_path, handle) => {
      this.control = handle;
      return { listen: () => Promise.resolve(), close: () => undefined };
    },
    watcher: (_dirs, opts) => {
      this.onChange = opts.onChange;
      return { start: () => Promise.resolve(), close: () => Promise.resolve() };
    },
    serviceLogs: () => ({ attach: () => undefined, forget: () => Promise.resolve(), lineCounts: () => ({ written: 0, dropped: 0 }), close: () => Promise.resolve() }),
    pipes: () => ({ stdioOf: () => ({ stdin: null, stdout: null }), sync: () => [], close: () => undefined }),
    heldSockets: () => ({ fdsOf: () => [], sync: (specs) => ({ runnable: [...specs], problems: [] }), closeAll: () => undefined }),
    s6Protocol: () => ({ known: () => undefined, workDirOf: (spec) => spec.dir, added: () => undefined, stepped: () => undefined, removed: () => undefined, closeAll: () => undefined }),
    usage: () => null,
    command: {
      // CMD is not the launcher's child: its exit reaches Init through the reaper.
      spawn: (req) => {
        let pid = 0;
        const launched = this.edges.launcher.launch({ file: req.file, args: req.args, env: req.env, detached: true, onExit: (status) => this.reaperOptions!.onOrphanReaped(pid, status) });
        if (!launched.ok) return { ok: false, error: launched.error, code: 126 };
        pid = launched.pid;
        return { ok: true, pid };
      },
      foregroundTerminal: () => null,
      takeBack: () => undefined,
      isStopped: () => false,
    },
    loadUnits: () => Promise.resolve(this.units),
    listScripts: (dirs) => Promise.resolve(dirs.flatMap((d) => this.scripts.get(d) ?? [])),
    fixAttrs: () => Promise.resolve([]),
    runtimeFiles: {
      prepare: (opts) => Promise.resolve(opts.s6Runtime ? this.writeExitCode(0) : null),
      readExitCode: (stamp) => Promise.resolve(this.exitcodeFile !== null && this.exitcodeFile.mtime !== stamp ? this.exitcodeFile.code : null),
      writeExitCode: (code) => Promise.resolve(void this.writeExitCode(code)),
      writeUnitsFile: () => Promise.resolve(),
      removeStaleEnvDirs: () => undefined,
    },
    waitForClosingFd: () => Promise.resolve(null),
    killEverything: () => {
      const live = this.processes.filter((p) => !p.exited).map((p) => p.pid);
      this.sweeps.push({ at: this.now, live });
      return Promise.resolve(live.length);
    },
    healthFiles: (_socket, text) => {
      this.healthText = text;
      return { write: (next) => void (this.healthText = next), close: () => void (this.healthText = null) };
    },
    startMetrics: () => Promise.resolve({ close: () => undefined }),
  };

  /** A script writes the exitcode file (as `echo CODE > …/exitcode` would); returns its new mtime. */
  writeExitCode(code: number): number {
    this.exitcodeFile = { code, mtime: ++this.writes };
    return this.writes;
  }

  /** warden is sent `signal` (by name): each of its listeners runs, as the signal's delivery would. */
  deliver(signal: string): void {
    const handlers = this.handlers.get(signal) ?? [];
    if (handlers.length === 0) throw new Error(`nothing listens to ${signal}`);
    for (const handler of handlers) handler();
  }

  /** A service dir changed and the change settled: the watcher's callback. */
  async dirsChanged(): Promise<void> {
    this.onChange!();
    await settle();
  }
}
