// `npm run dist`: the release tarball, release/warden-linux-ARCH.tar.xz, which unpacks at / and
// needs nothing of the image it is added to (no Node, no npm, no glibc, no /lib64 loader):
//
//   /opt/warden/bin/warden      Node's single executable application: Node's own binary (npm
//                               package node-linux-ARCH) with warden bundled in as its main script
//   /opt/warden/lib/            the C libraries that binary and koffi's were linked against, this
//                               machine's (Debian's), with their loader; the executable names that
//                               loader as its ELF interpreter and the dir as its rpath
//   /opt/warden/shims/          the s6 shims (POSIX sh: busybox's is enough) and lib/, what they
//                               share; s6-rc, and s6-svstat's fallback (lib/s6-svstat), are links
//                               to warden, which answers to those names
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
// usage: node scripts/dist.mjs [--no-code-cache | --snapshot] [--fast] [--arch x64|arm64]
//                              [--node VERSION] [--flags "FLAGS"]
//   By default the main script comes with V8's code cache for it (SEA's useCodeCache): boot
//   −8 %, RSS −0.9 MB against the script alone (docs/benchmarks.md, "The release").
//   --no-code-cache  the main script alone, compiled at each start
//                    (release/warden-linux-ARCH-no-code-cache.tar.xz)
//   --snapshot       the executable starts from a V8 startup snapshot of warden's boot code loaded
//                    (src/cli/sea-snapshot.ts): measured, not taken (no faster, 8 MB more RSS)
//                    (release/warden-linux-ARCH-snapshot.tar.xz)
//   --fast      xz -0 instead of -6: ~5× less CPU, a third larger (the test suite builds it so)
//   --node VERSION  on that Node (npm package node-linux-ARCH), to measure it
//                   (release/warden-linux-ARCH-nodeVERSION.tar.xz)
//   --flags "FLAGS" with those Node and V8 flags in the executable's execArgv, to measure them
//                   (release/warden-linux-ARCH-flags….tar.xz). A V8 flag makes V8 reject the code
//                   cache Node ships for its own modules: boot compiles them from source.
//   --arch arm64  on an x64 machine (or x64 on arm64): Node's and koffi's builds for that arch
//               from the npm registry, the C libraries from Debian's packages for it (`apt-get
//               download libc6:arm64 …`; scripts/install-dist-deps.sh --arch arm64 adds the
//               architecture to apt and installs its strip), the blob made by this machine's
//               Node of the same version. Without a code cache or a snapshot: those are V8's
//               output for this machine's CPU.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { asciiOnly, standIns } from './lib/stand-ins.mjs';

const REPO = join(dirname(new URL(import.meta.url).pathname), '..');
// Node 24, the images' Node: on Node 22 the executable booted on less CPU but held 4-8 MB more
// RSS (docs/benchmarks.md, "The release"). The exact version is pinned for a reproducible
// release; --node VERSION builds another to measure it.
const NODE_VERSION = '24.22.3';
const POSTJECT_VERSION = '1.0.0-alpha.6';
const PREFIX = '/opt/warden';
// The shell shims. s6-rc's is a Node script: the executable runs it (src/cli/sea-main.ts).
const SHIMS = ['with-contenv', 's6-svc', 's6-svscanctl', 's6-svstat', 's6-svwait', 's6-notifyoncheck'];
// Debian's multiarch dir for each Node arch, where this machine's C libraries are.
const TRIPLET = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
// Debian's name for each Node arch, and the packages that hold what Node's and koffi's binaries need.
const DEBIAN_ARCH = { x64: 'amd64', arm64: 'arm64' };
const CROSS_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];

const args = process.argv.slice(2);
const arch = args.includes('--arch') ? args[args.indexOf('--arch') + 1] : process.arch;
const nodeVersion = args.includes('--node') ? args[args.indexOf('--node') + 1] : NODE_VERSION;
const nodeMajor = Number.parseInt(nodeVersion, 10);
// Extra flags for the executable's Node and V8 (SEA's execArgv), to measure them: --flags "--a --b".
const extraFlags = args.includes('--flags') ? args[args.indexOf('--flags') + 1].split(/\s+/).filter(Boolean) : [];
const snapshot = args.includes('--snapshot');
const cross = arch !== process.arch;
// A snapshot holds the compiled code already; another arch's V8 could not use this one's cache.
const codeCache = !snapshot && !cross && !args.includes('--no-code-cache');
const xzLevel = args.includes('--fast') ? '-0' : '-6';
if (!(arch in TRIPLET)) die(`no release for ${arch}: x64 or arm64`);
if (cross && snapshot) die(`--snapshot builds only for this machine (${process.arch}): the snapshot is made by the Node that will run it`);

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
// Each variant stages apart (the bench, bench/peers.ts, measures them side by side), and only
// the default one is the release's tarball: the others are named for what they are.
// (Another arch's release has no code cache and is still the release.)
const variant =
  (snapshot ? '-snapshot' : args.includes('--no-code-cache') ? '-no-code-cache' : '') +
  (nodeVersion === NODE_VERSION ? '' : `-node${nodeVersion}`) +
  (extraFlags.length === 0 ? '' : `-flags${extraFlags.join('').replace(/[^a-z0-9=.]+/gi, '-')}`);
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

