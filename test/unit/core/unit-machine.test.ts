import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bringUpOutcome, initialUnits, step, stopLayers, waitingAtoms, withoutAtoms, type UnitEvent, type Units } from '../../../src/core/unit-machine.js';
import { resolveUnits, startLayers, type UnitDef, type UnitSet } from '../../../src/core/unit-set.js';

const refs = (owner: string, names: string[]) => names.map((name) => ({ name, file: `${owner}/${name}` }));
const longrun = (name: string, deps: string[] = [], pipe: { producerFor?: string; consumerFor?: string[]; pipelineName?: string } = {}): UnitDef => ({
  kind: 'longrun',
  name,
  dir: name,
  deps: refs(name, deps),
  producerFor: pipe.producerFor ? { name: pipe.producerFor, file: `${name}/producer-for` } : null,
  consumerFor: refs(name, pipe.consumerFor ?? []),
  pipelineName: pipe.pipelineName ? { name: pipe.pipelineName, file: `${name}/pipeline-name` } : null,
});
const oneshot = (name: string, deps: string[] = []): UnitDef => ({ kind: 'oneshot', name, dir: name, deps: refs(name, deps) });
const bundle = (name: string, contents: string[]): UnitDef => ({ kind: 'bundle', name, dir: name, contents: refs(name, contents) });

/** What the simulated world does: how long each unit takes (ms, default 1), which oneshots fail. */
interface World {
  readonly durations?: Record<string, number>;
  readonly failing?: readonly string[];
  readonly heldDown?: readonly string[];
}

type Step = UnitEvent | { readonly type: 'stop-all' };

/**
 * Drives the model in virtual time as the daemon does: a started longrun is up (ready) after its
 * duration, a stopped one down after it; a oneshot's script ends after its duration. `script`
 * feeds events at given times. Returns every effect as "t effect name".
 */
function simulate(set: UnitSet, world: World = {}, script: readonly (readonly [number, Step])[] = []): { trace: string[]; units: Units } {
  const longruns = new Map<string, 'up' | 'down' | 'between'>();
  const view = (name: string) => longruns.get(name) ?? 'down';
  const timeline: { at: number; seq: number; run: () => void }[] = [];
  let seq = 0;
  let now = 0;
  const later = (ms: number, run: () => void): void => void timeline.push({ at: now + ms, seq: seq++, run });
  const took = (name: string): number => world.durations?.[name] ?? 1;
  const trace: string[] = [];
  let units = initialUnits(resolveUnits([], []));
  let stopping: string[][] | null = null;

  const feed = (event: UnitEvent): void => {
    const result = step(units, event, view);
    units = result.units;
    for (const e of result.effects) {
      trace.push(`${now} ${e.type}${e.type === 'run' ? `-${e.phase}` : ''} ${e.name}${e.type === 'oneshot-failed' ? ` blocks [${e.blocked.join(',')}]` : ''}`);
      switch (e.type) {
        case 'start':
          longruns.set(e.name, 'between');
          later(took(e.name), () => (longruns.set(e.name, 'up'), feed({ type: 'longrun-changed' })));
          break;
        case 'stop':
        case 'retire':
          if (view(e.name) === 'down') break;
          longruns.set(e.name, 'between');
          later(took(e.name), () => (longruns.set(e.name, 'down'), feed({ type: 'longrun-changed' })));
          break;
        case 'install':
          longruns.set(e.name, 'down');
          break;
        case 'run': {
          const ok = e.phase === 'down' || !(world.failing ?? []).includes(e.name);
          later(took(e.name), () => feed({ type: 'oneshot-finished', name: e.name, phase: e.phase, ok, reason: ok ? '' : 'exited 1' }));
          break;
        }
        default:
          break;
      }
    }
    nextLayer();
  };
  // Shutdown as the daemon runs it: one stop layer at a time, the next once it is all down.
  const nextLayer = (): void => {
    if (stopping === null) return;
    const layer = stopping[0];
    if (layer === undefined) return;
    const down = layer.every((n) => (units.set.atoms.get(n)?.kind === 'longrun' ? view(n) === 'down' : units.oneshots.get(n)?.kind !== 'stopping'));
    if (!down) return;
    stopping.shift();
    if (stopping[0] !== undefined) feed({ type: 'bring-down', atoms: stopping[0] });
  };

  for (const [at, s] of script) {
    timeline.push({
      at,
      seq: seq++,
      run: () => {
        if (s.type !== 'stop-all') return feed(s);
        feed({ type: 'close' });
        stopping = [[], ...stopLayers(units, view)];
        nextLayer();
      },
    });
  }
  feed({ type: 'loaded', set, heldDown: new Set(world.heldDown ?? []) });
  for (let guard = 0; timeline.length > 0 && guard < 10_000; guard++) {
    timeline.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = timeline.shift()!;
    now = next.at;
    next.run();
  }
  return { trace, units };
}

