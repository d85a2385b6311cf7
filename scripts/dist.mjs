// `npm run dist`: the release tarball, release/warden-linux-ARCH.tar.xz, which unpacks at / and
// needs nothing of the image it is added to (no Node, no npm, no glibc, no /lib64 loader):
//
//   /opt/warden/bin/warden      Node's single executable application: Node's own binary (npm
//                               package node-linux-ARCH) with warden bundled in as its main script
//   /opt/warden/lib/            the C libraries that binary and koffi's were linked against, this
//                               machine's (Debian's), with their loader; the executable names that
//                               loader as its ELF interpreter and the dir as its rpath
//   /opt/warden/shims/          the s6 shims (POSIX sh: busybox's is enough); s6-svstat and s6-rc
//                               are links to warden, which answers to those names
//   /opt/warden/js/s6-rc.cjs    the s6-rc shim (shims/s6-rc, a Node script) bundled: warden runs it
//   /opt/warden/share/          licenses, and where each part came from
//   /init                       -> warden: `warden boot` with s6-overlay's layout and S6_* variables
//   /usr/bin/warden             -> warden
//   /command/                   s6-overlay's command dir: with-contenv, the shims, s6-svstat, warden
//   /usr/bin/with-contenv       -> /command/with-contenv, as s6-overlay's symlinks tarball has it
//
// Needs a built dist/ (npm run build), patchelf, strip and xz (scripts/install-dist-deps.sh), and the
// npm registry (or its cache) for Node's binary and postject.
//
// usage: node scripts/dist.mjs [--no-code-cache | --snapshot] [--fast] [--arch x64]
//   By default the main script comes with V8's code cache for it (SEA's useCodeCache): boot
//   −8 %, RSS −0.9 MB against the script alone (docs/benchmarks.md, "The release").
//   --no-code-cache  the main script alone, compiled at each start
//                    (release/warden-linux-ARCH-no-code-cache.tar.xz)
//   --snapshot       the executable starts from a V8 startup snapshot of warden's boot code loaded
//                    (src/cli/sea-snapshot.ts): measured, not taken (no faster, 8 MB more RSS)
//                    (release/warden-linux-ARCH-snapshot.tar.xz)
//   --fast      xz -0 instead of -6: ~5× less CPU, a third larger (the test suite builds it so)
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { asciiOnly, standIns } from './lib/stand-ins.mjs';

const REPO = join(dirname(new URL(import.meta.url).pathname), '..');
// Node's major is the images' (node:24); the exact version is pinned for a reproducible release.
const NODE_VERSION = '24.22.3';
const POSTJECT_VERSION = '1.0.0-alpha.6';
const PREFIX = '/opt/warden';
// The shell shims. s6-rc's is a Node script: the executable runs it (src/cli/sea-main.ts).
const SHIMS = ['with-contenv', 's6-svc', 's6-svscanctl', 's6-svwait', 's6-notifyoncheck'];
// Debian's multiarch dir for each Node arch, where this machine's C libraries are.
const TRIPLET = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

const args = process.argv.slice(2);
const arch = args.includes('--arch') ? args[args.indexOf('--arch') + 1] : process.arch;
const snapshot = args.includes('--snapshot');
// A snapshot holds the compiled code already.
const codeCache = !snapshot && !args.includes('--no-code-cache');
const xzLevel = args.includes('--fast') ? '-0' : '-6';
if (!(arch in TRIPLET)) die(`no release for ${arch}: x64 or arm64`);
if (arch !== process.arch) die(`a ${arch} release is built on a ${arch} machine (the snapshot and the libraries are the machine's)`);

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
// Each variant stages apart (the bench, bench/peers.ts, measures them side by side), and only
// the default one is the release's tarball: the others are named for what they are.
const variant = snapshot ? '-snapshot' : codeCache ? '' : '-no-code-cache';
const work = join(REPO, 'release', `.work-${arch}${variant}`);
const stage = join(work, 'root');
const out = join(REPO, 'release', `warden-linux-${arch}${variant}.tar.xz`);
const t0 = Date.now();

