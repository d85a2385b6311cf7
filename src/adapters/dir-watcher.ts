/**
 * Watches the service dirs (chokidar) and calls `onChange` once things settle: a dir being
 * copied in file by file is seen as one change after the copy, not half-configured mid-way.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';

export interface DirWatcherOptions {
  /** Quiet time after the last file event before `onChange` runs. */
  readonly settleMs: number;
  readonly onChange: () => void;
  readonly onError: (err: unknown) => void;
}

export class DirWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dirs: readonly string[],
    private readonly opts: DirWatcherOptions,
  ) {}

  /** Resolves once the initial scan is done, so no later change is missed. */
  async start(): Promise<void> {
    // Loaded here, not at import: the first services start without waiting for chokidar.
    const { watch } = await import('chokidar');
    const watcher = watch([...this.dirs], {
      ignoreInitial: true,
      // services.d/NAME/env/VAR is the deepest file that matters.
      depth: 2,
      // A file still being written is reported once its size stops changing.
      awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 25 },
      // s6 runtime state and service data are not configuration.
      ignored: (path: string) => this.dirs.some((dir) => isRuntimeState(relative(dir, path))),
    });
    watcher.on('all', () => this.schedule());
    watcher.on('error', this.opts.onError);
    this.watcher = watcher;
    return new Promise((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = null;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.opts.onChange, this.opts.settleMs);
  }
}

const RUNTIME_DIRS = new Set(['supervise', 'event', 'data', 'log']);

/**
 * NAME/{supervise,event,data,log} below a watched dir (`rel` is relative to it). Judged on the
 * relative path: a watched dir that itself lies under /data or /var/log must still be watched.
 */
function isRuntimeState(rel: string): boolean {
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false;
  return RUNTIME_DIRS.has(rel.split(sep)[1] ?? '');
}