const { tools, nodeBin } = nodeTools(arch);
// This machine's Node of the same version makes the blob and runs postject, whatever the arch.
const { nodeBin: hostNode, postject } = nodeTools(process.arch);
const koffiVersion = JSON.parse(readFileSync(join(REPO, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
const koffiNode = koffiBinary(arch);

rmSync(work, { recursive: true, force: true });
mkdirSync(join(stage, PREFIX, 'bin'), { recursive: true });
mkdirSync(join(stage, PREFIX, 'lib'));
const libraries = librarySources(arch, work);

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
  target: `node${nodeMajor}`,
  // koffi's binary is loaded from /opt/warden/lib (src/adapters/koffi-lazy.ts); its JS never is.
  external: ['koffi', '@koromix/*'],
  plugins: [standIns(undefined, { realFor: ['yargs', 'yargs-parser'] })],
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
  target: `node${nodeMajor}`,
  charset: 'ascii',
  logLevel: 'warning',
});
writeFileSync(join(stage, PREFIX, 'js', 's6-rc.cjs'), s6rc.outputFiles[0].text);

step(`blob: ${snapshot ? 'a V8 startup snapshot of warden loaded (useSnapshot)' : `the main script${codeCache ? ' and its code cache (useCodeCache)' : ''}`}`);
const blob = join(work, 'sea.blob');
const seaConfig = join(work, 'sea-config.json');
// Node 24 keeps the libuv signal handle warden needs for real-time signals (signal_wrap) behind
// --expose-internals; the warning that flag's module prints is for tests, not for PID 1's stderr.
// Node 22 still hands it to process.binding (src/adapters/signal-listeners.ts).
const execArgv = [...(nodeMajor >= 24 ? ['--expose-internals', '--disable-warning=internal/test/binding'] : []), ...extraFlags];
// execArgvExtension "none": the executable reads no NODE_OPTIONS. The image's NODE_OPTIONS is for
// its Node programs (services get it in their environment), not for PID 1: a `--require` of the
// app's would run inside warden, or stop it from starting.
const sea = { main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: snapshot, useCodeCache: codeCache, execArgv, execArgvExtension: 'none' };
writeFileSync(seaConfig, JSON.stringify(sea));
// The code cache is V8's for the flags it was made with: V8 rejects it under other flags.
run(hostNode, [...extraFlags, '--experimental-sea-config', seaConfig], { cwd: work });

step('executable: Node without its symbols (strip), + blob (postject), then its own loader and rpath (patchelf)');
const exe = join(stage, PREFIX, 'bin', 'warden');
copyFileSync(nodeBin, exe);
chmodSync(exe, 0o755);
// Node's release binary carries its symbol tables and debug info: 18 MB nothing reads at run time.
// Another arch's ELF needs the binutils for it (binutils-aarch64-linux-gnu).
const strip = cross ? `${TRIPLET[arch]}-strip` : 'strip';
try {
  execFileSync(strip, ['--version'], { stdio: 'ignore' });
} catch {
  die(`${strip} is missing: run scripts/install-dist-deps.sh --arch ${arch} (as root)`);
}
run(strip, ['--strip-all', exe]);
// postject first: patchelf moves the headers, and postject on a patched binary writes a broken one.
run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { quiet: true });
const interpreter = basename(capture('patchelf', ['--print-interpreter', nodeBin]).trim());
// DT_RPATH, not RUNPATH: it also applies to the libraries' own dependencies, so nothing is looked
// up in the image's /lib (where a musl image may have a libc.so of its own).
run('patchelf', ['--set-interpreter', `${PREFIX}/lib/${interpreter}`, '--force-rpath', '--set-rpath', `${PREFIX}/lib`, exe]);

