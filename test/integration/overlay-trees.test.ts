/**
 * The corpus of s6-overlay trees written after public images (test/fixtures/s6-overlay-trees,
 * sources in its README): each boots under warden as PID 1 exactly as the image has its files —
 * the image's layers overlaid on /etc (and on /package, where a base image adds to s6-overlay's
 * own sources), the shims on /usr/bin, a fresh /run — with no warden flag and no warden file,
 * only the ENTRYPOINT changed. Each test checks what s6-overlay gives for the same tree:
 * oneshots in dependency order (from the marks the scripts leave), longruns up and ready, a
 * SIGKILLed longrun restarted, a pipeline's pipe surviving either side's restart, SIGTERM
 * running the finish scripts and cont-finish.d, the exit code from the exitcode file; and that
 * `warden check --root` over the merged tree reports no problem.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { cli, show } from './control-helpers.js';
import { REPO_ROOT, Sandbox, eventually } from './harness.js';
import { at, before, imagePrelude, marks, imageRootPrelude } from './overlay-box.js';

const TREES = join(REPO_ROOT, 'test/fixtures/s6-overlay-trees');

interface Expect {
  readonly env?: Record<string, string>;
  /**
   * Marks that must come in this order: [earlier, later]. Only an order s6-rc guarantees: the
   * earlier one a oneshot's, or a longrun's that reports readiness (a longrun without
   * notification-fd is up once spawned, before its script's first line runs).
   */
  readonly order: readonly (readonly [string, string])[];
  /** Marks that must be there once the tree is up: a mark, or its first words. */
  readonly marks?: readonly string[];
  /** Marks that must not be there once the tree is up: units s6-overlay did not run. */
  readonly absent?: readonly string[];
  /** Longruns that must come up and ready. */
  readonly ready: readonly string[];
  /** Longruns that do not run: outside `top` (installed, down) or behind a failed oneshot. */
  readonly down?: readonly string[];
  /** The longrun SIGKILLed, which must come back. */
  readonly kill: string;
  /** A pipeline: the producer's lines reach the consumer's log, across restarts of either. */
  readonly pipe?: { readonly producer: string; readonly consumer: string; readonly log: string; readonly line: string };
  /**
   * The image's CMD. It runs once everything is up; it ends when the test creates $MARK_DIR/stop,
   * and its exit code is the container's (no SIGTERM then).
   */
  readonly cmd?: readonly string[];
  /** Marks that must be there after SIGTERM or CMD's end (finish scripts, cont-finish.d). */
  readonly marksAfterStop: readonly string[];
  readonly exit: number;
}

/** A long bound for what a slow machine may take; the waits return as soon as the state is reached. */
const PATIENCE_MS = 180_000;

