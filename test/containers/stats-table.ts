/**
 * The stack's HAProxy server table from its stats page, for scripts/stack.sh:
 *
 *   node dist/test/containers/stats-table.js [--stats http://127.0.0.1:1936/]
 *       prints the table of the `webapps` backend
 *   node dist/test/containers/stats-table.js --until up:web-1,web-2 [--timeout 30]
 *   node dist/test/containers/stats-table.js --until gone:web-2        (or down:web-3)
 *       waits until those servers are UP / out of the table / out of rotation (DOWN, MAINT or
 *       gone), and prints how long
 *       that took; exit 1 on timeout (with the table)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { formatTable, serverTable, type ServerRow } from './stats.js';

const { values } = parseArgs({
  options: {
    stats: { type: 'string', default: 'http://127.0.0.1:1936/' },
    until: { type: 'string' },
    timeout: { type: 'string', default: '30' },
  },
});

const print = (rows: readonly ServerRow[]): void => {
  for (const line of formatTable(rows)) console.log(`    ${line}`);
};

if (values.until === undefined) {
  try {
    print(await serverTable(values.stats));
  } catch (err) {
    console.log(`    (no server table: ${(err as Error).message})`);
  }
  process.exit(0);
}

const [kind = '', list = ''] = values.until.split(':');
const names = list.split(',').filter(Boolean);
const test: Record<string, (row: ServerRow | undefined) => boolean> = {
  up: (row) => row?.status === 'UP',
  gone: (row) => row === undefined,
  down: (row) => row === undefined || row.status.startsWith('DOWN') || row.status === 'MAINT',
};
const met = test[kind];
if (met === undefined || names.length === 0) {
  console.error(`stats-table: --until up|gone|down:NAME[,NAME…], not ${values.until}`);
  process.exit(2);
}
const started = performance.now();
const deadline = started + Number(values.timeout) * 1000;
let rows: ServerRow[] = [];
let lastError = '';
for (;;) {
  try {
    rows = await serverTable(values.stats);
    lastError = '';
    if (names.every((n) => met(rows.find((r) => r.name === n)))) break;
  } catch (err) {
    lastError = (err as Error).message;
  }
  if (performance.now() > deadline) {
    console.log(`    not ${kind} after ${values.timeout} s: ${names.join(', ')}${lastError ? ` (${lastError})` : ''}`);
    print(rows);
    process.exit(1);
  }
  await sleep(50);
}
const what = { up: 'UP in HAProxy', gone: 'out of HAProxy', down: 'out of rotation (DOWN, MAINT or gone)' }[kind as 'up' | 'gone' | 'down'];
console.log(`    ${names.join(', ')} ${what} after ${((performance.now() - started) / 1000).toFixed(2)} s`);
