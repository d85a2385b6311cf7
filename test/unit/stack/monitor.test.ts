import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMonitorLine } from '../../../src/stack/serf-handler/monitor.js';

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