step(`C libraries: what Node's binary and koffi's need, with their loader, ${cross ? `Debian's ${DEBIAN_ARCH[arch]}` : "this machine's"}`);
const libDir = join(stage, PREFIX, 'lib');
copyFileSync(koffiNode, join(libDir, 'koffi.node'));
const shipped = new Map(); // soname -> { path, deb }
const pending = [nodeBin, koffiNode];
while (pending.length > 0) {
  const object = pending.pop();
  for (const soname of capture('patchelf', ['--print-needed', object]).split('\n').filter(Boolean)) {
    if (shipped.has(soname)) continue;
    const found = findLibrary(libraries.dirs, soname);
    shipped.set(soname, found);
    pending.push(found.path);
  }
}
shipped.set(interpreter, findLibrary(libraries.dirs, interpreter));
for (const [soname, { path }] of shipped) {
  copyFileSync(path, join(libDir, soname));
  chmodSync(join(libDir, soname), 0o755);
  if (soname !== interpreter && capture('patchelf', ['--print-needed', path]).trim() !== '') {
    run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', join(libDir, soname)]);
  }
}
run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', join(libDir, 'koffi.node')]);
const packages = cross ? crossPackages(shipped, libraries.debs) : debianPackages([...shipped.values()].map((l) => l.path));
info(`${[...shipped.keys()].sort().join(' ')} (${packages.map((p) => `${p.name} ${p.version}`).join(', ')})`);

step('shims, links, licenses');
const shimDir = join(stage, PREFIX, 'shims');
mkdirSync(shimDir);
for (const shim of SHIMS) {
  copyFileSync(join(REPO, 'shims', shim), join(shimDir, shim));
  chmodSync(join(shimDir, shim), 0o755);
}
// What the shims source (lib/real-s6), and warden's own s6-svstat, which the shim runs when s6's
// is not there: the executable answers to that name.
mkdirSync(join(shimDir, 'lib'));
copyFileSync(join(REPO, 'shims', 'lib', 'real-s6'), join(shimDir, 'lib', 'real-s6'));
symlinkSync('../../bin/warden', join(shimDir, 'lib', 's6-svstat'));
link('init', `${PREFIX}/bin/warden`);
link('usr/bin/warden', `${PREFIX}/bin/warden`);
// s6-rc is warden itself under that name; in the shims dir too, which boot puts first on PATH.
const ownNames = ['s6-rc'];
for (const name of ownNames) symlinkSync('../bin/warden', join(shimDir, name));
for (const shim of [...SHIMS, ...ownNames]) link(`command/${shim}`, `${PREFIX}/shims/${shim}`);
link('command/warden', `${PREFIX}/bin/warden`);
link('usr/bin/with-contenv', '/command/with-contenv');
const share = join(stage, PREFIX, 'share');
mkdirSync(join(share, 'licenses'), { recursive: true });
copyFileSync(join(REPO, 'LICENSE'), join(share, 'licenses', 'warden'));
copyFileSync(join(tools, 'node_modules', `node-linux-${arch}`, 'LICENSE'), join(share, 'licenses', 'node'));
copyFileSync(join(REPO, 'node_modules', 'koffi', 'LICENSE.txt'), join(share, 'licenses', 'koffi'));
for (const p of packages) copyFileSync(p.copyright, join(share, 'licenses', p.name));
writeFileSync(
  join(share, 'SOURCES'),
  [
    `warden ${pkg.version}`,
    `node ${nodeVersion} (npm package node-linux-${arch}), single executable application${snapshot ? ' with a startup snapshot' : codeCache ? ' with a code cache' : ''}`,
    `koffi ${koffiVersion} (npm package @koromix/koffi-linux-${arch})`,
    ...packages.map((p) => `${p.name} ${p.version} (Debian${cross ? `, ${DEBIAN_ARCH[arch]}` : ''}): ${p.files.join(' ')}`),
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

/** Node's binary for `arch` (npm package node-linux-ARCH) and postject, fetched once into node_modules/.cache. */
function nodeTools(arch) {
  const tools = join(REPO, 'node_modules', '.cache', 'warden-dist', `node-${nodeVersion}-${arch}`);
  const nodeBin = join(tools, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
  const postject = join(tools, 'node_modules', 'postject', 'dist', 'cli.js');
  if (!existsSync(nodeBin) || !existsSync(postject)) {
    step(`Node ${nodeVersion} (npm package node-linux-${arch}) and postject`);
    mkdirSync(tools, { recursive: true });
    // --force: npm refuses a package for another cpu than this machine's without it.
    run('npm', ['install', '--prefix', tools, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts',
      '--loglevel=error', ...(arch === process.arch ? [] : ['--force']), `node-linux-${arch}@${nodeVersion}`, `postject@${POSTJECT_VERSION}`]);
  }
  return { tools, nodeBin, postject };
}

/** koffi's binary for `arch`: npm ci's for this machine, else the npm package of the same version. */
function koffiBinary(arch) {
  const installed = join(REPO, 'node_modules', '@koromix', `koffi-linux-${arch}`, `linux_${arch}`, 'koffi.node');
  if (existsSync(installed)) return installed;
  const dir = join(REPO, 'node_modules', '.cache', 'warden-dist', `koffi-${koffiVersion}-${arch}`);
  const binary = join(dir, 'package', `linux_${arch}`, 'koffi.node');
  if (!existsSync(binary)) {
    step(`koffi ${koffiVersion}'s binary for ${arch} (npm package @koromix/koffi-linux-${arch})`);
    mkdirSync(dir, { recursive: true });
    const tgz = capture('npm', ['pack', '--silent', '--pack-destination', dir, `@koromix/koffi-linux-${arch}@${koffiVersion}`]).trim().split('\n').pop();
    run('tar', ['-xzf', join(dir, tgz), '-C', dir]);
  }
  if (!existsSync(binary)) die(`${relative(REPO, binary)} is missing from @koromix/koffi-linux-${arch}@${koffiVersion}`);
  return binary;
}

/**
 * Where the C libraries for `arch` are: this machine's dirs, or for another arch Debian's
 * packages for it, downloaded (apt-get download) and unpacked each into a dir of its own.
 * Returns [dir, package | null] pairs to search in order, and the packages' versions.
 */
function librarySources(arch, work) {
  const triplet = TRIPLET[arch];
  if (arch === process.arch) {
    return { dirs: [`/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib64', '/lib'].map((dir) => [dir, null]), debs: new Map() };
  }
  const debArch = DEBIAN_ARCH[arch];
  step(`C libraries for ${arch}: Debian's ${CROSS_PACKAGES.map((p) => `${p}:${debArch}`).join(' ')} (apt-get download)`);
  const debDir = join(work, 'debs');
  mkdirSync(debDir, { recursive: true });
  try {
    execFileSync('apt-get', ['download', ...CROSS_PACKAGES.map((p) => `${p}:${debArch}`)], { cwd: debDir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    die(`apt-get download of ${debArch} packages failed (run scripts/install-dist-deps.sh --arch ${arch} as root: it adds the architecture to apt):\n${err.stderr ?? ''}`);
  }
  const dirs = [];
  const debs = new Map();
  for (const name of CROSS_PACKAGES) {
    const file = readdirSync(debDir).find((f) => f.startsWith(`${name}_`) && f.endsWith(`_${debArch}.deb`));
    if (file === undefined) die(`apt-get download left no ${name}_*_${debArch}.deb`);
    const root = join(work, 'sysroot', name);
    mkdirSync(root, { recursive: true });
    run('dpkg-deb', ['-x', join(debDir, file), root]);
    debs.set(name, { version: capture('dpkg-deb', ['-f', join(debDir, file), 'Version']).trim(), root });
    for (const dir of [`lib/${triplet}`, `usr/lib/${triplet}`, 'lib', 'usr/lib']) dirs.push([join(root, dir), name]);
    // libgcc-s1's and libstdc++6's doc dir is a link to their source's base package
    // (gcc-12-base), which holds the copyright: fetch that package too, into the same dir.
    const doc = join(root, 'usr/share/doc', name);
    if (!existsSync(join(doc, 'copyright')) && lstatSync(doc, { throwIfNoEntry: false })?.isSymbolicLink()) {
      const base = basename(readlinkSync(doc));
      execFileSync('apt-get', ['download', `${base}:${debArch}`], { cwd: debDir, stdio: ['ignore', 'pipe', 'pipe'] });
      const baseFile = readdirSync(debDir).find((f) => f.startsWith(`${base}_`) && f.endsWith(`_${debArch}.deb`));
      if (baseFile === undefined) die(`apt-get download left no ${base}_*_${debArch}.deb (${name}'s copyright)`);
      run('dpkg-deb', ['-x', join(debDir, baseFile), root]);
    }
  }
  return { dirs, debs };
}

function findLibrary(dirs, soname) {
  for (const [dir, deb] of dirs) {
    if (existsSync(join(dir, soname))) return { path: join(dir, soname), deb };
  }
  die(`${soname} is not on this machine (libc6, libstdc++6, libgcc-s1 for ${arch})`);
}

/** The downloaded packages that hold the shipped libraries, as debianPackages gives them. */
function crossPackages(shipped, debs) {
  const byName = new Map();
  for (const { path, deb } of shipped.values()) {
    const { version, root } = debs.get(deb);
    const entry = byName.get(deb) ?? { name: deb, version, files: [], copyright: join(root, 'usr/share/doc', deb, 'copyright') };
    entry.files.push(basename(path));
    byName.set(deb, entry);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
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
    const entry = byName.get(owner) ?? { name: owner, version: capture('dpkg-query', ['-W', '-f', '${Version}', owner]), files: [], copyright: `/usr/share/doc/${owner}/copyright` };
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
