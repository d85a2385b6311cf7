import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findCycles } from '../../../src/core/dependency-order.js';

const graph = (deps: Readonly<Record<string, readonly string[]>>): Map<string, readonly string[]> => new Map(Object.entries(deps));

describe('findCycles', () => {
  const cases: { name: string; deps: Record<string, string[]>; cycles: string[][] }[] = [
    { name: 'no services', deps: {}, cycles: [] },
    { name: 'a chain has none', deps: { c: ['b'], b: ['a'], a: [] }, cycles: [] },
    { name: 'a service that depends on itself', deps: { a: ['a'] }, cycles: [['a']] },
    { name: 'a three-cycle, named from its first member', deps: { a: ['b'], b: ['c'], c: ['a'], d: ['c'] }, cycles: [['a', 'b', 'c']] },
    { name: 'two separate cycles', deps: { a: ['b'], b: ['a'], p: ['q'], q: ['p'], ok: [] }, cycles: [['a', 'b'], ['p', 'q']] },
    { name: 'a dependency that is not a service is no cycle', deps: { a: ['ghost'] }, cycles: [] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(findCycles(graph(c.deps)), c.cycles));

  test('random graphs: every cycle found is a real cycle, and an acyclic graph has none', () => {
    let seed = 42;
    const rand = (): number => {
      // xorshift32: deterministic, so a failure replays.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    for (let round = 0; round < 300; round++) {
      const names = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) => `s${i}`);
      const deps = new Map<string, string[]>(names.map((name) => [name, [...names, 'ghost'].filter(() => rand() < 0.15)]));
      const cycles = findCycles(deps);
      for (const cycle of cycles) {
        cycle.forEach((name, i) => assert.ok(deps.get(name)!.includes(cycle[(i + 1) % cycle.length]!), `round ${round}: ${cycle.join(' -> ')}`));
      }
      // Without a cycle, a topological order exists: peel services whose dependencies are peeled.
      if (cycles.length === 0) {
        const done = new Set<string>();
        for (let grew = true; grew; ) {
          grew = false;
          for (const [name, needs] of deps) {
            if (done.has(name) || !needs.every((d) => done.has(d) || !deps.has(d))) continue;
            done.add(name);
            grew = true;
          }
        }
        assert.equal(done.size, deps.size, `round ${round}: acyclic graph not ordered`);
      }
    }
  });
});
