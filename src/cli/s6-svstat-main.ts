#!/usr/bin/env node
/** The npm package's `s6-svstat` command (the single executable answers to that name itself). */
import { s6Svstat } from './s6-svstat.js';

await s6Svstat(process.argv.slice(2));
