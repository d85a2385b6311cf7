// s6-svstat on warden (src/cli/s6-svstat.ts), npm's: shims/s6-svstat runs it when s6's own
// s6-svstat is not there to read the service dir. The release's executable answers to the name
// s6-svstat itself (a link here, lib/s6-svstat).
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script, run as it is */
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(join(__dirname, '..', '..', 'dist', 'src', 'cli', 's6-svstat.js')).href).then(({ s6Svstat }) => s6Svstat(process.argv.slice(2)));
