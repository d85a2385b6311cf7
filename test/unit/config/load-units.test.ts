import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatProblem } from '../../../src/config/config-problem.js';
import { loadUnits, type UnitLayout } from '../../../src/config/load-units.js';
import { DEFAULTS, RUN, tempRoot, writeTree, type Entry } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

/** A fresh dir holding `files`. */
async function dir(files: Readonly<Record<string, Entry>>): Promise<string> {
  counter += 1;
  return writeTree(join(root, `d${counter}`), files);
}

const layout = (l: Partial<UnitLayout>): UnitLayout => ({ serviceDirs: [], s6RcDirs: [], bundleDirs: [], overlaySourcesDirs: [], required: [], ...l });
const longrun = (name: string, deps: readonly string[] = []): Record<string, Entry> => ({
  [`${name}/type`]: 'longrun\n',
  [`${name}/run`]: RUN,
  ...Object.fromEntries(deps.map((d) => [`${name}/dependencies.d/${d}`, ''])),
});
const oneshot = (name: string, up: string, deps: readonly string[] = []): Record<string, Entry> => ({
  [`${name}/type`]: 'oneshot\n',
  [`${name}/up`]: up,
  ...Object.fromEntries(deps.map((d) => [`${name}/dependencies.d/${d}`, ''])),
});
const messages = (r: { problems: readonly { file: string; line: number | null; message: string }[] }): string[] => r.problems.map(formatProblem);

