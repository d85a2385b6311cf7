/**
 * The unit set at run time: which atom the daemon starts when, which go down with one, the
 * stop layers, and each oneshot's state. Pure: `step` takes the state, an event and what the
 * supervisor says of its longruns, and returns the next state with the effects the daemon
 * carries out (hand a longrun to the supervisor, run a oneshot's up or down, …).
 *
 * As s6-rc: an atom is wanted up (boot's selection, moved by `change`); a wanted atom starts once
 * every dependency is up; an atom no longer wanted goes down once nothing that depends on it is
 * up. A oneshot whose up failed stays failed, and what depends on it does not start.
 */
import { startLayers, type UnitSet } from './unit-set.js';

export type OneshotState =
  | { readonly kind: 'down' }
  /** Its `up` runs. */
  | { readonly kind: 'starting' }
  | { readonly kind: 'up' }
  | { readonly kind: 'failed'; readonly reason: string }
  /** Its `down` runs. */
  | { readonly kind: 'stopping' };

/** Whether a longrun is handed to the supervisor, and with which goal. */
export type LongrunHold = 'installed-down' | 'started';

/** What the supervisor says of a longrun: up means running and ready. */
export type LongrunView = (name: string) => 'up' | 'down' | 'between';

export interface Units {
  readonly set: UnitSet;
  /** `change` requests that moved an atom from boot's selection, newest wins. */
  readonly overrides: ReadonlyMap<string, 'up' | 'down'>;
  /** Longruns that are wanted but start only when asked (a services.d `down` file). */
  readonly heldDown: ReadonlySet<string>;
  readonly oneshots: ReadonlyMap<string, OneshotState>;
  readonly longruns: ReadonlyMap<string, LongrunHold>;
  /** Shutting down: nothing starts any more. */
  readonly closed: boolean;
}

export type UnitEvent =
  /** A scan resolved the set anew. */
  | { readonly type: 'loaded'; readonly set: UnitSet; readonly heldDown: ReadonlySet<string> }
  /** Something the supervisor sees changed (a longrun came up, went down). */
  | { readonly type: 'longrun-changed' }
  | { readonly type: 'oneshot-finished'; readonly name: string; readonly phase: 'up' | 'down'; readonly ok: boolean; readonly reason: string }
  /** s6-rc's `change`: up brings what the atoms need too, down what needs them. */
  | { readonly type: 'change'; readonly direction: 'up' | 'down'; readonly atoms: readonly string[] }
  /** Shutdown stops everything: no atom starts any more. */
  | { readonly type: 'close' }
  /** Shutdown's next stop layer: its longruns stop, its oneshots that are up run their down. */
  | { readonly type: 'bring-down'; readonly atoms: readonly string[] };

export type UnitEffect =
  /** Supervise the longrun, kept down. */
  | { readonly type: 'install'; readonly name: string }
  /** Supervise it up, or tell the supervised one to go up. */
  | { readonly type: 'start'; readonly name: string }
  | { readonly type: 'stop'; readonly name: string }
  /** It is gone from the set: stop it and forget it. */
  | { readonly type: 'retire'; readonly name: string }
  | { readonly type: 'run'; readonly name: string; readonly phase: 'up' | 'down' }
  | { readonly type: 'oneshot-up'; readonly name: string }
  /** Its up failed: `blocked` will not start. */
  | { readonly type: 'oneshot-failed'; readonly name: string; readonly reason: string; readonly blocked: readonly string[] }
  | { readonly type: 'oneshot-down-failed'; readonly name: string; readonly reason: string };

export function initialUnits(set: UnitSet, heldDown: ReadonlySet<string> = new Set()): Units {
  return { set, overrides: new Map(), heldDown, oneshots: new Map(), longruns: new Map(), closed: false };
}

/** The atoms wanted up now: boot's selection moved by the `change` requests. */
export function wantedAtoms(units: Units): Set<string> {
  const wanted = new Set(units.set.wanted);
  for (const [name, way] of units.overrides) {
    if (!units.set.atoms.has(name)) continue;
    if (way === 'up') wanted.add(name);
    else wanted.delete(name);
  }
  return wanted;
}

/** Up for its dependents: a oneshot whose up succeeded, a longrun running and ready. */
export function isUp(units: Units, view: LongrunView, name: string): boolean {
  const atom = units.set.atoms.get(name);
  if (atom === undefined) return false;
  return atom.kind === 'oneshot' ? units.oneshots.get(name)?.kind === 'up' : view(name) === 'up';
}

/** Down for its dependencies: nothing of it runs (a failed oneshot is down). */
function isDown(units: Units, view: LongrunView, name: string): boolean {
  const atom = units.set.atoms.get(name);
  if (atom === undefined) return true;
  if (atom.kind === 'longrun') return units.longruns.get(name) !== 'started' && view(name) === 'down';
  const kind = units.oneshots.get(name)?.kind ?? 'down';
  return kind === 'down' || kind === 'failed';
}