describe('the unit machine: what starts when, in virtual time', () => {
  const cases: { name: string; defs: UnitDef[]; roots: string[]; world?: World; script?: [number, Step][]; trace: string[] }[] = [
    {
      name: 'longruns and oneshots alternate in dependency order; each waits for the one before to be up',
      defs: [oneshot('init'), longrun('db', ['init']), oneshot('migrate', ['db']), longrun('web', ['migrate']), bundle('user', ['web'])],
      roots: ['user'],
      world: { durations: { init: 5, db: 10, migrate: 3 } },
      trace: ['0 run-up init', '5 oneshot-up init', '5 start db', '15 run-up migrate', '18 oneshot-up migrate', '18 start web'],
    },
    {
      name: 'a bundle dependency waits for every member; members with nothing to wait for start together',
      defs: [longrun('db'), longrun('cache'), bundle('backend', ['db', 'cache']), longrun('web', ['backend']), bundle('user', ['web'])],
      roots: ['user'],
      world: { durations: { db: 7, cache: 2 } },
      trace: ['0 start cache', '0 start db', '7 start web'],
    },
    {
      name: 'a pipeline-name brings up the whole pipeline; units outside the roots are installed down',
      defs: [longrun('app', [], { producerFor: 'app-log' }), longrun('app-log', [], { consumerFor: ['app'], pipelineName: 'app-pipeline' }), longrun('spare'), oneshot('unused'), bundle('user', ['app-pipeline'])],
      roots: ['user'],
      trace: ['0 start app', '0 start app-log', '0 install spare'],
    },
    {
      name: 'a failed oneshot blocks what depends on it, directly or not; the rest starts',
      defs: [oneshot('setup'), longrun('db', ['setup']), longrun('web', ['db']), longrun('other'), bundle('user', ['web', 'other'])],
      roots: ['user'],
      world: { failing: ['setup'] },
      trace: ['0 start other', '0 run-up setup', '1 oneshot-failed setup blocks [db,web]'],
    },
    {
      name: 'shutdown stops in the reverse of the start order: dependents first, a oneshot runs its down in its layer',
      defs: [oneshot('init'), longrun('db', ['init']), longrun('web', ['db']), longrun('worker', ['db']), bundle('user', ['web', 'worker'])],
      roots: ['user'],
      world: { durations: { web: 4 } },
      script: [[20, { type: 'stop-all' }]],
      trace: [
        '0 run-up init', '1 oneshot-up init', '1 start db', '2 start web', '2 start worker',
        '20 stop web', '20 stop worker', '24 stop db', '25 run-down init',
      ],
    },
    {
      name: 'a rescan that adds a unit starts it after its dependencies; one that removes a unit retires it',
      defs: [longrun('db'), longrun('old'), bundle('user', ['db', 'old'])],
      roots: ['user'],
      script: [[10, { type: 'loaded', set: resolveUnits([oneshot('seed', ['db']), longrun('db'), longrun('new', ['seed']), bundle('user', ['db', 'new'])], ['user']), heldDown: new Set() }]],
      trace: ['0 start db', '0 start old', '10 retire old', '10 run-up seed', '11 oneshot-up seed', '11 start new'],
    },
    {
      name: 'change -u on a oneshot outside the roots runs its up after what it needs; -d runs its down after its dependents stop',
      defs: [longrun('db'), oneshot('backup', ['db']), longrun('uploader', ['backup']), bundle('user', ['db'])],
      roots: ['user'],
      script: [
        [10, { type: 'change', direction: 'up', atoms: ['uploader'] }],
        [20, { type: 'change', direction: 'down', atoms: ['backup'] }],
      ],
      trace: ['0 start db', '0 install uploader', '10 run-up backup', '11 oneshot-up backup', '11 start uploader', '20 stop uploader', '21 run-down backup'],
    },
    {
      name: 'a failed oneshot is tried again when asked up again',
      defs: [oneshot('flaky'), bundle('user', ['flaky'])],
      roots: ['user'],
      world: { failing: ['flaky'] },
      script: [[5, { type: 'change', direction: 'up', atoms: ['flaky'] }]],
      trace: ['0 run-up flaky', '1 oneshot-failed flaky blocks []', '5 run-up flaky', '6 oneshot-failed flaky blocks []'],
    },
    {
      name: 'a held-down longrun (services.d down file) is installed, not started, until asked; its dependents wait for it',
      defs: [longrun('manual'), longrun('after', ['manual']), bundle('user', ['manual', 'after'])],
      roots: ['user'],
      world: { heldDown: ['manual'] },
      script: [[10, { type: 'change', direction: 'up', atoms: ['manual'] }]],
      trace: ['0 install manual', '10 start manual', '11 start after'],
    },
    {
      name: 'nothing starts once shutdown began, not even what was waiting for a dependency',
      defs: [longrun('db'), longrun('web', ['db']), bundle('user', ['web'])],
      roots: ['user'],
      world: { durations: { db: 10 } },
      script: [[5, { type: 'stop-all' }]],
      trace: ['0 start db', '5 stop db'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = resolveUnits(c.defs, c.roots);
      assert.deepEqual(set.problems, []);
      assert.deepEqual(simulate(set, c.world, c.script).trace, c.trace);
    });
  }
});

