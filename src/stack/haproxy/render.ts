/**
 * Renders haproxy.cfg from the Handlebars templates, the one source of truth: `haproxy.cfg.hbs`
 * for the whole file and its partial `server.hbs` for one server's parameters, which the Serf
 * handler also uses for `add server`, so a server added at runtime is the same as one in the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { HaproxySettings } from './settings.js';

/** One webapp server of the backend. */
export interface Server {
  /** HAProxy server name: letters, digits, `-`, `_`, `.`, `:` only. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface Templates {
  readonly config: string;
  readonly server: string;
  /** Where they were read from, for error messages. */
  readonly dir: string;
}

/** A template that does not compile or does not render: the message names the file. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** The templates shipped in the source tree (tsc does not copy them into dist/). */
export const DEFAULT_TEMPLATE_DIR = fileURLToPath(new URL('../../../../src/stack/haproxy/templates/', import.meta.url));

/** Reads `haproxy.cfg.hbs` and `server.hbs` from `dir` (env `STACK_TEMPLATE_DIR`, else the shipped ones). */
export function loadTemplates(dir: string = DEFAULT_TEMPLATE_DIR): Templates {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (err) {
      throw new TemplateError(`${join(dir, name)}: cannot read the template: ${(err as Error).message}`);
    }
  };
  return { config: read('haproxy.cfg.hbs'), server: read('server.hbs'), dir };
}

/** Both templates compiled: render as many files and servers as needed from one compile. */
export interface Renderer {
  /** The whole haproxy.cfg for these servers (sorted by name, so equal sets render equal files). */
  config(servers: readonly Server[], settings: HaproxySettings): string;
  /** One server's line after `server ` (name, address and parameters), as `add server BACKEND/…` takes it. */
  serverArgs(server: Server, settings: HaproxySettings): string;
}

/** Compiles both templates once; throws TemplateError naming the file that does not compile. */
export function compileTemplates(templates: Templates): Renderer {
  const hb = Handlebars.create();
  const serverFile = join(templates.dir, 'server.hbs');
  const configFile = join(templates.dir, 'haproxy.cfg.hbs');
  let server: Handlebars.TemplateDelegate;
  let config: Handlebars.TemplateDelegate;
  // Handlebars compiles on a delegate's first call: parse now, so a broken partial is an error
  // of this compile even when no server is rendered yet.
  try {
    hb.parse(templates.server.trim());
    server = hb.compile(templates.server.trim(), { strict: true, noEscape: true });
    hb.registerPartial('server', server);
  } catch (err) {
    throw new TemplateError(`${serverFile}: ${(err as Error).message}`);
  }
  try {
    hb.parse(templates.config);
    config = hb.compile(templates.config, { strict: true, noEscape: true });
  } catch (err) {
    throw new TemplateError(`${configFile}: ${(err as Error).message}`);
  }
  const run = (t: Handlebars.TemplateDelegate, file: string, context: unknown): string => {
    try {
      return t(context);
    } catch (err) {
      throw new TemplateError(`${file}: ${(err as Error).message}`);
    }
  };
  return {
    config: (servers, settings) => {
      const sorted = [...servers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return run(config, configFile, { servers: sorted, settings });
    },
    serverArgs: (s, settings) => run(server, serverFile, { server: s, settings }).trim(),
  };
}

/** The whole haproxy.cfg for these servers, compiling the templates for this one render. */
export function renderHaproxyConfig(servers: readonly Server[], settings: HaproxySettings, templates: Templates = loadTemplates()): string {
  return compileTemplates(templates).config(servers, settings);
}

/** One server's `add server` arguments, compiling the templates for this one render. */
export function renderServerArgs(server: Server, settings: HaproxySettings, templates: Templates = loadTemplates()): string {
  return compileTemplates(templates).serverArgs(server, settings);
}

/** A Serf node name as an HAProxy server name: other characters become `_`. */
export function serverName(nodeName: string): string {
  const name = nodeName.replace(/[^A-Za-z0-9_.:-]/g, '_');
  return name === '' ? '_' : name;
}

