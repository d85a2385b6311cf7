/**
 * The release's single executable (scripts/dist.mjs: Node's single executable application, its
 * main script sea-start.ts or, from a V8 startup snapshot, sea-snapshot.ts). One binary under
 * several names, as busybox is: `/init` boots as s6-overlay's /init does (its layout and S6_*
 * variables are warden boot's defaults), `s6-svstat` answers as s6's, `s6-rc` runs the s6-rc
 * shim, any other name is the `warden` command.
 */
import { basename, dirname, join } from 'node:path';
import { runWarden } from './run-warden.js';

/** Runs what the name the executable was started by asks for. */
export async function seaMain(): Promise<void> {
  const args = process.argv.slice(2);
  // argv0 is the name as exec'd (a link's name); argv[0] is always the executable's own path.
  switch (basename(process.argv0)) {
    case 'init':
      return runWarden(['boot', ...args], LOADERS);
    case 's6-svstat': {
      const { s6Svstat } = await import('./s6-svstat.js');
      return s6Svstat(args);
    }
    case 's6-rc': {
      // shims/s6-rc, bundled by the release's build into /opt/warden/js; the warden it talks
      // to is this executable, whatever the PATH.
      process.env.WARDEN_CLI ||= process.execPath;
      return runWarden(['js', join(dirname(process.execPath), '..', 'js', 's6-rc.cjs'), ...args], LOADERS);
    }
    default:
      return runWarden(args, LOADERS);
  }
}

// The bundle holds boot.js and fast-path.js: importing them here loads nothing from disk.
const LOADERS = { boot: () => import('./boot.js'), fastPath: () => import('./fast-path.js') };