describe('loadUnits: one set from every source, as s6-overlay hands them to s6-rc-compile', () => {
  it('a user without a type file is a bundle (s6-overlay writes the type), and so is user2', async () => {
    const s6rc = await dir({ ...longrun('web', ['base']), 'user/contents.d/web': '', ...oneshot('late', 'true', ['legacy-services']), 'user2/contents.d/late': '' });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc] }), DEFAULTS);
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.services.map((s) => [s.name, s.dependencies, s.downAtBoot]), [['web', ['fix-attrs', 'legacy-cont-init'], false]]);
    assert.deepEqual(r.oneshots.map((o) => [o.name, o.action.kind, o.dependencies]), [
      ['fix-attrs', 'fix-attrs', []],
      ['late', 'script', ['legacy-services']],
      ['legacy-cont-init', 'cont-init', ['fix-attrs']],
      ['legacy-services', 'legacy-services', ['fix-attrs', 'legacy-cont-init', 'web']],
    ]);
  });

  it('services.d services are waited for only until launched when the layout says so (S6_CMD_WAIT_FOR_SERVICES unset)', async () => {
    const services = await dir({ 'legacy/run': RUN });
    assert.deepEqual((await loadUnits(layout({ serviceDirs: [services], waitForLegacyServices: false }), DEFAULTS)).set.launchedOnly, ['legacy']);
    assert.equal((await loadUnits(layout({ serviceDirs: [services] }), DEFAULTS)).set.launchedOnly, undefined);
  });

  it('user-bundles.d is read when no s6-rc dir defines user, and ignored when one does (as rc.init does)', async () => {
    const s6rc = await dir(longrun('web'));
    const bundles = await dir({ 'user/contents.d/web': '' });
    assert.deepEqual((await loadUnits(layout({ s6RcDirs: [s6rc], bundleDirs: [bundles] }), DEFAULTS)).services.map((s) => [s.name, s.downAtBoot]), [['web', false]]);
    const withUser = await dir({ ...longrun('web'), ...longrun('api'), 'user/contents.d/api': '' });
    const r = await loadUnits(layout({ s6RcDirs: [withUser], bundleDirs: [bundles] }), DEFAULTS);
    assert.deepEqual(r.services.map((s) => [s.name, s.downAtBoot]), [['api', false], ['web', true]]);
  });

  it('layers merge: a later dir adds dependencies and contents to units of an earlier one; a second definition is a problem', async () => {
    const base = await dir({ ...oneshot('init-mods', 'true'), ...oneshot('init-install', 'true', ['init-mods']), ...longrun('svc', ['init-install']), 'user/contents.d/svc': '' });
    const mod = await dir({ ...oneshot('init-mod-x', 'true', ['init-mods']), 'init-install/dependencies.d/init-mod-x': '', 'user/contents.d/init-mod-x': '' });
    const r = await loadUnits(layout({ s6RcDirs: [base, mod] }), DEFAULTS);
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.oneshots.find((o) => o.name === 'init-install')?.dependencies, ['init-mod-x', 'init-mods']);
    const again = await dir(longrun('svc'));
    assert.deepEqual(messages(await loadUnits(layout({ s6RcDirs: [base, again] }), DEFAULTS)), [
      `${join(again, 'svc')}: "svc" is already defined in ${join(base, 'svc')}: a name is defined once across the source dirs (s6-rc-compile refuses it); this one is ignored`,
    ]);
  });

  it('a base image adds oneshots to s6-overlay\'s own base, fix-attrs and legacy-cont-init through its sources dir', async () => {
    const sources = await dir({
      ...oneshot('banner', '/usr/bin/true'),
      ...oneshot('log-level', '/usr/bin/true', ['banner']),
      'base/contents.d/banner': '',
      'base/contents.d/log-level': '',
      'fix-attrs/dependencies.d/banner': '',
      'legacy-cont-init/dependencies.d/log-level': '',
    });
    const s6rc = await dir({ ...longrun('addon', ['base']), 'user/contents.d/addon': '' });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc], overlaySourcesDirs: [sources] }), DEFAULTS);
    assert.deepEqual(messages(r), []);
    const deps = Object.fromEntries([...r.oneshots, ...r.services].map((u) => [u.name, u.dependencies]));
    assert.deepEqual(deps['fix-attrs'], ['banner']);
    assert.deepEqual(deps['legacy-cont-init'], ['fix-attrs', 'log-level']);
    assert.deepEqual(deps.addon, ['banner', 'fix-attrs', 'legacy-cont-init', 'log-level']);
  });

  it('setting files as s6 reads them: notification-fd without a newline, run without the execute bit, down ignored', async () => {
    const s6rc = await dir({
      'web/type': 'longrun',
      'web/run': { content: '#!/usr/bin/with-contenv bash\nexec web\n', mode: 0o644 },
      'web/notification-fd': '3',
      'web/down': '',
      'bad/type': 'longrun\n',
      'bad/run': { content: 'exec web\n', mode: 0o644 },
      'user/contents.d/web': '',
      'user/contents.d/bad': '',
    });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc] }), DEFAULTS);
    const web = r.services.find((s) => s.name === 'web')!;
    assert.deepEqual([web.notificationFd, web.runVia, web.downAtBoot], [3, ['/usr/bin/with-contenv', 'bash'], false]);
    assert.deepEqual(messages(r), [
      `${join(s6rc, 'bad', 'run')}:1: run is not executable and has no #! line to run it with: run chmod +x ${join(s6rc, 'bad', 'run')}, or start it with #!/bin/sh`,
    ]);
  });

  it('a dependency defined nowhere is a problem naming the file, and the dependent is left out', async () => {
    const s6rc = await dir({ ...longrun('web', ['dbb']), ...longrun('ok'), 'user/contents.d/web': '', 'user/contents.d/ok': '' });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc] }), DEFAULTS);
    assert.deepEqual(messages(r), [`${join(s6rc, 'web', 'dependencies.d', 'dbb')}: web depends on "dbb", which is not defined anywhere: web does not start`]);
    assert.deepEqual(r.services.map((s) => s.name), ['ok']);
  });

  it('every unit that cannot start is invalid, with its own problems or why it is blocked', async () => {
    // Not in user: services.d's services come after all of user, and would be blocked too.
    const s6rc = await dir({ ...longrun('web', ['dbb']), ...longrun('ok'), ...longrun('badrc'), 'badrc/timeout-kill': 'soon\n', 'user/contents.d/ok': '' });
    const services = await dir({ 'bad/run': RUN, 'bad/down-signal': 'SIGFOO\n', 'api/run': RUN, 'api/dependencies': 'bad\n', 'fine/run': RUN });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc], serviceDirs: [services] }), DEFAULTS);
    assert.deepEqual(r.services.map((s) => s.name), ['fine', 'ok']);
    const invalid = r.invalid.map((u) => [u.name, u.dir, u.problems.map(formatProblem)]);
    assert.equal(invalid.length, 4, JSON.stringify(invalid));
    assert.deepEqual(invalid[0], ['api', join(services, 'api'), [`${join(services, 'api')}: depends on bad, which cannot start`]]);
    assert.deepEqual(invalid[1]!.slice(0, 2), ['bad', join(services, 'bad')]);
    assert.match((invalid[1]![2] as string[]).join('|'), new RegExp(`^${join(services, 'bad', 'down-signal')}:1: .*SIGFOO`));
    assert.deepEqual(invalid[2]!.slice(0, 2), ['badrc', join(s6rc, 'badrc')]);
    assert.match((invalid[2]![2] as string[]).join('|'), new RegExp(`^${join(s6rc, 'badrc', 'timeout-kill')}:1: `));
    assert.deepEqual(invalid[3], ['web', join(s6rc, 'web'), [`${join(s6rc, 'web')}: depends on "dbb", which is not defined anywhere`]]);
  });

  it('services.d services start with legacy-services: after base and all of user', async () => {
    const s6rc = await dir({ ...longrun('web', ['base']), 'user/contents.d/web': '' });
    const services = await dir({ 'cron/run': RUN, 'spare/run': RUN, 'spare/down': '' });
    const r = await loadUnits(layout({ s6RcDirs: [s6rc], serviceDirs: [services] }), DEFAULTS);
    assert.deepEqual(r.services.map((s) => [s.name, s.dependencies, s.downAtBoot]), [
      ['cron', ['fix-attrs', 'legacy-cont-init', 'web'], false],
      ['spare', ['fix-attrs', 'legacy-cont-init', 'web'], true],
      ['web', ['fix-attrs', 'legacy-cont-init'], false],
    ]);
  });

  it('a near-miss setting name is a problem with "did you mean"; data/, env/, README and scripts stay silent', async () => {
    const services = await dir({ 'a/run': RUN, 'a/notifcation-fd': '3\n', 'a/timeout-kil': '10\n', 'a/dependency': 'x\n', 'a/data/check': RUN, 'a/env/X': '1', 'a/README': 'hi', 'a/run.sh': RUN });
    const s6rc = await dir({ ...oneshot('init', '/etc/s6-overlay/s6-rc.d/init/run'), 'init/run': RUN, 'init/dependecies.d/base': '', 'user/contents.d/init': '' });
    const r = await loadUnits(layout({ serviceDirs: [services], s6RcDirs: [s6rc] }), DEFAULTS);
    assert.deepEqual(messages(r), [
      `${join(s6rc, 'init', 'dependecies.d')}: not a setting file warden or s6 reads: did you mean dependencies.d?`,
      `${join(services, 'a', 'dependency')}: not a setting file warden or s6 reads: did you mean dependencies?`,
      `${join(services, 'a', 'notifcation-fd')}: not a setting file warden or s6 reads: did you mean notification-fd?`,
      `${join(services, 'a', 'timeout-kil')}: not a setting file warden or s6 reads: did you mean timeout-kill?`,
    ]);
  });

  it('a dir named on purpose that does not exist is a problem', async () => {
    const r = await loadUnits(layout({ serviceDirs: [join(root, 'nope')], required: [join(root, 'nope')] }), DEFAULTS);
    assert.deepEqual(messages(r), [`${join(root, 'nope')}: does not exist`]);
  });
});
