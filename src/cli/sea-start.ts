/** The single executable's main script when it starts without a startup snapshot (sea-main.ts). */
import { seaMain } from './sea-main.js';

void seaMain();
