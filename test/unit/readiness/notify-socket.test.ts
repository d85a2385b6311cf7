/**
 * The NOTIFY_SOCKET adapter against real unix datagram sockets: messages parsed in order, none
 * lost when 100 services report at once, and the epoll wait never keeps Node from exiting.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NotifySockets, parseNotifyMessage, sendNotify } from '../../../src/adapters/notify-socket.js';

const ADAPTER = fileURLToPath(new URL('../../../src/adapters/notify-socket.js', import.meta.url));

let dir = '';
before(async () => (dir = await mkdtemp(join(tmpdir(), 'warden-notify-'))));
after(() => rm(dir, { recursive: true, force: true }));

/**
 * Resolves once `done()` holds (checked on each message). `within(ms)` is called once every
 * message has been sent, so its bound covers only reading what the kernel already holds, not
 * how long a busy machine took to start the senders.
 */
function until(done: () => boolean, what: string): { check: () => void; within: (ms: number) => Promise<void> } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
  return {
    check: () => done() && resolve(),
    within: (ms) => {
      setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref();
      return promise;
    },
  };
}

describe('parseNotifyMessage', () => {
  const cases: [string, [string, string][]][] = [
    ['READY=1', [['READY', '1']]],
    ['READY=1\nSTATUS=Serving 3 backends\n', [['READY', '1'], ['STATUS', 'Serving 3 backends']]],
    ['STATUS=a=b', [['STATUS', 'a=b']]],
    ['STATUS=', [['STATUS', '']]],
    ['MAINPID=42\nSTOPPING=1', [['MAINPID', '42'], ['STOPPING', '1']]],
    ['garbage\n=novalue\nREADY=1', [['READY', '1']]],
    ['', []],
  ];
  for (const [text, fields] of cases) {
    it(JSON.stringify(text), () => {
      assert.deepEqual(
        parseNotifyMessage(text).map((f) => [f.key, f.value]),
        fields,
      );
    });
  }
});