for (const tool of ['patchelf', 'strip', 'xz']) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch {
    die(`${tool} is missing: run scripts/install-dist-deps.sh (as root)`);
  }
}
if (!existsSync(join(REPO, 'dist/src/cli/sea-start.js'))) die('dist/ is not built: run `npm run build` first');

step(`Node ${NODE_VERSION} (npm package node-linux-${arch}) and postject`);
const tools = join(REPO, 'node_modules', '.cache', 'warden-dist', `node-${NODE_VERSION}-${arch}`);
const nodeBin = join(tools, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
const postject = join(tools, 'node_modules', 'postject', 'dist', 'cli.js');
if (!existsSync(nodeBin) || !existsSync(postject)) {
  mkdirSync(tools, { recursive: true });
  run('npm', ['install', '--prefix', tools, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts',
    '--loglevel=error', `node-linux-${arch}@${NODE_VERSION}`, `postject@${POSTJECT_VERSION}`]);
}
const koffiNode = join(REPO, 'node_modules', '@koromix', `koffi-linux-${arch}`, `linux_${arch}`, 'koffi.node');
if (!existsSync(koffiNode)) die(`${relative(REPO, koffiNode)} is missing: npm ci on a linux-${arch} machine`);

rmSync(work, { recursive: true, force: true });
mkdirSync(join(stage, PREFIX, 'bin'), { recursive: true });
mkdirSync(join(stage, PREFIX, 'lib'));

const entry = snapshot ? 'sea-snapshot' : 'sea-start';
step(`main script: dist/src/cli/${entry}.js and everything it imports, one CommonJS file`);
const main = join(work, 'warden.cjs');
const metaUrl = 'require("node:url").pathToFileURL(process.execPath).href';
const bundled = await build({
  entryPoints: [join(REPO, `dist/src/cli/${entry}.js`)],
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  // koffi's binary is loaded from /opt/warden/lib (src/adapters/koffi-lazy.ts); its JS never is.
  external: ['koffi', '@koromix/*'],
  plugins: [standIns(['worker_threads', 'thread-stream'])],
  // import() of Node's modules as require(): a process started from a snapshot has no dynamic
  // import (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING); the plain executable too, so both run the same code.
  supported: { 'dynamic-import': false },
  // A single executable's main script is CommonJS; the few import.meta.url uses (createRequire)
  // get the executable's own path: in a snapshot, the path of the start, not of the build's Node.
  banner: {
    js:
      `var __wardenMetaUrl = ${metaUrl};` +
      (snapshot ? `require("node:v8").startupSnapshot.addDeserializeCallback(() => { __wardenMetaUrl = ${metaUrl}; });` : ''),
  },
  // No package.json beside the executable: `warden --version` gets it written in (src/cli/version.ts).
  define: { 'import.meta.url': '__wardenMetaUrl', WARDEN_VERSION: JSON.stringify(pkg.version) },
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
writeFileSync(main, asciiOnly(bundled.outputFiles[0].text));
info(`${kb(main)} KB`);

step('s6-rc: shims/s6-rc and what it requires, one CommonJS file the executable runs');
mkdirSync(join(stage, PREFIX, 'js'));
const s6rc = await build({
  // The shim has no .js name (it is a command): given as stdin, resolved from shims/.
  stdin: { contents: readFileSync(join(REPO, 'shims', 's6-rc'), 'utf8'), resolveDir: join(REPO, 'shims'), sourcefile: 's6-rc', loader: 'js' },
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  charset: 'ascii',
  logLevel: 'warning',
});
writeFileSync(join(stage, PREFIX, 'js', 's6-rc.cjs'), s6rc.outputFiles[0].text);

step(`blob: ${snapshot ? 'a V8 startup snapshot of warden loaded (useSnapshot)' : `the main script${codeCache ? ' and its code cache (useCodeCache)' : ''}`}`);
const blob = join(work, 'sea.blob');
const seaConfig = join(work, 'sea-config.json');
writeFileSync(seaConfig, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: snapshot, useCodeCache: codeCache }));
run(nodeBin, ['--experimental-sea-config', seaConfig], { cwd: work });

step('executable: Node without its symbols (strip), + blob (postject), then its own loader and rpath (patchelf)');
const exe = join(stage, PREFIX, 'bin', 'warden');
copyFileSync(nodeBin, exe);
chmodSync(exe, 0o755);
// Node's release binary carries its symbol tables and debug info: 18 MB nothing reads at run time.
run('strip', ['--strip-all', exe]);
// postject first: patchelf moves the headers, and postject on a patched binary writes a broken one.
run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { quiet: true });
const interpreter = basename(capture('patchelf', ['--print-interpreter', nodeBin]).trim());
// DT_RPATH, not RUNPATH: it also applies to the libraries' own dependencies, so nothing is looked
// up in the image's /lib (where a musl image may have a libc.so of its own).
run('patchelf', ['--set-interpreter', `${PREFIX}/lib/${interpreter}`, '--force-rpath', '--set-rpath', `${PREFIX}/lib`, exe]);

