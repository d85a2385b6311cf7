/**
 * The raw samples a bench measured, kept beside its tables in docs/data/ so that the charts
 * (bench/charts.ts) can draw distributions, not only the medians the tables print, and can be
 * drawn again from the stored files alone.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Machine } from './machine.js';
import { repoRoot } from './doc-section.js';

/** One phase of bench/run.ts over every peer: latencies in ms per supervisor, in the order measured. */
export interface PhaseSamples {
  /** What was measured, in a sentence: the charts print it. */
  readonly what: string;
  readonly machine: Machine;
  /** The run's knobs that shaped these samples (kills, spacing, …). */
  readonly settings: Readonly<Record<string, number>>;
  /** Supervisor → samples in ms, in the table's order. */
  readonly samples: Readonly<Record<string, readonly number[]>>;
  /** Supervisor → why it dropped out, for those that did. */
  readonly failures: Readonly<Record<string, string>>;
}

/** docs/data/NAME.json in this repo. */
export const dataFile = (name: string): string => join(repoRoot(), 'docs', 'data', `${name}.json`);

/** Writes `data` to docs/data/NAME.json with samples rounded to µs; returns the path. */
export function writeSamples(name: string, data: PhaseSamples): string {
  const file = dataFile(name);
  mkdirSync(dirname(file), { recursive: true });
  const samples = Object.fromEntries(Object.entries(data.samples).map(([k, v]) => [k, v.map((x) => Math.round(x * 1000) / 1000)]));
  writeFileSync(file, `${JSON.stringify({ ...data, samples }, null, 1)}\n`);
  return file;
}

/** docs/data/NAME.json as written by `writeSamples`, or null when there is none. */
export function readSamples(name: string): PhaseSamples | null {
  const file = dataFile(name);
  if (!existsSync(file)) return null;
  const data = JSON.parse(readFileSync(file, 'utf8')) as PhaseSamples;
  for (const [peer, values] of Object.entries(data.samples ?? {})) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${file}: samples of "${peer}": expected an array of numbers (ms)`);
    }
  }
  return data;
}
