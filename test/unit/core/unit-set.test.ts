import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extendUnit, OVERLAY_UNITS, resolveUnits, startable, startLayers, TOP, type UnitDef } from '../../../src/core/unit-set.js';

const ref = (owner: string, list: string) => (name: string) => ({ name, file: `${owner}/${list}/${name}` });
const longrun = (name: string, deps: string[] = [], pipe: { producerFor?: string; consumerFor?: string[]; pipelineName?: string } = {}): UnitDef => ({
  kind: 'longrun',
  name,
  dir: name,
  deps: deps.map(ref(name, 'dependencies.d')),
  producerFor: pipe.producerFor ? { name: pipe.producerFor, file: `${name}/producer-for` } : null,
  consumerFor: (pipe.consumerFor ?? []).map((n) => ({ name: n, file: `${name}/consumer-for` })),
  pipelineName: pipe.pipelineName ? { name: pipe.pipelineName, file: `${name}/pipeline-name` } : null,
});
const oneshot = (name: string, deps: string[] = []): UnitDef => ({ kind: 'oneshot', name, dir: name, deps: deps.map(ref(name, 'dependencies.d')) });
const bundle = (name: string, contents: string[]): UnitDef => ({ kind: 'bundle', name, dir: name, contents: contents.map(ref(name, 'contents.d')) });

/** The image's units over s6-overlay's own; `user`/`user2` given here extend s6-overlay's (as a layer does). */
function overlay(defs: UnitDef[]): UnitDef[] {
  const own = new Map(OVERLAY_UNITS.map((u) => [u.name, u]));
  for (const d of defs) {
    const base = own.get(d.name);
    own.set(d.name, base ? extendUnit(base, { deps: d.kind === 'bundle' ? [] : d.deps, contents: d.kind === 'bundle' ? d.contents : [] }) : d);
  }
  return [...own.values()];
}

