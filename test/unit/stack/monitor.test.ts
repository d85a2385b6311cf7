import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { test } from 'node:test';
import { followMonitor, parseMonitorLine } from '../../../src/stack/serf-handler/monitor.js';
import { VirtualTime } from '../virtual-time.js';

// Lines as Serf 0.8 writes them to `serf monitor -log-level=debug`.
test('parseMonitorLine: the member changes of the log stream, with the node they name', () => {
  const cases: [string, ReturnType<typeof parseMonitorLine>][] = [
    ['2026/11/25 11:25:21 [INFO] serf: EventMemberJoin: web-2 10.77.0.12', { change: 'join', node: 'web-2' }],
    ['2026/11/25 11:25:23 [DEBUG] serf: messageLeaveType: web-2', { change: 'leave-intent', node: 'web-2' }],
    ['2026/11/25 11:25:23 [INFO] serf: EventMemberLeave: web-2 10.77.0.12', { change: 'leave', node: 'web-2' }],
    ['2026/11/25 11:25:30 [INFO] serf: EventMemberFailed: web-3 10.77.0.13', { change: 'failed', node: 'web-3' }],
    ['2026/11/25 11:25:31 [INFO] serf: EventMemberUpdate: web-3', { change: 'update', node: 'web-3' }],
    ['2026/11/25 11:40:31 [INFO] serf: EventMemberReap: web-3', { change: 'reap', node: 'web-3' }],
    ['2026/11/25 11:25:21 [DEBUG] serf: messageJoinType: web-2', null],
    ['2026/11/25 11:25:22 [INFO] agent: Received event: member-join', null],
    ['2026/11/25 11:25:22 [DEBUG] memberlist: Stream connection from=10.77.0.12:40210', null],
    ['\tEvent: "member-leave"', null],
  ];
  for (const [line, want] of cases) assert.deepEqual(parseMonitorLine(line), want, line);
});

// A real `serf monitor` against a port where no agent listens: it exits at once, and the
// reconnect waits for the virtual timer alone.
test('followMonitor: a dropped stream is reconnected exactly retryMs later, and stop cancels the reconnect', async (t) => {
  const time = new VirtualTime();
  const drops = new EventEmitter();
  const reasons: string[] = [];
  const stop = followMonitor({
    rpcAddr: '127.0.0.1:1',
    bin: 'serf',
    retryMs: 250,
    schedule: time.schedule,
    onChange: () => assert.fail('no agent, no lines'),
    onConnect: () => assert.fail('no agent, no connection'),
    onDrop: (reason) => {
      reasons.push(reason);
      drops.emit('drop');
    },
  });
  // A failed assertion must not leave it reconnecting for ever.
  t.after(stop);
  await once(drops, 'drop');
  assert.match(reasons[0]!, /serf monitor exited \(1\): .*connection refused/);
  assert.equal(time.pending, 1, 'one reconnect armed');
  await time.advance(249);
  assert.equal(time.pending, 1, 'not yet');
  assert.equal(reasons.length, 1);
  const second = once(drops, 'drop');
  await time.advance(1);
  assert.equal(time.pending, 0, 'the reconnect ran: a new `serf monitor` is under way');
  await second;
  assert.equal(reasons.length, 2);
  assert.equal(time.pending, 1);
  stop();
  assert.equal(time.pending, 0, 'stop cancels the armed reconnect');
});
