import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dependencyOrder, type DependencyOrder } from '../../../src/core/dependency-order.js';

/** `{ web: ['db'] }` → the map dependencyOrder takes. */
const graph = (deps: Readonly<Record<string, readonly string[]>>): Map<string, readonly string[]> => new Map(Object.entries(deps));

/** Problems as `service: message`, sorted, so tables read easily. */
const problemLines = (order: DependencyOrder): string[] => order.problems.map((p) => `${p.service}: ${p.message}`).sort();

const cases: readonly {
  readonly name: string;
  readonly deps: Readonly<Record<string, readonly string[]>>;
  readonly layers: readonly (readonly string[])[];
  readonly problems: readonly string[];
}[] = [
  { name: 'no services', deps: {}, layers: [], problems: [] },
  { name: 'independent services share the first layer, sorted', deps: { web: [], db: [], cache: [] }, layers: [['cache', 'db', 'web']], problems: [] },
  { name: 'a chain is one service per layer', deps: { c: ['b'], b: ['a'], a: [] }, layers: [['a'], ['b'], ['c']], problems: [] },
  {
    name: 'a diamond: both middles in one layer, the top after them',
    deps: { d: ['b', 'c'], b: ['a'], c: ['a'], a: [] },
    layers: [['a'], ['b', 'c'], ['d']],
    problems: [],
  },
  {
    name: 'a service waits for its deepest dependency',
    deps: { top: ['a', 'c'], c: ['b'], b: ['a'], a: [] },
    layers: [['a'], ['b'], ['c'], ['top']],
    problems: [],
  },
  {
    name: 'a missing dependency is named; the others still run',
    deps: { web: ['db'], serf: [] },
    layers: [['serf']],
    problems: ['web: depends on db, which is not a service'],
  },
  {
    name: 'several missing dependencies are all named',
    deps: { web: ['db', 'cache'], serf: [] },
    layers: [['serf']],
    problems: ['web: depends on db, cache, which are not a service'],
  },
  {
    name: 'dependents of a service with a missing dependency are left out, with why',
    deps: { web: ['db'], lb: ['web'], edge: ['lb'], serf: [] },
    layers: [['serf']],
    problems: ['edge: depends on lb, which cannot start', 'lb: depends on web, which cannot start', 'web: depends on db, which is not a service'],
  },
  {
    name: 'a self-dependency is a cycle',
    deps: { a: ['a'], b: [] },
    layers: [['b']],
    problems: ['a: dependency cycle: a -> a'],
  },
];

describe('dependencyOrder', () => {
  for (const c of cases) {
    test(c.name, () => {
      const order = dependencyOrder(graph(c.deps));
      assert.deepEqual(order.layers, c.layers, 'layers');
      assert.deepEqual(problemLines(order), c.problems, 'problems');
    });
  }

  test('a cycle a -> b -> c -> a is reported with its chain for each member, independent services unaffected', () => {
    const order = dependencyOrder(graph({ a: ['b'], b: ['c'], c: ['a'], x: [], y: ['x'] }));
    assert.deepEqual(order.layers, [['x'], ['y']]);
    assert.deepEqual(problemLines(order), [
      'a: dependency cycle: a -> b -> c -> a',
      'b: dependency cycle: b -> c -> a -> b',
      'c: dependency cycle: c -> a -> b -> c',
    ]);
  });

  test('dependents of a cycle are left out, naming the service they wait for', () => {
    const order = dependencyOrder(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['c'], e: ['d'], x: [] }));
    assert.deepEqual(order.layers, [['x']]);
    const byService = new Map(order.problems.map((p) => [p.service, p.message]));
    assert.equal(byService.get('d'), 'depends on c, which cannot start');
    assert.equal(byService.get('e'), 'depends on d, which cannot start');
  });

  test('every service left out of the layers has a problem naming it', () => {
    const order = dependencyOrder(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['c'], x: [] }));
    const placed = new Set(order.layers.flat());
    const explained = new Set(order.problems.map((p) => p.service));
    for (const name of ['a', 'b', 'c', 'd', 'x']) {
      assert.ok(placed.has(name) !== explained.has(name), `${name}: placed ${placed.has(name)}, explained ${explained.has(name)}`);
    }
  });

  test('two separate cycles are both reported', () => {
    const order = dependencyOrder(graph({ a: ['b'], b: ['a'], p: ['q'], q: ['r'], r: ['p'], ok: [] }));
    assert.deepEqual(order.layers, [['ok']]);
    const messages = order.problems.map((p) => p.message);
    assert.ok(messages.includes('dependency cycle: a -> b -> a'), JSON.stringify(messages));
    assert.ok(messages.includes('dependency cycle: p -> q -> r -> p'), JSON.stringify(messages));
    assert.equal(order.problems.length, 5);
  });

  test('random graphs: terminates, every service placed or explained, layers respect dependencies', () => {
    let seed = 42;
    const rand = (): number => {
      // xorshift32: deterministic, so a failure replays.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 8);
      const names = Array.from({ length: n }, (_, i) => `s${i}`);
      const deps = new Map<string, string[]>();
      for (const name of names) {
        const needs: string[] = [];
        for (const other of [...names, 'ghost']) if (rand() < 0.15) needs.push(other);
        deps.set(name, needs);
      }
      const order = dependencyOrder(deps);
      const layerOf = new Map<string, number>();
      order.layers.forEach((layer, i) => layer.forEach((name) => layerOf.set(name, i)));
      const explained = new Set(order.problems.map((p) => p.service));
      for (const [name, needs] of deps) {
        const layer = layerOf.get(name);
        assert.ok((layer !== undefined) !== explained.has(name), `round ${round}, ${name}: ${JSON.stringify([...deps])}`);
        if (layer !== undefined) for (const d of needs) assert.ok((layerOf.get(d) ?? Infinity) < layer, `round ${round}: ${name} before ${d}`);
      }
      for (const layer of order.layers) assert.ok(layer.length > 0, `round ${round}: empty layer`);
    }
  });
});