describe('the unit machine: stop layers and what waits', () => {
  it('stop layers are the start layers reversed, over what runs', () => {
    const set = resolveUnits([oneshot('a'), longrun('b', ['a']), longrun('c', ['b']), longrun('d', ['a']), oneshot('e', ['c', 'd']), bundle('user', ['e'])], ['user']);
    const { units } = simulate(set);
    const view = () => 'up' as const;
    assert.deepEqual(stopLayers(units, view), [...startLayers(set)].reverse());
    assert.deepEqual(stopLayers(units, view), [['e'], ['c'], ['b', 'd'], ['a']]);
  });

  it('what waits: wanted units not up, a failed oneshot among them; not what is outside the roots', () => {
    const set = resolveUnits([oneshot('bad'), longrun('app', ['bad']), longrun('ok'), longrun('spare'), bundle('user', ['app', 'ok'])], ['user']);
    const { units } = simulate(set, { failing: ['bad'] });
    assert.deepEqual(waitingAtoms(units, (n) => (n === 'ok' ? 'up' : 'down')), ['app', 'bad']);
  });

  it('a longrun the bring-up waits for only until launched (services.d without S6_CMD_WAIT_FOR_SERVICES) does not hold it up once started', () => {
    const set = { ...resolveUnits([longrun('legacy'), longrun('app'), bundle('user', ['app'])], ['user', 'legacy']), launchedOnly: ['legacy'] };
    const { units } = simulate(set, { durations: { legacy: 1000 } });
    // Launched and not ready yet: s6-overlay's services-up has returned; app is still waited for.
    assert.deepEqual(bringUpOutcome(units, (n) => (n === 'app' ? 'between' : 'between')).pending, ['app']);
    assert.equal(bringUpOutcome(units, (n) => (n === 'app' ? 'up' : 'between')).done, true);
    // Waited for until ready otherwise.
    const { units: awaited } = simulate({ ...set, launchedOnly: [] }, { durations: { legacy: 1000 } });
    assert.deepEqual(bringUpOutcome(awaited, (n) => (n === 'app' ? 'up' : 'between')).pending, ['legacy']);
  });

  it('without an atom (its socket cannot be bound), what depends on it cannot start and says why', () => {
    const set = withoutAtoms(resolveUnits([longrun('db'), longrun('web', ['db']), longrun('x'), bundle('user', ['web', 'x'])], ['user']), new Map([['db', 'its socket cannot be bound']]));
    assert.deepEqual([...set.atoms.keys()], ['x']);
    assert.deepEqual(set.wanted, ['x']);
    assert.deepEqual(Object.fromEntries(set.blocked), { db: 'its socket cannot be bound', web: 'depends on db, which cannot start' });
  });
});
