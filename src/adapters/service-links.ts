/**
 * A service's runtime dir (`/run/service/NAME`) seen as its service dir: one symlink per entry
 * of the image's service dir, so `run` and `finish`, which start there as s6-supervise starts
 * them in its service dir, find `./data/check`, `./env/`, `./log/` … by the same relative paths
 * as under s6-overlay (which runs every service from its own copy under /run). Links rather than
 * a copy, because warden applies a changed service dir live: a link shows the image's file as it
 * is now, a copy would show it as it was when copied. The links are made and changed only in the
 * runtime dir; the image's dir, possibly read-only, is only read.
 */
import { readdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Makes `runDir` hold a link to each entry of `imageDir` but those named in `own` (the files the
 * supervisor keeps there itself). A link already right is left alone; a link into `imageDir` to
 * an entry the image's dir no longer has goes. Anything else in `runDir` (a file the service
 * wrote in its working dir) is the service's and is left as it is, even where it hides an entry.
 */
export function linkServiceFiles(runDir: string, imageDir: string, own: ReadonlySet<string>): void {
  const source = resolve(imageDir);
  const wanted = new Set(readdirSync(source).filter((name) => !own.has(name)));
  for (const entry of readdirSync(runDir, { withFileTypes: true })) {
    if (!entry.isSymbolicLink()) {
      wanted.delete(entry.name);
      continue;
    }
    const link = join(runDir, entry.name);
    const target = join(source, entry.name);
    const current = readlinkSync(link);
    if (wanted.has(entry.name) && current === target) wanted.delete(entry.name);
    else if (wanted.has(entry.name) || current === target) unlinkSync(link);
  }
  for (const name of wanted) symlinkSync(join(source, name), join(runDir, name));
}
