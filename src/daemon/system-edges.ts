/**
 * The real edges of the daemon, which `cli/boot.ts` builds once: the Supervisor's (edges.ts)
 * and Init's ports (init-edges.ts) over the adapters, the process, and the files under /run.
 */
import { waitForClosingFd } from '../adapters/closing-fd.js';
import { consoleStream } from '../adapters/console-stream.js';
import { ControlServer } from '../adapters/control-server.js';
import { DirWatcher } from '../adapters/dir-watcher.js';
import { HealthFiles } from '../adapters/health-files.js';
import { spawnInOwnGroup } from '../adapters/group-spawn.js';
import { setChildSubreaper } from '../adapters/native.js';
import { PipeHolder } from '../adapters/pipe-holder.js';
import { treeUsage } from '../adapters/proc-usage.js';
import { readStat } from '../adapters/process-tree.js';
import { Reaper } from '../adapters/reaper.js';
import { ServiceLogs } from '../adapters/service-logs.js';
import { listenTo } from '../adapters/signal-listeners.js';
import { blockInThisThread, ignoreLibcSignal, restoreDefault } from '../adapters/signal-native.js';
import { foregroundTerminal, takeBack } from '../adapters/terminal.js';
import { unitLayout } from '../config/boot-settings.js';
import { loadUnits, overlaySourcesDirs } from '../config/load-units.js';
import { systemEdges, type DaemonEdges } from './edges.js';
import { fixAttrs } from './fix-attrs.js';
import { HeldSockets } from './held-sockets.js';
import type { InitEdges, RuntimeFiles } from './init-edges.js';
import { killEverything } from './kill-everything.js';
import { prepareOverlayRuntime, readExitCodeFile, removeStaleEnvDirs, writeExitCodeFile, writeUnitsFile } from './overlay-runtime.js';
import { S6SuperviseProtocol } from './s6-supervise-protocol.js';
import { listScripts } from './stage-scripts.js';

/** s6-overlay's files at their fixed paths (overlay-runtime.ts). */
const runtimeFiles: RuntimeFiles = {
  prepare: prepareOverlayRuntime,
  readExitCode: (stamp) => readExitCodeFile(stamp),
  writeExitCode: (code) => writeExitCodeFile(code),
  writeUnitsFile,
  removeStaleEnvDirs,
};

/** Every edge of the daemon as this process has them; `parts` as for `systemEdges`. */
export function systemInitEdges(parts: Parameters<typeof systemEdges>[0]): InitEdges {
  const daemon: DaemonEdges = systemEdges(parts);
  return {
    ...daemon,
    pid1: process.pid === 1,
    wardenArgv: [process.execPath, ...process.argv.slice(1, 2)],
    becomeSubreaper: setChildSubreaper,
    reaper: (opts) => new Reaper(opts),
    signals: { listen: listenTo, block: blockInThisThread, ignoreLibc: ignoreLibcSignal, restoreDefault },
    controlServer: (path, handle, onError) => new ControlServer(path, handle, onError),
    watcher: (dirs, opts) => new DirWatcher(dirs, opts),
    serviceLogs: (opts, onError) => {
      const console = consoleStream();
      const logs = new ServiceLogs({ ...opts, consoleStream: console }, onError);
      return {
        attach: (...args) => logs.attach(...args),
        forget: (service) => logs.forget(service),
        lineCounts: (service) => logs.lineCounts(service),
        close: () => logs.close().then(() => flush(console)),
      };
    },
    pipes: (dir) => new PipeHolder(dir),
    heldSockets: () => new HeldSockets(),
    s6Protocol: (opts) => new S6SuperviseProtocol(opts),
    usage: treeUsage,
    command: { spawn: spawnInOwnGroup, foregroundTerminal, takeBack, isStopped: (pid) => readStat(pid)?.state === 'T' },
    loadUnits: async (settings) => loadUnits(unitLayout({ ...settings, requiredDirs: [] }, await overlaySourcesDirs('/')), settings.serviceDefaults),
    listScripts,
    fixAttrs,
    runtimeFiles,
    waitForClosingFd,
    killEverything: (opts) => killEverything({ ...opts, edges: daemon }),
    healthFiles: (socket, text) => HealthFiles.open(socket, text),
    // Off by default: the module (node:http, the event-loop monitor) loads only when asked for.
    startMetrics: async (ctx) => (await import('./metrics.js')).startMetrics(ctx),
  };
}

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
