/**
 * The single executable's main script when it starts from a V8 startup snapshot (scripts/dist.mjs
 * --snapshot). The build runs this once and saves the heap: warden's boot code is then loaded,
 * compiled as far as V8 had, before the executable's first instruction. What runs here is frozen
 * into every start, so no module may read the environment, the clock or the pid at import, nor
 * open anything; koffi (a native addon, which a snapshot cannot hold) loads on first use.
 */
import { startupSnapshot } from 'node:v8';
// PID 1's path, evaluated now; the client commands stay lazy (less heap for PID 1's whole life).
import './boot.js';
import { seaMain } from './sea-main.js';

startupSnapshot.setDeserializeMainFunction(() => void seaMain());
