/**
 * The commands a probe or a script runs every few seconds (status, health, up, down, restart,
 * once, wait, notify), dispatched without yargs: its load is most of a control command's start.
 * Only plain forms are taken here (known flags, values as separate words, no help); anything
 * else returns null and goes to yargs, which also owns every usage error. The handlers are
 * yargs's own (their modules import yargs' types only), so both paths behave alike.
 */
import type { CommandModule } from 'yargs';
import {
  downCommand,
  healthCommand,
  onceCommand,
  restartCommand,
  statusCommand,
  upCommand,
  waitCommand,
} from './control-commands.js';
import { exitWithFailure } from './control-client.js';
import { notifyCommand } from './notify-command.js';

interface Shape {
  /** yargs' command, whose handler runs. */
  readonly module: CommandModule<object, never>;
  /** Where the positional words go, and whether one at least is required. */
  readonly positional: 'services' | 'fields';
  readonly required: boolean;
  readonly booleans: readonly string[];
  /** Flags taking the next word as their value, and whether that value is a whole number. */
  readonly values: Readonly<Record<string, 'number' | 'string'>>;
  /** At most one of these flags (yargs' `conflicts`). */
  readonly exclusive?: readonly string[];
}

const shape = (module: CommandModule<object, never>, positional: Shape['positional'], required: boolean, more: Partial<Shape> = {}): Shape => ({
  module,
  positional,
  required,
  booleans: [],
  values: {},
  ...more,
});

const SHAPES: Readonly<Record<string, Shape>> = {
  status: shape(statusCommand as CommandModule<object, never>, 'services', false, { booleans: ['json'] }),
  health: shape(healthCommand as CommandModule<object, never>, 'services', false),
  up: shape(upCommand as CommandModule<object, never>, 'services', true),
  down: shape(downCommand as CommandModule<object, never>, 'services', true),
  restart: shape(restartCommand as CommandModule<object, never>, 'services', true),
  once: shape(onceCommand as CommandModule<object, never>, 'services', true),
  wait: shape(waitCommand as CommandModule<object, never>, 'services', true, {
    booleans: ['up', 'ready', 'down', 'any'],
    values: { timeout: 'number' },
    exclusive: ['up', 'ready', 'down'],
  }),
  notify: shape(notifyCommand as CommandModule<object, never>, 'fields', false, { booleans: ['ready', 'stopping'], values: { status: 'string' } }),
};

/** yargs' defaults for the flags the fast path takes. */
const DEFAULTS: Readonly<Record<string, unknown>> = { timeout: 0 };

/** The arguments yargs would give the command's handler, or null when `argv` is not a plain form. */
export function plainArguments(argv: readonly string[]): { shape: Shape; args: Record<string, unknown> } | null {
  const [name, ...rest] = argv;
  const found = name === undefined ? undefined : SHAPES[name];
  if (found === undefined) return null;
  const args: Record<string, unknown> = {};
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-')) {
      words.push(word);
      continue;
    }
    const flag = word.slice(2);
    // Short flags, --help, --flag=value, --no-flag, a flag given twice: yargs' business.
    if (!word.startsWith('--') || flag in args) return null;
    if (found.booleans.includes(flag)) {
      args[flag] = true;
      continue;
    }
    const kind = found.values[flag];
    const value = rest[i + 1];
    if (kind === undefined || value === undefined || value.startsWith('-')) return null;
    if (kind === 'number' && !/^\d+$/.test(value)) return null;
    args[flag] = kind === 'number' ? Number(value) : value;
    i++;
  }
  if (found.required && words.length === 0) return null;
  if ((found.exclusive ?? []).filter((f) => f in args).length > 1) return null;
  for (const [flag, value] of Object.entries(DEFAULTS)) if (flag in found.values && !(flag in args)) args[flag] = value;
  return { shape: found, args: { ...args, [found.positional]: words, _: [name], $0: 'warden' } };
}

/** Runs `argv` without yargs when it is a plain form; false when it is not (nothing was done). */
export async function runPlain(argv: readonly string[]): Promise<boolean> {
  const plain = plainArguments(argv);
  if (plain === null) return false;
  try {
    await plain.shape.module.handler(plain.args as never);
  } catch (err) {
    exitWithFailure(err);
  }
  return true;
}