describe('NotifySockets', () => {
  it('delivers each datagram to its own socket, in order, and removes the file on close', async () => {
    const sockets = new NotifySockets(join(dir, 'order'), (err) => assert.fail(String(err)));
    const got: string[] = [];
    const wait = until(() => got.length === 3, '3 messages');
    const endpoint = sockets.open('web', (text) => {
      got.push(text);
      wait.check();
    });
    try {
      assert.equal(endpoint.path, join(dir, 'order', 'web.sock'));
      assert.equal(((await stat(endpoint.path)).mode & 0o777).toString(8), '666');
      sendNotify(endpoint.path, 'STATUS=loading');
      sendNotify(endpoint.path, 'READY=1\nSTATUS=serving');
      sendNotify(endpoint.path, 'STOPPING=1');
      await wait.within(5000);
      assert.deepEqual(got, ['STATUS=loading', 'READY=1\nSTATUS=serving', 'STOPPING=1']);
    } finally {
      endpoint.close();
      sockets.close();
    }
    await assert.rejects(stat(endpoint.path), /ENOENT/);
    assert.throws(() => sendNotify(endpoint.path, 'READY=1'), /sendto.*ENOENT/);
  });

  it('reopens a socket of the same name (a restarted service), replacing a stale file', async () => {
    const sockets = new NotifySockets(join(dir, 'reopen'), (err) => assert.fail(String(err)));
    try {
      sockets.open('svc', () => undefined).close();
      const got: string[] = [];
      const wait = until(() => got.length === 1, 'a message on the new socket');
      const second = sockets.open('svc', (t) => {
        got.push(t);
        wait.check();
      });
      // And a leftover file from a crashed warden is replaced as well.
      const third = new NotifySockets(join(dir, 'reopen'), () => undefined);
      assert.equal(sockets.size, 1);
      sendNotify(second.path, 'READY=1');
      await wait.within(5000);
      assert.deepEqual(got, ['READY=1']);
      third.close();
    } finally {
      sockets.close();
    }
  });

  it('100 services in one burst, 5 messages each: nothing lost, nothing misattributed', async () => {
    const sockets = new NotifySockets(join(dir, 'burst'), (err) => assert.fail(String(err)));
    const got = new Map<string, string[]>();
    const wait = until(() => [...got.values()].reduce((n, l) => n + l.length, 0) === 500, '500 messages');
    const endpoints = Array.from({ length: 100 }, (_, i) => {
      const name = `svc${i}`;
      got.set(name, []);
      return sockets.open(name, (text) => {
        got.get(name)!.push(text);
        wait.check();
      });
    });
    try {
      for (let m = 0; m < 5; m++) for (const [i, e] of endpoints.entries()) sendNotify(e.path, `STATUS=svc${i} message ${m}`);
      await wait.within(10_000);
      for (const [name, messages] of got) {
        assert.deepEqual(messages, [0, 1, 2, 3, 4].map((m) => `STATUS=${name} message ${m}`));
      }
    } finally {
      sockets.close();
    }
  });

  it('100 processes sending READY=1 at the same moment: all 100 arrive, each at its service', async (t) => {
    const sockets = new NotifySockets(join(dir, 'procs'), (err) => assert.fail(String(err)));
    const ready = new Set<string>();
    let allAt = 0;
    const wait = until(() => ready.size === 100 && (allAt = performance.now()) > 0, '100 READY=1');
    const endpoints = Array.from({ length: 100 }, (_, i) =>
      sockets.open(`svc${i}`, (text) => {
        for (const f of parseNotifyMessage(text)) if (f.key === 'READY' && f.value === '1') ready.add(`svc${i}`);
        wait.check();
      }),
    );
    try {
      // A barrier: every sender loads and says so, then all get SIGUSR2 in one loop and send at once.
      const script = `import { sendNotify } from ${JSON.stringify(ADAPTER)};
        process.on('SIGUSR2', () => { sendNotify(process.env.NOTIFY_SOCKET, 'READY=1'); process.exit(0); });
        process.stdout.write('loaded\\n'); setInterval(() => {}, 1000);`;
      const children = endpoints.map((e) =>
        spawn(process.execPath, ['--input-type=module', '-e', script], {
          env: { ...process.env, NOTIFY_SOCKET: e.path },
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      const exits = children.map((c) => new Promise<number | null>((res) => c.once('exit', res)));
      await Promise.all(children.map((c) => new Promise((res) => c.stdout!.once('data', res))));
      const fired = performance.now();
      for (const c of children) c.kill('SIGUSR2');
      assert.deepEqual(new Set(await Promise.all(exits)), new Set([0]), 'every sender succeeded');
      await wait.within(30_000);
      assert.equal(ready.size, 100);
      t.diagnostic(`100 READY=1 received ${Math.round(allAt - fired)} ms after the senders were signalled`);
      // While the 100 sockets are read, the threadpool still serves fs work (one thread is held, not 100).
      assert.ok((await readFile(ADAPTER, 'utf8')).length > 0);
    } finally {
      sockets.close();
    }
  });

  it('a path over 107 bytes is refused with a message naming the fix', () => {
    const sockets = new NotifySockets(join(dir, 'x'.repeat(120)), () => undefined);
    try {
      assert.throws(() => sockets.open('svc', () => undefined), /over the 107 a unix socket allows: use a shorter WARDEN_RUN_DIR/);
    } finally {
      sockets.close();
    }
  });

  it('open after close throws', () => {
    const sockets = new NotifySockets(join(dir, 'closed'), () => undefined);
    sockets.close();
    assert.throws(() => sockets.open('svc', () => undefined), /closed/);
  });
});

describe('the epoll wait never holds Node at exit', () => {
  /** Runs a script that opens a socket, then ends as `ending` says; returns its exit and time. */
  function runScript(ending: string): { status: number | null; signal: NodeJS.Signals | null } {
    const script = `
      import { NotifySockets } from ${JSON.stringify(ADAPTER)};
      const sockets = new NotifySockets(${JSON.stringify(join(dir, 'exit'))} + '/' + process.pid, () => {});
      const endpoint = sockets.open('svc', () => {});
      setTimeout(() => { ${ending} }, 100);
    `;
    // epoll_wait(-1) never returns by itself: a wait that holds Node runs into this timeout,
    // however fast or slow the machine is, and is killed; 60 s only bounds a machine that stalls.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000, stdio: 'inherit' });
    return { status: r.status, signal: r.signal };
  }

  it('process.exit() with a wait in flight exits by itself (the exit hook wakes it)', () => {
    const r = runScript('process.exit(3)');
    assert.deepEqual([r.status, r.signal], [3, null], 'exited with its own code, not killed by the timeout');
  });

  it('closing the last socket frees the thread, and the loop ends by itself', () => {
    const r = runScript('endpoint.close()');
    assert.deepEqual([r.status, r.signal], [0, null]);
  });

  it('close() ends the wait, and the loop ends by itself', () => {
    const r = runScript('sockets.close()');
    assert.deepEqual([r.status, r.signal], [0, null]);
  });
});
