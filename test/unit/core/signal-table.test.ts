import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { docsRow, isForwarded, LAST_SIGNAL, SIGNAL_TABLE } from '../../../src/core/signal-table.js';

const PID1_MD = fileURLToPath(new URL('../../../../docs/pid1.md', import.meta.url));

describe('the signal table', () => {
  it('has every signal from 1 to 64 once, in order', () => {
    assert.deepEqual(
      SIGNAL_TABLE.map((e) => e.number),
      Array.from({ length: LAST_SIGNAL }, (_, i) => i + 1),
    );
  });

  it("names signals 1 to 31 as Node does (the first name of an alias)", () => {
    for (const entry of SIGNAL_TABLE.filter((e) => e.number <= 31)) {
      assert.equal(constants.signals[entry.name as keyof typeof constants.signals], entry.number, entry.name);
    }
  });

  it('names the real-time signals as kill -l does', () => {
    const name = (n: number): string | undefined => SIGNAL_TABLE.find((e) => e.number === n)?.name;
    assert.deepEqual([34, 35, 49, 50, 63, 64].map(name), ['SIGRTMIN', 'SIGRTMIN+1', 'SIGRTMIN+15', 'SIGRTMAX-14', 'SIGRTMAX-1', 'SIGRTMAX']);
  });

  it('stops on TERM, INT and QUIT, powers off on PWR, and forwards what tini and dumb-init forward', () => {
    const role = (name: string): string | undefined => SIGNAL_TABLE.find((e) => e.name === name)?.role;
    assert.deepEqual(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGPWR'].map(role), ['stop', 'stop', 'stop', 'power-off']);
    for (const name of ['SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGPIPE', 'SIGURG', 'SIGXFSZ', 'SIGXCPU', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGSTKFLT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGSEGV', 'SIGABRT', 'SIGRTMIN+3']) {
      assert.ok(isForwarded(SIGNAL_TABLE.find((e) => e.name === name)!.role), name);
    }
  });

  it('is the table in docs/pid1.md, row for row', () => {
    const doc = readFileSync(PID1_MD, 'utf8');
    const rows = SIGNAL_TABLE.map(docsRow).filter((r): r is string => r !== null);
    assert.equal(rows.length, 34);
    for (const row of rows) assert.ok(doc.includes(`\n${row}\n`), `docs/pid1.md lacks the row\n${row}`);
  });
});
