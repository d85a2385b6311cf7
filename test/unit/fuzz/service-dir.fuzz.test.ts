/**
 * Fuzzes service dirs: random setting files (known names, near misses, stray names) holding
 * random values (plausible words and numbers, cut lines, control bytes, long runs). Loading one
 * must never throw, must give a spec or at least one problem, and every problem must be one line
 * of bounded length naming a file inside the dir.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { formatProblem } from '../../../src/config/config-problem.js';
import { loadServiceDir } from '../../../src/config/load-services.js';
import { knownFiles } from '../../../src/config/service-dir.js';
import { randomSource } from '../core/harness.js';
import { DEFAULTS, tempRoot, writeService } from '../config/helpers.js';
import { fuzzSettings } from './fuzz-settings.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

/** Longest problem line a service dir may cause (paths of this test's dirs are short). */
const MAX_PROBLEM_CHARS = 600;

const WORDS = ['0', '1', '3', '100', '3000', '0 0', '0 30000', '30000 0', 'TERM', 'SIGINT', 'KILL', '9', 'always', 'never', 'on-failure', 'halt', 'restart', 'root', 'nobody:nogroup', 'main', 'all', 'web', '-1', '1e3', ' 3 ', '#3', '3\n4'];

function value(rand: () => number, pick: <T>(xs: readonly T[]) => T): string | Buffer {
  const roll = rand();
  if (roll < 0.5) return `${pick(WORDS)}${rand() < 0.7 ? '\n' : ''}`;
  if (roll < 0.7) return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  if (roll < 0.8) return pick(['', '\n', '\n\n3\n', '\r\n', '\u0000\n']);
  if (roll < 0.9) return pick(WORDS).repeat(1 + Math.floor(rand() * 2000));
  return `${Math.floor(rand() * 2 ** 40)}\n`;
}

function fileName(rand: () => number, pick: <T>(xs: readonly T[]) => T, known: readonly string[]): string {
  const name = pick(known);
  const roll = rand();
  if (roll < 0.7) return name;
  if (roll < 0.85) return name.slice(0, -1); // a near miss
  return pick(['README', 'notes.txt', 'x', `${name}.bak`, 'timeout_kill']);
}

test('fuzzed service dirs load without throwing, and every problem is one bounded line', async () => {
  const { count, seed } = fuzzSettings(300);
  const { rand, pick } = randomSource(seed);
  const known = knownFiles('s6').filter((n) => !['run', 'finish', 'check', 'env', 'data', 'log', 'event', 'supervise', 'instance', 'instances', 'template'].includes(n));
  for (let i = 0; i < count; i++) {
    const files: Record<string, string | Buffer> = {};
    for (let n = Math.floor(rand() * 5); n >= 0; n--) files[fileName(rand, pick, known)] = value(rand, pick);
    const dir = await writeService(root, `s${i}`, Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? v : new Uint8Array(v)])));
    const what = `seed ${seed}, case ${i}: ${JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, String(v).slice(0, 40)])))}`;
    let loaded: Awaited<ReturnType<typeof loadServiceDir>>;
    try {
      loaded = await loadServiceDir(dir, DEFAULTS);
    } catch (err) {
      assert.fail(`${what}: threw ${String(err)}`);
    }
    assert.ok(loaded.spec !== null || loaded.problems.length > 0, `${what}: neither a spec nor a problem`);
    for (const p of loaded.problems) {
      const line = formatProblem(p);
      assert.ok(!line.includes('\n'), `${what}: a problem over two lines: ${line}`);
      assert.ok(line.length <= MAX_PROBLEM_CHARS, `${what}: a ${line.length}-character problem: ${line.slice(0, 200)}`);
      assert.ok(p.file.startsWith(dir), `${what}: a problem about ${p.file}`);
    }
    await rm(dir, { recursive: true, force: true });
  }
});
