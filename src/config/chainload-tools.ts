/**
 * The s6 and execline programs that scripts call (`s6-setuidgid`, `execlineb`, `importas` …) are
 * not warden's: an image has them from its packages (Debian's `s6` and `execline`, Alpine's), and
 * warden's release ships only its shims (with-contenv, s6-svc, s6-svstat, s6-svwait,
 * s6-svscanctl, s6-notifyoncheck). `warden check` names every script that calls one the image
 * does not have, with its line, instead of the service failing at run time.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from './config-problem.js';

/** execline's commands: only words of an execline script (in a shell script `if`, `export` … are the shell's). */
const EXECLINE = new Set(
  ('background backtick case define dollarat elgetopt elgetpositionals elglob emptyenv envfile exec execlineb exit export ' +
    'fdblock fdclose fdmove fdreserve fdswap forbacktickx foreground forstdin forx getcwd getpid heredoc homeof if ifelse ' +
    'ifte ifthenelse importas loopwhilex multidefine multisubstitute pipeline piperw redirfd runblock shift trap tryexec ' +
    'unexport wait withstdinas').split(' '),
);
/** An s6 or s6-portable-utils program, in any script. */
const S6_TOOL = /^(?:\/command\/)?(s6-[a-z0-9-]+)$/;
/** Where a container finds them: s6-overlay's /command, the usual dirs, Debian's execline dir. */
const SEARCH = ['/command', '/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/lib/execline/bin'];

/** Problems for the scripts of `dirs` (dirs of service or s6-rc source dirs, and cont-init.d-like dirs of scripts) under `root`. */
export async function missingTools(root: string, unitDirs: readonly string[], scriptDirs: readonly string[]): Promise<ConfigProblem[]> {
  // A tree with neither /bin nor /usr/bin holds an image's config, not its programs: what its
  // scripts call cannot be judged there (`check --root` over a COPY source, say).
  if (!(await isDir(join(root, 'usr/bin'))) && !(await isDir(join(root, 'bin')))) return [];
  const scripts: { file: string; execline: boolean }[] = [];
  for (const dir of unitDirs) {
    for (const unit of await entries(dir)) {
      for (const name of ['run', 'finish']) scripts.push({ file: join(dir, unit, name), execline: false });
      // s6-rc oneshots' up and down are execline scripts without a #! line.
      for (const name of ['up', 'down']) scripts.push({ file: join(dir, unit, name), execline: true });
    }
  }
  for (const dir of scriptDirs) for (const name of await entries(dir)) scripts.push({ file: join(dir, name), execline: false });
  const problems: ConfigProblem[] = [];
  const known = new Map<string, Promise<boolean>>();
  const installed = (tool: string) => {
    let found = known.get(tool);
    if (found === undefined) known.set(tool, (found = exists(root, tool)));
    return found;
  };
  for (const { file, execline } of scripts) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    const shebang = /^#!\s*(\S+)/.exec(lines[0] ?? '')?.[1];
    const isExecline = shebang === undefined ? execline : /execlineb$/.test(shebang);
    for (const [index, line] of lines.entries()) {
      const words = index === 0 && shebang !== undefined ? [shebang, ...line.split(/\s+/).slice(1)] : line.replace(/#.*/, '').split(/[\s;&|(){}]+/);
      for (const word of words) {
        const tool = index === 0 && word === shebang ? word : (S6_TOOL.exec(word)?.[0] ?? (isExecline && EXECLINE.has(word) ? word : null));
        if (tool === null || tool === '' || (await installed(tool))) continue;
        problems.push({ file, line: index + 1, message: `names ${tool}, which this image does not have: install s6 and execline (Debian, Alpine: packages s6 and execline), or warden's shims where one stands in` });
      }
    }
  }
  return problems;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** Whether `tool` (a path, or a name looked up in SEARCH) is an executable file under `root`. */
async function exists(root: string, tool: string): Promise<boolean> {
  const candidates = tool.startsWith('/') ? [tool] : SEARCH.map((dir) => join(dir, tool));
  for (const path of candidates) {
    try {
      if ((await stat(join(root, path))).isFile()) return true;
    } catch {
      // not there
    }
  }
  return false;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