step("C libraries: what Node's binary and koffi's need, with their loader, from this machine");
const libDir = join(stage, PREFIX, 'lib');
copyFileSync(koffiNode, join(libDir, 'koffi.node'));
const shipped = new Map(); // soname -> host path
const pending = [nodeBin, koffiNode];
while (pending.length > 0) {
  const object = pending.pop();
  for (const soname of capture('patchelf', ['--print-needed', object]).split('\n').filter(Boolean)) {
    if (shipped.has(soname)) continue;
    const host = hostLibrary(soname);
    shipped.set(soname, host);
    pending.push(host);
  }
}
shipped.set(interpreter, hostLibrary(interpreter));
for (const [soname, host] of shipped) {
  copyFileSync(host, join(libDir, soname));
  chmodSync(join(libDir, soname), 0o755);
  if (soname !== interpreter && capture('patchelf', ['--print-needed', host]).trim() !== '') {
    run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', join(libDir, soname)]);
  }
}
run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', join(libDir, 'koffi.node')]);
const packages = debianPackages([...shipped.values()]);
info(`${[...shipped.keys()].sort().join(' ')} (${packages.map((p) => `${p.name} ${p.version}`).join(', ')})`);

step('shims, links, licenses');
const shimDir = join(stage, PREFIX, 'shims');
mkdirSync(shimDir);
for (const shim of SHIMS) {
  copyFileSync(join(REPO, 'shims', shim), join(shimDir, shim));
  chmodSync(join(shimDir, shim), 0o755);
}
link('init', `${PREFIX}/bin/warden`);
link('usr/bin/warden', `${PREFIX}/bin/warden`);
// s6-svstat and s6-rc are warden itself under those names; in the shims dir too, which boot
// puts first on PATH.
const ownNames = ['s6-svstat', 's6-rc'];
for (const name of ownNames) symlinkSync('../bin/warden', join(shimDir, name));
for (const shim of [...SHIMS, ...ownNames]) link(`command/${shim}`, `${PREFIX}/shims/${shim}`);
link('command/warden', `${PREFIX}/bin/warden`);
link('usr/bin/with-contenv', '/command/with-contenv');
const share = join(stage, PREFIX, 'share');
mkdirSync(join(share, 'licenses'), { recursive: true });
copyFileSync(join(REPO, 'LICENSE'), join(share, 'licenses', 'warden'));
copyFileSync(join(tools, 'node_modules', `node-linux-${arch}`, 'LICENSE'), join(share, 'licenses', 'node'));
copyFileSync(join(REPO, 'node_modules', 'koffi', 'LICENSE.txt'), join(share, 'licenses', 'koffi'));
for (const p of packages) copyFileSync(`/usr/share/doc/${p.name}/copyright`, join(share, 'licenses', p.name));
writeFileSync(
  join(share, 'SOURCES'),
  [
    `warden ${pkg.version}`,
    `node ${NODE_VERSION} (npm package node-linux-${arch}), single executable application${snapshot ? ' with a startup snapshot' : codeCache ? ' with a code cache' : ''}`,
    `koffi ${JSON.parse(readFileSync(join(REPO, 'node_modules', 'koffi', 'package.json'), 'utf8')).version} (npm package @koromix/koffi-linux-${arch})`,
    ...packages.map((p) => `${p.name} ${p.version} (Debian): ${p.files.join(' ')}`),
    '',
  ].join('\n'),
);