describe('resolveUnits: what each atom waits for and what boot brings up', () => {
  const cases: { name: string; defs: UnitDef[]; deps: Record<string, string[]>; wanted: string[]; problems?: string[]; blocked?: Record<string, string> }[] = [
    {
      name: 'a user longrun on base waits for cont-init.d, which waits for fix-attrs',
      defs: overlay([longrun('app', ['base']), bundle('user', ['app'])]),
      deps: { app: ['fix-attrs', 'legacy-cont-init'], 'legacy-cont-init': ['fix-attrs'], 'fix-attrs': [], 'legacy-services': ['app', 'fix-attrs', 'legacy-cont-init'] },
      wanted: ['app', 'fix-attrs', 'legacy-cont-init', 'legacy-services'],
    },
    {
      name: 'a longrun without base starts beside cont-init.d, as under s6-rc',
      defs: overlay([longrun('early'), bundle('user', ['early'])]),
      deps: { early: [] },
      wanted: ['early', 'fix-attrs', 'legacy-cont-init', 'legacy-services'],
    },
    {
      name: 'user2 has no order of its own: only a dependency on legacy-services puts it after services.d',
      defs: overlay([longrun('late', ['legacy-services']), longrun('free'), bundle('user2', ['late', 'free'])]),
      deps: { late: ['legacy-services'], free: [] },
      wanted: ['fix-attrs', 'free', 'late', 'legacy-cont-init', 'legacy-services'],
    },
    {
      name: 'a layer adds oneshots to base and orders fix-attrs and cont-init after them (Home Assistant add-on base)',
      defs: overlay([oneshot('banner'), oneshot('log-level', ['banner']), bundle('base', ['banner', 'log-level']), oneshot('fix-attrs', ['banner']), oneshot('legacy-cont-init', ['log-level'])]),
      deps: { banner: [], 'log-level': ['banner'], 'fix-attrs': ['banner'], 'legacy-cont-init': ['fix-attrs', 'log-level'], 'legacy-services': ['banner', 'fix-attrs', 'legacy-cont-init', 'log-level'] },
      wanted: ['banner', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 'log-level'],
    },
    {
      name: 'bundles expand in contents and dependencies, nested',
      defs: overlay([longrun('db'), oneshot('migrate', ['db']), bundle('backend', ['db', 'migrate']), bundle('all', ['backend']), longrun('web', ['all']), bundle('user', ['web'])]),
      deps: { web: ['db', 'migrate'], migrate: ['db'] },
      wanted: ['db', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 'migrate', 'web'],
    },
    {
      name: 'a longrun outside every root is defined, not wanted',
      defs: overlay([longrun('spare', ['base'])]),
      deps: { spare: ['fix-attrs', 'legacy-cont-init'] },
      wanted: ['fix-attrs', 'legacy-cont-init', 'legacy-services'],
    },
    {
      name: 'an undefined dependency blocks the dependent and what depends on it, naming the file',
      defs: overlay([longrun('web', ['dbb']), longrun('proxy', ['web']), longrun('ok'), bundle('user', ['proxy', 'ok'])]),
      deps: { ok: [] },
      // As when s6-rc fails to bring a user service up: legacy-services (after all of user) does not start.
      wanted: ['fix-attrs', 'legacy-cont-init', 'ok'],
      problems: ['web/dependencies.d/dbb: web depends on "dbb", which is not defined anywhere: web does not start'],
      blocked: { web: 'depends on "dbb", which is not defined anywhere', proxy: 'depends on web, which cannot start', 'legacy-services': 'depends on proxy, which cannot start' },
    },
    {
      name: 'a cycle blocks every unit on it and names the chain',
      defs: overlay([longrun('a', ['b']), longrun('b', ['a']), longrun('c'), bundle('user', ['a', 'c'])]),
      deps: { c: [] },
      wanted: ['c', 'fix-attrs', 'legacy-cont-init'],
      problems: ['a: dependency cycle: a -> b -> a: none of them starts'],
      blocked: { a: 'on a dependency cycle: a -> b -> a', b: 'on a dependency cycle: a -> b -> a', 'legacy-services': 'depends on a, which cannot start' },
    },
    {
      name: 'a bundle member that is defined nowhere is reported and left out of the bundle',
      defs: overlay([longrun('a'), bundle('user', ['a', 'ghost'])]),
      deps: { a: [] },
      wanted: ['a', 'fix-attrs', 'legacy-cont-init', 'legacy-services'],
      problems: ['user/contents.d/ghost: bundle user contains "ghost", which is not defined anywhere'],
    },
    {
      name: 'a pipeline-name is a bundle of the whole pipeline that user may name',
      defs: overlay([
        longrun('app', ['base'], { producerFor: 'filter' }),
        longrun('filter', [], { producerFor: 'app-log', consumerFor: ['app'] }),
        longrun('app-log', [], { consumerFor: ['filter'], pipelineName: 'app-pipeline' }),
        bundle('user', ['app-pipeline']),
      ]),
      deps: { app: ['fix-attrs', 'legacy-cont-init'], filter: [], 'app-log': [] },
      wanted: ['app', 'app-log', 'filter', 'fix-attrs', 'legacy-cont-init', 'legacy-services'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = resolveUnits(c.defs, [TOP]);
      assert.deepEqual(set.problems.map((p) => `${p.file}: ${p.message}`), c.problems ?? []);
      for (const [name, deps] of Object.entries(c.deps)) assert.deepEqual([name, set.atoms.get(name)?.deps], [name, deps]);
      assert.deepEqual(set.wanted, c.wanted);
      assert.deepEqual(Object.fromEntries(set.blocked), c.blocked ?? {});
    });
  }

  it('pipes: producers feed their consumer; a consumer-for not declared back is a problem and no pipe', () => {
    const good = resolveUnits([longrun('a', [], { producerFor: 'log' }), longrun('b', [], { producerFor: 'log' }), longrun('log', [], { consumerFor: ['a', 'b'] })], []);
    assert.deepEqual(good.pipes, [{ consumer: 'log', producers: ['a', 'b'] }]);
    const bad = resolveUnits([longrun('a'), longrun('log', [], { consumerFor: ['a'] })], []);
    assert.deepEqual(bad.pipes, []);
    assert.deepEqual(bad.problems.map((p) => p.message), ['log is a consumer for a, whose producer-for does not name log']);
  });

  it('an invalid unit is a name others may use, and it blocks its dependents', () => {
    const set = resolveUnits([longrun('broken'), longrun('web', ['broken'])], ['web', 'broken'], new Set(['broken']));
    assert.deepEqual(Object.fromEntries(set.blocked), { broken: 'its definition has problems', web: 'depends on broken, which cannot start' });
    assert.deepEqual(set.problems, []);
  });
});

describe('driving a resolved set in virtual time', () => {
  const set = resolveUnits(overlay([oneshot('init', ['base']), longrun('db', ['init']), longrun('web', ['db', 'base']), bundle('user', ['web'])]), [TOP]);

  it('start layers follow the dependencies', () => {
    assert.deepEqual(startLayers(set, set.wanted), [['fix-attrs'], ['legacy-cont-init'], ['init'], ['db'], ['web'], ['legacy-services']]);
  });

  it('startable: what may start once these are up', () => {
    const steps: string[][] = [];
    const up = new Set<string>();
    const started = new Set<string>();
    for (;;) {
      const next = startable(set, (n) => up.has(n), (n) => started.has(n));
      if (next.length === 0) break;
      steps.push(next);
      for (const n of next) {
        started.add(n);
        up.add(n);
      }
    }
    assert.deepEqual(steps, [['fix-attrs'], ['legacy-cont-init'], ['init'], ['db'], ['web'], ['legacy-services']]);
  });
});