/** `names` and everything they depend on, directly or not. */
export function dependenciesOf(set: UnitSet, names: Iterable<string>): string[] {
  const out = new Set<string>();
  const visit = (name: string): void => {
    if (out.has(name) || !set.atoms.has(name)) return;
    out.add(name);
    for (const d of set.atoms.get(name)!.deps) visit(d);
  };
  for (const n of names) visit(n);
  return [...out].sort();
}

/** `names` and every atom that depends on one of them, directly or not. */
export function dependentsOf(set: UnitSet, names: Iterable<string>): string[] {
  const out = new Set([...names].filter((n) => set.atoms.has(n)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const atom of set.atoms.values()) {
      if (out.has(atom.name) || !atom.deps.some((d) => out.has(d))) continue;
      out.add(atom.name);
      grew = true;
    }
  }
  return [...out].sort();
}

/** Atoms waiting: wanted and not up yet (a longrun not handed to the supervisor, a oneshot not up, failed included). */
export function waitingAtoms(units: Units, view: LongrunView): string[] {
  return [...wantedAtoms(units)]
    .filter((n) => (units.set.atoms.get(n)!.kind === 'longrun' ? !units.longruns.has(n) : !isUp(units, view, n)))
    .sort();
}

/**
 * Where bringing the wanted atoms up stands, as s6-rc's `change` sees it: it is over once every
 * wanted atom is up or cannot come up (it failed, or needs one that failed). A held-down longrun
 * is not waited for: it starts only when asked; one of `launchedOnly`, only until it is started.
 */
export function bringUpOutcome(units: Units, view: LongrunView): { readonly done: boolean; readonly failed: readonly string[]; readonly pending: readonly string[] } {
  const wanted = wantedAtoms(units);
  const failed = [...wanted].filter((n) => units.oneshots.get(n)?.kind === 'failed').sort();
  const cannot = new Set(dependentsOf(units.set, failed));
  const held = (n: string): boolean => units.heldDown.has(n) && units.overrides.get(n) !== 'up';
  const launchedOnly = new Set(units.set.launchedOnly ?? []);
  const launched = (n: string): boolean => launchedOnly.has(n) && units.longruns.get(n) === 'started';
  const pending = [...wanted].filter((n) => !cannot.has(n) && !held(n) && !launched(n) && !isUp(units, view, n)).sort();
  return { done: pending.length === 0, failed, pending };
}

/** What to stop at shutdown, layer by layer: the reverse of the start layers of what runs. */
export function stopLayers(units: Units, view: LongrunView): string[][] {
  const running = [...units.set.atoms.keys()].filter((n) => !isDown(units, view, n) || units.longruns.has(n));
  return startLayers(units.set, running).reverse();
}

/** Why a oneshot's failure matters: the wanted atoms that can now not start. */
function blockedBy(units: Units, name: string): string[] {
  const wanted = wantedAtoms(units);
  return dependentsOf(units.set, [name]).filter((n) => n !== name && wanted.has(n));
}

export function step(units: Units, event: UnitEvent, view: LongrunView): { units: Units; effects: UnitEffect[] } {
  const effects: UnitEffect[] = [];
  let next: Units = units;
  switch (event.type) {
    case 'loaded': {
      // Names gone from the set are forgotten: a removed oneshot's down is not run (it may be
      // re-added); a removed longrun is retired. A kept oneshot keeps its state: as with s6-rc,
      // one that is up is not run again.
      const longruns = new Map(units.longruns);
      for (const name of [...longruns.keys()].sort()) {
        if (event.set.atoms.get(name)?.kind === 'longrun') continue;
        longruns.delete(name);
        effects.push({ type: 'retire', name });
      }
      const oneshots = new Map([...units.oneshots].filter(([name]) => event.set.atoms.get(name)?.kind === 'oneshot'));
      const overrides = new Map([...units.overrides].filter(([name]) => event.set.atoms.has(name)));
      next = { ...units, set: event.set, heldDown: event.heldDown, longruns, oneshots, overrides };
      break;
    }
    case 'longrun-changed':
      break;
    case 'oneshot-finished': {
      const state = units.oneshots.get(event.name);
      const expected = event.phase === 'up' ? 'starting' : 'stopping';
      // Forgotten meanwhile (removed by a rescan): nothing depends on the outcome any more.
      if (state?.kind !== expected) return { units, effects };
      const oneshots = new Map(units.oneshots);
      if (event.phase === 'up') {
        oneshots.set(event.name, event.ok ? { kind: 'up' } : { kind: 'failed', reason: event.reason });
        if (!units.closed) {
          effects.push(event.ok ? { type: 'oneshot-up', name: event.name } : { type: 'oneshot-failed', name: event.name, reason: event.reason, blocked: blockedBy(units, event.name) });
        }
      } else {
        // s6-rc counts a oneshot as down after its down ran, whatever its outcome.
        oneshots.set(event.name, { kind: 'down' });
        if (!event.ok) effects.push({ type: 'oneshot-down-failed', name: event.name, reason: event.reason });
      }
      next = { ...units, oneshots };
      break;
    }
    case 'change': {
      const moved = event.direction === 'up' ? dependenciesOf(units.set, event.atoms) : dependentsOf(units.set, event.atoms);
      const overrides = new Map(units.overrides);
      const oneshots = new Map(units.oneshots);
      for (const name of moved) {
        overrides.set(name, event.direction);
        // Asked up again, a failed oneshot is tried again (s6-rc runs it again).
        if (event.direction === 'up' && oneshots.get(name)?.kind === 'failed') oneshots.set(name, { kind: 'down' });
      }
      next = { ...units, overrides, oneshots };
      break;
    }
    case 'close':
      next = { ...units, closed: true };
      break;
    case 'bring-down': {
      const longruns = new Map(units.longruns);
      const oneshots = new Map(units.oneshots);
      for (const name of [...event.atoms].sort()) {
        if (longruns.has(name)) {
          if (longruns.get(name) === 'started' || view(name) !== 'down') effects.push({ type: 'stop', name });
          longruns.set(name, 'installed-down');
        } else if (oneshots.get(name)?.kind === 'up') {
          oneshots.set(name, { kind: 'stopping' });
          effects.push({ type: 'run', name, phase: 'down' });
        }
      }
      next = { ...units, longruns, oneshots };
      break;
    }
  }
  const settledStep = settle(next, view);
  return { units: settledStep.units, effects: [...effects, ...settledStep.effects] };
}

