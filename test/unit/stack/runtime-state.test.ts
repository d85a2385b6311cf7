import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseServersState, parseStat } from '../../../src/stack/haproxy/runtime-state.js';

// Captured from HAProxy 2.6.12 (`show servers state webapps`, `show stat`).
const serversState = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 webapps 1 s0 127.0.0.1 2 0 1 1 16 6 3 4 6 0 0 0 - 18081 - 0 0 - - 0
3 webapps 2 s1 10.77.0.10 0 1 1 1 3 15 3 0 6 0 0 0 - 3000 - 0 0 - - 0
`;

const stat = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status
web,FRONTEND,,,0,2,262120,31,,,0,0,0,,,,,OPEN
webapps,s0,0,0,3,5,,10603,,,,0,,1,2,4,5,UP
webapps,BACKEND,0,0,3,8,,23491,,,0,0,,1,2,4,5,UP
`;

describe('runtime API tables', () => {
  test('show servers state: name, address, port, op and admin state by header', () => {
    assert.deepEqual(parseServersState(serversState, 'webapps'), [
      { name: 's0', address: '127.0.0.1', port: 18081, opState: 2, adminState: 0 },
      { name: 's1', address: '10.77.0.10', port: 3000, opState: 0, adminState: 1 },
    ]);
  });

  test('show servers state of an empty backend is no servers', () => {
    assert.deepEqual(parseServersState(serversState.split('\n').slice(0, 2).join('\n'), 'webapps'), []);
  });

  test('an answer without the header is an error, not an empty backend', () => {
    assert.throws(() => parseServersState("Can't find backend.\n", 'webapps'), /no header/);
  });

  test('show stat: sessions, errors, retries by column name', () => {
    const row = parseStat(stat).find((r) => r.server === 's0');
    assert.deepEqual(row, { proxy: 'webapps', server: 's0', current: 3, status: 'UP', connErrors: 1, respErrors: 2, retries: 4, redispatches: 5, total: 10603, connects: 0, reuses: 0 });
  });
});
