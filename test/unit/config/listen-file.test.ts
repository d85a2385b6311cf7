import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen } from '../../../src/config/listen-file.js';
import { formatProblem } from '../../../src/config/config-problem.js';

const FILE = '/etc/warden/services.d/web/listen';

function problems(text: string): string[] {
  const parsed = parseListen(FILE, text);
  return parsed.ok ? [] : parsed.problems.map(formatProblem);
}

test('listen: tcp, tcp6 (bracketed or not), unix, backlogs, comments and blank lines', () => {
  const parsed = parseListen(FILE, '# web\ntcp:0.0.0.0:80\n\ntcp6:[::]:443 512\ntcp6:::1:8080\nunix:/run/web.sock 16\n');
  assert.deepEqual(parsed, {
    ok: true,
    value: [
      { family: 'tcp', host: '0.0.0.0', port: 80, backlog: 4096, line: 2 },
      { family: 'tcp6', host: '::', port: 443, backlog: 512, line: 4 },
      { family: 'tcp6', host: '::1', port: 8080, backlog: 4096, line: 5 },
      { family: 'unix', path: '/run/web.sock', backlog: 16, line: 6 },
    ],
  });
});

test('listen: each bad line named by file and line with what was expected', () => {
  assert.deepEqual(problems('tcp:localhost:80\nudp:0.0.0.0:53\ntcp:0.0.0.0:0\ntcp:0.0.0.0:80 lots\nunix:run/x.sock\ntcp6:127.0.0.1:80\ntcp:0.0.0.0:80 1 2\n'), [
    `${FILE}:1: expected a numeric IPv4 address (0.0.0.0 for all), got "localhost"`,
    `${FILE}:2: expected tcp:ADDR:PORT, tcp6:ADDR:PORT or unix:PATH, then an optional backlog, got "udp:0.0.0.0:53"`,
    `${FILE}:3: expected a port from 1 to 65535, got "0"`,
    `${FILE}:4: expected a backlog from 1 to 65535 after the address, got "lots"`,
    `${FILE}:5: expected an absolute path after unix:, got "run/x.sock"`,
    `${FILE}:6: expected a numeric IPv6 address (:: for all), got "127.0.0.1"`,
    `${FILE}:7: expected tcp:ADDR:PORT, tcp6:ADDR:PORT or unix:PATH, then an optional backlog, got "tcp:0.0.0.0:80 1 2"`,
  ]);
});

test('listen: the same address twice is a problem on the second line', () => {
  assert.deepEqual(problems('tcp:127.0.0.1:80\ntcp:127.0.0.1:80 64\n'), [`${FILE}:2: "tcp:127.0.0.1:80 64" is already on an earlier line`]);
});
