import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootSettings, logLevel } from '../../../src/config/boot-settings.js';
import { overlaySettings } from '../../../src/config/overlay-env.js';

/** Settings on a machine with none of s6-overlay's dirs. */
const boot = (env: Record<string, string>, command: string[] = []) => bootSettings({ command }, env, '/', () => false);

describe('S6_* variables', () => {
  it('give the WARDEN_* timings when those are unset', () => {
    const s = boot({ S6_SERVICES_GRACETIME: '1200', S6_KILL_GRACETIME: '700', S6_KILL_FINISH_MAXTIME: '9000', S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '20000' });
    assert.deepEqual([s.servicesGraceMs, s.serviceDefaults.timeoutKillMs, s.killGraceMs, s.contFinishMaxMs, s.cmdWaitMs], [1200, 1200, 700, 9000, 20000]);
  });

  it('lose to the WARDEN_* variable, and say so', () => {
    const env = { S6_KILL_GRACETIME: '700', WARDEN_KILL_GRACETIME: '100' };
    assert.equal(boot(env).killGraceMs, 100);
    assert.deepEqual(overlaySettings(env).notes, [
      { variable: 'S6_KILL_GRACETIME', value: '700', honoured: false, message: 'ignored: WARDEN_KILL_GRACETIME is set and wins' },
    ]);
  });

  it('S6_CMD_WAIT_FOR_SERVICES: under s6-overlay\'s layout services.d services are only launched unless it is 1; warden\'s own layout waits', () => {
    const overlay = (env: Record<string, string>) => bootSettings({ command: [] }, env, '/', (p) => p === '/etc/services.d');
    assert.equal(overlay({}).waitForLegacyServices, false);
    assert.equal(overlay({ S6_CMD_WAIT_FOR_SERVICES: '0' }).waitForLegacyServices, false);
    assert.equal(overlay({ S6_CMD_WAIT_FOR_SERVICES: '1' }).waitForLegacyServices, true);
    assert.equal(boot({}).waitForLegacyServices, true);
    assert.deepEqual(overlaySettings({ S6_CMD_WAIT_FOR_SERVICES: '1' }).notes.map((n) => n.honoured), [true]);
  });

  it('S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0 waits for ever, as s6-rc -t 0 does', () => {
    assert.equal(boot({ S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '0' }).cmdWaitMs, Infinity);
  });

  it('S6_BEHAVIOUR_IF_STAGE2_FAILS maps 0, 1, 2; warden stops by default, but not under s6-overlay\'s layout', () => {
    assert.equal(boot({}).stage2Failure, 'stop');
    for (const dir of ['/etc/s6-overlay/s6-rc.d', '/etc/cont-init.d', '/etc/services.d', '/etc/fix-attrs.d']) {
      const s = bootSettings({ command: [] }, {}, '/', (p) => p === dir);
      assert.deepEqual([dir, s.overlayLayout, s.stage2Failure, s.cmdWaitMs], [dir, true, 'continue-silently', Infinity]);
    }
    assert.equal(bootSettings({ command: [], services: ['/srv/svc'] }, {}, '/', (p) => p === '/etc/services.d').stage2Failure, 'stop');
    assert.equal(bootSettings({ command: [] }, { S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, '/', () => true).stage2Failure, 'stop');
    assert.equal(boot({ S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' }).stage2Failure, 'continue-silently');
    assert.equal(boot({ S6_BEHAVIOUR_IF_STAGE2_FAILS: '1' }).stage2Failure, 'continue');
    assert.equal(boot({ S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }).stage2Failure, 'stop');
    const bad = overlaySettings({ S6_BEHAVIOUR_IF_STAGE2_FAILS: 'exit' });
    assert.equal(bad.stage2Failure, undefined);
    assert.equal(bad.notes[0]!.honoured, false);
  });

  it('S6_VERBOSITY sets the log level unless WARDEN_LOG_LEVEL does', () => {
    assert.deepEqual(['0', '1', '2', '3', '5'].map((v) => logLevel({ S6_VERBOSITY: v })), ['error', 'warn', 'info', 'debug', 'debug']);
    assert.equal(logLevel({ S6_VERBOSITY: '0', WARDEN_LOG_LEVEL: 'warn' }), 'warn');
    assert.equal(logLevel({}), 'info');
  });

  it('S6_LOGGING=1 keeps services off stdout; S6_READ_ONLY_ROOT moves the log dir under /run', () => {
    assert.equal(boot({ S6_LOGGING: '1' }).consoleFormat, 'none');
    assert.equal(boot({ S6_LOGGING: '0' }).consoleFormat, 'prefix');
    assert.equal(boot({ S6_READ_ONLY_ROOT: '1' }).logDir, '/run/warden/log');
    assert.equal(boot({ S6_READ_ONLY_ROOT: '1', WARDEN_LOG_DIR: '/data/log' }).logDir, '/data/log');
  });

  it('S6_CMD_ARG0 goes before CMD, only when there is one', () => {
    assert.deepEqual(boot({ S6_CMD_ARG0: 'with-contenv  tini' }, ['node', 'app.js']).command, ['with-contenv', 'tini', 'node', 'app.js']);
    assert.deepEqual(boot({ S6_CMD_ARG0: 'with-contenv' }).command, []);
  });

  it('S6_SYNC_DISKS and S6_RUNTIME_PROFILE are honoured', () => {
    assert.equal(boot({ S6_SYNC_DISKS: '1' }).syncDisks, true);
    assert.equal(boot({}).syncDisks, false);
    const dev = boot({ S6_RUNTIME_PROFILE: 'dev' });
    assert.deepEqual(dev.s6RcDirs, ['/etc/cont-profile.d/dev/s6-overlay/s6-rc.d']);
    assert.deepEqual([dev.contInitDirs, dev.serviceDirs, dev.fixAttrsDirs], [
      ['/etc/warden/cont-init.d', '/etc/cont-profile.d/dev/cont-init.d'],
      ['/etc/warden/services.d', '/etc/cont-profile.d/dev/services.d'],
      ['/etc/cont-profile.d/dev/fix-attrs.d'],
    ]);
    assert.deepEqual(boot({}).s6RcDirs, ['/etc/s6-overlay/s6-rc.d']);
  });

  it('one note per S6_* variable set, unknown ones included; none for unset or empty ones', () => {
    const notes = overlaySettings({ S6_KEEP_ENV: '1', S6_STAGE2_HOOK: '/hook', S6_SOMETHING_NEW: 'x', S6_LOGGING: '', PATH: '/bin' }).notes;
    assert.deepEqual(
      notes.map((n) => [n.variable, n.honoured]),
      [['S6_KEEP_ENV', true], ['S6_STAGE2_HOOK', true], ['S6_SOMETHING_NEW', false]],
    );
    assert.match(notes[2]!.message, /warden does not know this s6-overlay setting/);
    assert.deepEqual(overlaySettings({ S6_STAGE2_HOOK: '/hook  --now' }).stage2Hook, ['/hook', '--now']);
  });

  it('S6_RUNTIME_BUNDLEDIR names where user and user2 are read; S6_KEEP_ENV=0 and S6_FIX_ATTRS_HIDDEN are honoured', () => {
    assert.deepEqual(boot({ S6_RUNTIME_BUNDLEDIR: '/etc/bundles' }).bundleDirs, ['/etc/bundles']);
    assert.deepEqual(boot({}).bundleDirs, ['/etc/s6-overlay/user-bundles.d']);
    assert.equal(overlaySettings({ S6_KEEP_ENV: '0' }).notes[0]!.honoured, true);
    assert.equal(boot({ S6_FIX_ATTRS_HIDDEN: '1' }).fixAttrsHidden, true);
  });

  it('S6_CMD_RECEIVE_SIGNALS and S6_WAIT_FOR_CLOSING_FD are honoured as s6-overlay reads them', () => {
    assert.equal(boot({ S6_CMD_RECEIVE_SIGNALS: '1' }).cmdReceivesSignals, true);
    assert.equal(boot({ S6_CMD_RECEIVE_SIGNALS: '0' }).cmdReceivesSignals, false);
    assert.equal(boot({}).cmdReceivesSignals, false);
    assert.equal(boot({ S6_WAIT_FOR_CLOSING_FD: '4' }).waitForClosingFd, 4);
    // Below 3 s6-overlay does not wait (0, 1, 2 are not the manager's fd).
    assert.equal(boot({ S6_WAIT_FOR_CLOSING_FD: '2' }).waitForClosingFd, null);
    for (const env of [{ S6_CMD_RECEIVE_SIGNALS: '1' }, { S6_WAIT_FOR_CLOSING_FD: '3' }]) {
      assert.deepEqual(overlaySettings(env).notes.map((n) => n.honoured), [true]);
    }
    assert.deepEqual(overlaySettings({ S6_WAIT_FOR_CLOSING_FD: 'three' }).notes.map((n) => n.honoured), [false]);
  });

  it('a bad number is ignored with a note, never a boot failure', () => {
    const s = overlaySettings({ S6_KILL_GRACETIME: '3s' });
    assert.equal(s.killGraceMs, undefined);
    assert.deepEqual(s.notes.map((n) => n.message), ['ignored: expected a whole number of milliseconds']);
  });
});