/** Starts what may start and stops what is no longer wanted once its dependents are down. */
function settle(units: Units, view: LongrunView): { units: Units; effects: UnitEffect[] } {
  const effects: UnitEffect[] = [];
  const longruns = new Map(units.longruns);
  const oneshots = new Map(units.oneshots);
  const now: Units = { ...units, longruns, oneshots };
  const wanted = wantedAtoms(units);
  const ready = (name: string): boolean => units.set.atoms.get(name)!.deps.every((d) => isUp(now, view, d));
  const dependentsDown = (name: string): boolean =>
    dependentsOf(units.set, [name]).every((n) => n === name || isDown(now, view, n));

  for (const atom of [...units.set.atoms.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const { name } = atom;
    const want = wanted.has(name) && !units.closed;
    if (atom.kind === 'longrun') {
      const hold = longruns.get(name);
      const held = units.heldDown.has(name) && units.overrides.get(name) !== 'up';
      if (want && !held && hold !== 'started' && ready(name)) {
        longruns.set(name, 'started');
        effects.push({ type: 'start', name });
      } else if (hold === undefined && !units.closed && (!wanted.has(name) || held)) {
        // Installed but down: scripts start it by path (s6-svc -u), or `change` does.
        longruns.set(name, 'installed-down');
        effects.push({ type: 'install', name });
      } else if (hold === 'started' && !wanted.has(name) && !units.closed && dependentsDown(name)) {
        longruns.set(name, 'installed-down');
        effects.push({ type: 'stop', name });
      }
      continue;
    }
    const kind = oneshots.get(name)?.kind ?? 'down';
    if (want && kind === 'down' && ready(name)) {
      oneshots.set(name, { kind: 'starting' });
      effects.push({ type: 'run', name, phase: 'up' });
    } else if (!wanted.has(name) && !units.closed && kind === 'up' && dependentsDown(name)) {
      oneshots.set(name, { kind: 'stopping' });
      effects.push({ type: 'run', name, phase: 'down' });
    }
  }
  return { units: now, effects };
}

/**
 * The set without `gone` (atoms that cannot run after all, with why: a socket that cannot be
 * bound) and without what depends on them, which cannot start either.
 */
export function withoutAtoms(set: UnitSet, gone: ReadonlyMap<string, string>): UnitSet {
  if (gone.size === 0) return set;
  const out = new Set(dependentsOf(set, gone.keys()));
  const blocked = new Map(set.blocked);
  for (const name of out) {
    const because = set.atoms.get(name)!.deps.find((d) => out.has(d));
    blocked.set(name, gone.get(name) ?? `depends on ${because ?? [...gone.keys()][0]}, which cannot start`);
  }
  return {
    ...set,
    atoms: new Map([...set.atoms].filter(([name]) => !out.has(name))),
    wanted: set.wanted.filter((n) => !out.has(n)),
    bundles: new Map([...set.bundles].map(([name, members]) => [name, members.filter((m) => !out.has(m))])),
    pipes: set.pipes.filter((p) => !out.has(p.consumer)).map((p) => ({ ...p, producers: p.producers.filter((n) => !out.has(n)) })),
    blocked,
  };
}