step(`tarball: ${relative(REPO, out)}`);
// Named entries, not ".": the tarball must not carry a mode for / itself. Owned by root, sorted,
// one mtime: the same inputs give the same tarball.
const mtime = `@${Math.floor(statSync(join(REPO, 'package.json')).mtimeMs / 1000)}`;
const tarArgs = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=${mtime}`, '-C', stage, '-cf', '-', 'command', 'init', 'opt', 'usr'];
const tar = execFileSync('tar', tarArgs, { maxBuffer: 1 << 30 });
writeFileSync(out, execFileSync('xz', [xzLevel, '-T0', '-c'], { input: tar, maxBuffer: 1 << 30 }));
info(`${(statSync(out).size / 1e6).toFixed(1)} MB (${(tar.length / 1e6).toFixed(1)} MB unpacked) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

function hostLibrary(soname) {
  for (const dir of [`/lib/${TRIPLET[arch]}`, `/usr/lib/${TRIPLET[arch]}`, '/lib64', '/lib']) {
    if (existsSync(join(dir, soname))) return join(dir, soname);
  }
  die(`${soname} is not on this machine (libc6, libstdc++6, libgcc-s1 for ${arch})`);
}

/** The Debian packages that hold `paths` (dpkg -S), with their versions. */
function debianPackages(paths) {
  const byName = new Map();
  for (const path of paths) {
    // dpkg knows a library by the path its package installed (/lib/… or /usr/lib/…, merged /usr).
    const candidates = [path, path.replace(/^\/lib/, '/usr/lib'), path.replace(/^\/usr\/lib/, '/lib')];
    let owner;
    for (const candidate of candidates) {
      try {
        owner = capture('dpkg', ['-S', candidate]).split(':')[0];
        break;
      } catch {
        // not under this name
      }
    }
    if (owner === undefined) die(`${path}: no Debian package holds it (dpkg -S)`);
    const entry = byName.get(owner) ?? { name: owner, version: capture('dpkg-query', ['-W', '-f', '${Version}', owner]), files: [] };
    entry.files.push(basename(path));
    byName.set(owner, entry);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function link(path, target) {
  mkdirSync(dirname(join(stage, path)), { recursive: true });
  // Relative targets: the links also work in a root unpacked somewhere else (tests, chroots).
  symlinkSync(relative(dirname(`/${path}`), target), join(stage, path));
}

function run(cmd, argv, { cwd = REPO, quiet = false } = {}) {
  try {
    const output = execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (!quiet && output.trim() !== '') info(output.trim());
  } catch (err) {
    die(`${cmd} ${argv.join(' ')} failed:\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
}

function capture(cmd, argv) {
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function kb(path) {
  return Math.round(statSync(path).size / 1024);
}

function step(text) {
  process.stdout.write(`==> [${((Date.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
}

function info(text) {
  process.stdout.write(`    ${text.replace(/\n/g, '\n    ')}\n`);
}

function die(text) {
  process.stderr.write(`dist: ${text}\n`);
  process.exit(1);
}