async function layersOf(tree: string): Promise<string[]> {
  const dir = join(TREES, tree, 'layers');
  // A layer may be a link to another tree's layer: the same base image under two apps.
  return Promise.all((await readdir(dir)).sort().map((l) => realpath(join(dir, l))));
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

const trees = (await readdir(TREES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

for (const tree of trees) {
  test(`${tree}: boots under warden as under s6-overlay, and warden check finds nothing wrong`, { timeout: 4 * PATIENCE_MS }, async (t) => {
    const expect = JSON.parse(await readFile(join(TREES, tree, 'expect.json'), 'utf8')) as Expect;
    const layers = await layersOf(tree);

    // warden check over the tree as the image has it: the layers copied over each other.
    const root = await mkdtemp(join(tmpdir(), `warden-tree-${tree}-`));
    t.after(() => rm(root, { recursive: true, force: true }));
    for (const layer of layers) await cp(layer, root, { recursive: true, verbatimSymlinks: true });
    const check = await cli('/nonexistent.sock', ['check', '--root', root]);
    assert.equal(check.code, 0, show(check));
    assert.match(check.stdout, /^\d+ services? ok, 0 problems/, show(check));

    const box = await Sandbox.create();
    t.after(() => box.cleanup());
    await mkdir(box.path('marks'));
    // A service that drops to its image's user (s6-setuidgid PUID:PGID) reaches the marks too.
    await chmod(box.path(), 0o711);
    const etcs = [];
    for (const l of [...layers].reverse()) if (await isDir(join(l, 'etc'))) etcs.push(join(l, 'etc'));
    const packages = [];
    for (const l of [...layers].reverse()) if (await isDir(join(l, 'package'))) packages.push(join(l, 'package'));
    // /etc is writable, as in a container: scripts (S6_STAGE2_HOOK, cont-init.d) change it.
    await mkdir(box.path('etc/upper'), { recursive: true });
    await mkdir(box.path('etc/work'));
    let prelude = await imagePrelude(box.path('bin'), etcs.join(':'), undefined, box.path('etc'));
    // The image's own programs (scripts its units call by path).
    const locals = [];
    for (const l of [...layers].reverse()) if (await isDir(join(l, 'usr/local'))) locals.push(join(l, 'usr/local'));
    if (locals.length > 0) prelude += `\nmount -t overlay overlay -o lowerdir=${[...locals, '/usr/local'].join(':')} /usr/local`;
    // /package is where s6-overlay lives; a base image adds its own units to s6-overlay's sources there.
    // The namespace gets its own root with that /package and a /command: nothing is made on the host.
    await mkdir(box.path('newroot'));
    prelude += `\n${imageRootPrelude(box.path('newroot'), box.path('bin'), packages)}`;
    const warden = box.boot({ argv: ['boot', ...(expect.cmd ? ['--', ...expect.cmd] : [])], prelude, env: { WARDEN_S6_RUNTIME: '1', MARK_DIR: box.path('marks'), ...expect.env } });
    const socket = box.path('control.sock');
    const status = async (name: string): Promise<ServiceStatus> => {
      const r = await cli(socket, ['status', '--json', name]);
      assert.equal(r.code, 0, show(r));
      const parsed = JSON.parse(r.stdout) as ServiceStatus[] | { services: ServiceStatus[] };
      return (Array.isArray(parsed) ? parsed : parsed.services)[0]!;
    };
    const waitReady = async (names: readonly string[]): Promise<void> => {
      const r = await cli(socket, ['wait', '--ready', '--timeout', String(PATIENCE_MS), ...names], { timeoutMs: PATIENCE_MS + 20_000 });
      assert.equal(r.code, 0, `${show(r)}\n${warden.tail()}`);
    };

    // Up and ready, in the order the dependencies give.
    await eventually('the control socket', async () => {
      if (warden.exited) throw new Error(`warden exited: ${warden.tail()}`);
      // Up once it lists the units it must make ready: before it has read them, `wait NAME` would
      // find no NAME. A cont-init.d script may write services.d at boot: those come later.
      const r = await cli(socket, ['status', '--json']);
      if (r.code !== 0) return null;
      const parsed = JSON.parse(r.stdout) as ServiceStatus[] | { services: ServiceStatus[] };
      const listed = new Set((Array.isArray(parsed) ? parsed : parsed.services).map((s) => s.name));
      return listed.size > 0 && expect.ready.every((name) => listed.has(name)) ? true : null;
    }, PATIENCE_MS, 300);
    await waitReady(expect.ready);
    // A service without notification-fd is ready once started, maybe before its script marks:
    // wait for every mark expected; past the patience, the checks below say which is missing.
    const has = (got: readonly { what: string }[], what: string): boolean => got.some((m) => m.what === what || m.what.startsWith(`${what} `));
    const list = await eventually('every ordered and expected mark', async () => {
      const got = await marks(box);
      const ordered = expect.order.every(([a, b]) => got.some((m) => m.what.startsWith(a)) && got.some((m) => m.what.startsWith(b)));
      return ordered && (expect.marks ?? []).every((m) => has(got, m)) ? got : null;
    }, PATIENCE_MS, 300).catch(() => marks(box));
    for (const [a, b] of expect.order) before(list, a, b);
    for (const m of expect.marks ?? []) at(list, m);
    for (const m of expect.absent ?? []) assert.ok(!list.some((x) => x.what === m || x.what.startsWith(`${m} `)), `"${m}" must not run:\n${list.map((x) => x.what).join('\n')}`);
    for (const name of expect.down ?? []) {
      const s = await status(name);
      assert.ok(s.pid === null && s.state !== 'up', `${name} must not run: ${JSON.stringify(s)}`);
    }
    assert.deepEqual(warden.find((e) => e.event === 'config-problem'), [], warden.tail());

    // The pipeline's pipe outlives either side.
    if (expect.pipe) {
      const { producer, consumer, log, line } = expect.pipe;
      const lines = async (): Promise<number> => ((await box.read(join('marks', log))) ?? '').split('\n').filter((l) => l.includes(line)).length;
      await eventually(`"${line}" in ${log}`, async () => ((await lines()) > 0 ? true : null), PATIENCE_MS, 300);
      const producerPid = (await status(producer)).pid;
      assert.equal((await cli(socket, ['signal', 'KILL', consumer])).code, 0);
      await eventually(`${consumer} restarted`, async () => ((await status(consumer)).restarts > 0 ? true : null), PATIENCE_MS, 300);
      await waitReady([consumer]);
      const after = await lines();
      await eventually(`more "${line}" after ${consumer}'s restart`, async () => ((await lines()) > after ? true : null), PATIENCE_MS, 300);
      assert.equal((await status(producer)).pid, producerPid, `${producer} must not see its consumer's restart`);
      const consumerPid = (await status(consumer)).pid;
      assert.equal((await cli(socket, ['signal', 'KILL', producer])).code, 0);
      await eventually(`${producer} restarted`, async () => ((await status(producer)).restarts > 0 ? true : null), PATIENCE_MS, 300);
      const later = await lines();
      await eventually(`more "${line}" after ${producer}'s restart`, async () => ((await lines()) > later ? true : null), PATIENCE_MS, 300);
      assert.equal((await status(consumer)).pid, consumerPid, `${consumer} must not see EOF when ${producer} dies`);
    }

    // kill -9: the longrun comes back, and ready.
    const killed = await status(expect.kill);
    assert.equal((await cli(socket, ['signal', 'KILL', expect.kill])).code, 0);
    await eventually(`${expect.kill} restarted`, async () => {
      const s = await status(expect.kill);
      return s.restarts > killed.restarts && s.pid !== null && s.pid !== killed.pid ? true : null;
    }, PATIENCE_MS, 300);
    await waitReady([expect.kill]);

    // SIGTERM (or CMD's end): finish scripts and cont-finish.d run, the exit code is s6-overlay's.
    if (expect.cmd) await writeFile(box.path('marks', 'stop'), '');
    else await warden.signal('SIGTERM');
    const exit = await warden.waitForExit(PATIENCE_MS);
    assert.equal(exit.code, expect.exit, warden.tail());
    const final = await marks(box);
    for (const m of expect.marksAfterStop) assert.ok(final.some((x) => x.what === m), `no "${m}" mark in:\n${final.map((x) => x.what).join('\n')}`);
  });
}
