import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAccounts, parseUser } from '../../../src/config/user-setting.js';

const accounts = parseAccounts(
  ['root:x:0:0:root:/root:/bin/bash', '# a comment', 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin', 'app:x:1000:1001::/home/app:/bin/sh', 'broken:x:notanumber:1'].join('\n'),
  ['root:x:0:', 'www-data:x:33:', 'staff:x:50:', 'app:x:1001:'].join('\n'),
);
const FILE = '/etc/warden/services.d/web/user';

describe('user: USER[:GROUP], names or numbers', () => {
  const good: [string, { uid: number; gid: number }][] = [
    ['www-data\n', { uid: 33, gid: 33 }],
    ['app', { uid: 1000, gid: 1001 }],
    ['app:staff', { uid: 1000, gid: 50 }],
    ['app:7', { uid: 1000, gid: 7 }],
    ['1000:1000', { uid: 1000, gid: 1000 }],
    ['4242', { uid: 4242, gid: 4242 }],
    ['33', { uid: 33, gid: 33 }],
  ];
  for (const [text, want] of good) {
    it(`${JSON.stringify(text)} runs as ${want.uid}:${want.gid}`, () => {
      const parsed = parseUser(FILE, text, accounts);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual({ uid: parsed.value.uid, gid: parsed.value.gid }, want);
    });
  }

  const bad: [string, string][] = [
    ['nobody-here', 'no user "nobody-here" in /etc/passwd'],
    ['app:wheel', 'no group "wheel" in /etc/group'],
    ['broken', 'no user "broken" in /etc/passwd'],
    ['app:', 'expected USER or USER:GROUP'],
    ['a:b:c', 'expected USER or USER:GROUP'],
    ['', 'is empty'],
  ];
  for (const [text, message] of bad) {
    it(`${JSON.stringify(text)} is a problem: ${message}`, () => {
      const parsed = parseUser(FILE, text, accounts);
      assert.ok(!parsed.ok);
      assert.equal(parsed.problems.length, 1);
      assert.equal(parsed.problems[0]!.file, FILE);
      assert.ok(parsed.problems[0]!.message.includes(message), parsed.problems[0]!.message);
    });
  }
});
