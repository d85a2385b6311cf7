import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RuntimeServer } from '../../../src/stack/haproxy/runtime-state.js';
import { describeAction, diffServers } from '../../../src/stack/serf-handler/diff.js';

const srv = (name: string, address: string, port = 3000) => ({ name, address, port });
const running = (name: string, address: string, adminState = 0, port = 3000): RuntimeServer => ({ name, address, port, opState: 2, adminState });

const cases: readonly { name: string; wanted: ReturnType<typeof srv>[]; running: RuntimeServer[]; want: string[] }[] = [
  { name: 'nothing wanted, nothing running: nothing to do', wanted: [], running: [], want: [] },
  { name: 'equal sets: nothing to do', wanted: [srv('a', '10.0.0.1')], running: [running('a', '10.0.0.1')], want: [] },
  { name: 'a new member is added', wanted: [srv('a', '10.0.0.1'), srv('b', '10.0.0.2')], running: [running('a', '10.0.0.1')], want: ['add b 10.0.0.2:3000'] },
  { name: 'a member gone is removed', wanted: [srv('a', '10.0.0.1')], running: [running('a', '10.0.0.1'), running('b', '10.0.0.2')], want: ['remove b (gone)'] },
  {
    name: 'additions come before removals (capacity first)',
    wanted: [srv('b', '10.0.0.2')],
    running: [running('a', '10.0.0.1')],
    want: ['add b 10.0.0.2:3000', 'remove a (gone)'],
  },
  {
    name: 'a name at a new address is removed first, then added again',
    wanted: [srv('a', '10.0.0.9'), srv('c', '10.0.0.3')],
    running: [running('a', '10.0.0.1')],
    want: ['remove a (moved)', 'add a 10.0.0.9:3000', 'add c 10.0.0.3:3000'],
  },
  { name: 'a new port counts as moved', wanted: [srv('a', '10.0.0.1', 3001)], running: [running('a', '10.0.0.1')], want: ['remove a (moved)', 'add a 10.0.0.1:3001'] },
  { name: 'a wanted server left in maintenance is enabled', wanted: [srv('a', '10.0.0.1')], running: [running('a', '10.0.0.1', 0x01)], want: ['enable a'] },
  { name: 'a wanted server left draining is enabled', wanted: [srv('a', '10.0.0.1')], running: [running('a', '10.0.0.1', 0x08)], want: ['enable a'] },
  { name: 'maintenance from the config file alone is left alone', wanted: [srv('a', '10.0.0.1')], running: [running('a', '10.0.0.1', 0x04)], want: [] },
  { name: 'an unwanted server in maintenance is still removed', wanted: [], running: [running('a', '10.0.0.1', 0x01)], want: ['remove a (gone)'] },
];

describe('diffServers', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(diffServers(c.wanted, c.running).map(describeAction), c.want);
    });
  }
});
