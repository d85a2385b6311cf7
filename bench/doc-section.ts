/**
 * docs/benchmarks.md is shared by several benches and by hand-written commentary. Each bench owns
 * one section between two markers and rewrites only that; everything outside the markers stays.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root: where package.json names warden, above the compiled file; else the cwd. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'warden') return dir;
    } catch {
      // not here
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export interface DocSection {
  /** Marker name, e.g. `supervisors`. */
  readonly name: string;
  /** `## …` heading put above the markers when the section is new. */
  readonly heading: string;
  /** Which command writes it, named in the begin marker. */
  readonly writer: string;
}

const markers = (s: DocSection) => ({
  begin: `<!-- bench:${s.name} begin: written by ${s.writer}; edit outside the markers -->`,
  end: `<!-- bench:${s.name} end -->`,
});

/** `text` with the section's body replaced, or the section appended when it is not there yet. */
export function withSection(text: string, section: DocSection, body: string): string {
  const { begin, end } = markers(section);
  const marked = `${begin}\n\n${body.trim()}\n\n${end}`;
  const b = text.indexOf(`<!-- bench:${section.name} begin`);
  const e = text.indexOf(end);
  if (b >= 0 && e > b) return text.slice(0, b) + marked + text.slice(e + end.length);
  return `${text.replace(/\n*$/, '\n')}\n${section.heading}\n\n${marked}\n`;
}

/** Rewrites the section in docs/benchmarks.md; returns the file's path. */
export function writeDocSection(section: DocSection, body: string): string {
  const doc = join(repoRoot(), 'docs', 'benchmarks.md');
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
  writeFileSync(doc, withSection(text, section, body));
  return doc;
}
