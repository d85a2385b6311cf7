import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootSettings, serviceDefaults, UsageError } from '../../../src/config/boot-settings.js';
import { overlaySettings } from '../../../src/config/overlay-env.js';

const TOO_LONG = '3000000000';

describe('boot settings from the environment: out of range is a usage error, never a silent 1 ms', () => {
  for (const name of ['WARDEN_SERVICES_GRACETIME', 'WARDEN_KILL_GRACETIME', 'WARDEN_KILL_FINISH_MAXTIME', 'WARDEN_CMD_WAIT_FOR_SERVICES_MAXTIME']) {
    it(`${name} past the longest timer`, () => {
      assert.throws(
        () => bootSettings({ command: [] }, { [name]: TOO_LONG }),
        (err: unknown) => err instanceof UsageError && err.message.startsWith(`${name}=${TOO_LONG}: expected at most 2147483647 ms`),
      );
    });
  }

  it('the longest timer itself is fine', () => {
    assert.equal(bootSettings({ command: [] }, { WARDEN_KILL_GRACETIME: '2147483647' }).killGraceMs, 2147483647);
  });

  it('log size and count keep the bounds of the per-service files', () => {
    assert.throws(() => serviceDefaults({ WARDEN_LOG_MAX_BYTES: '0' }), /WARDEN_LOG_MAX_BYTES=0: expected a whole number of bytes from 4096 to 1073741824/);
    assert.throws(() => serviceDefaults({ WARDEN_LOG_KEEP: '5000' }), /WARDEN_LOG_KEEP=5000: expected a whole number of archives from 0 to 1000/);
    assert.deepEqual(serviceDefaults({ WARDEN_LOG_MAX_BYTES: '4096', WARDEN_LOG_KEEP: '0' }).logKeep, 0);
  });

  it('an S6_* time past the longest timer is ignored, with a note saying why', () => {
    const s = overlaySettings({ S6_KILL_GRACETIME: TOO_LONG });
    assert.equal(s.killGraceMs, undefined);
    const note = s.notes.find((n) => n.variable === 'S6_KILL_GRACETIME');
    assert.match(note?.message ?? '', /ignored: expected at most 2147483647 ms/);
  });
});
