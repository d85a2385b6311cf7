/**
 * Metrics for Prometheus (`WARDEN_METRICS_ADDR`): imported only when the address is set, so a
 * warden without it loads neither node:http nor the event-loop monitor.
 */
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock } from '../adapters/clock.js';
import type { Logger } from '../adapters/logger.js';
import { parseMetricsAddress, serveMetrics } from '../adapters/metrics-server.js';
import type { ServiceLogs } from '../adapters/service-logs.js';
import { renderMetrics, type ServiceSample } from '../protocol/metrics-text.js';
import { serviceStatus, waitingStatus } from './service-status.js';
import type { Supervisor } from './supervisor.js';

export interface MetricsContext {
  readonly address: string;
  readonly supervisor: Supervisor;
  /** Services known but not started yet. */
  readonly waiting: () => readonly string[];
  readonly logs: Pick<ServiceLogs, 'lineCounts'>;
  readonly clock: Clock;
  /** Wall-clock ms, for the statuses' times. */
  readonly wallClock: () => number;
  readonly logger: Logger;
}

/** Serves /metrics until `close()`; a bad address or a port in use is logged, and warden goes on without. */
export async function startMetrics(ctx: MetricsContext): Promise<{ close(): void }> {
  const none = { close: () => undefined };
  const address = parseMetricsAddress(ctx.address);
  if (typeof address === 'string') {
    ctx.logger.error({ event: 'metrics-unavailable' }, address);
    return none;
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const page = (): string => {
    const now = ctx.clock.now();
    const wall = ctx.wallClock();
    const samples: ServiceSample[] = [
      ...ctx.supervisor.list().map((s) => ({ status: serviceStatus(s, now, wall), logLines: ctx.logs.lineCounts(s.spec.name) })),
      ...ctx.waiting().map((name) => ({ status: waitingStatus(name, 'up'), logLines: ctx.logs.lineCounts(name) })),
    ].sort((a, b) => (a.status.name < b.status.name ? -1 : 1));
    const text = renderMetrics(samples, {
      rssBytes: process.memoryUsage.rss(),
      openFds: openFds(),
      // The histogram is in ns; 0 before its first sample (it reports an absurd minimum then).
      loopLagP99: lag.count > 0 ? lag.percentile(99) / 1e9 : 0,
      loopLagMax: lag.count > 0 ? lag.max / 1e9 : 0,
    });
    lag.reset();
    return text;
  };
  let server: Server;
  try {
    server = await serveMetrics(address, page);
  } catch (err) {
    lag.disable();
    ctx.logger.error({ event: 'metrics-unavailable', address: ctx.address, err }, `cannot serve metrics on ${ctx.address}`);
    return none;
  }
  ctx.logger.info({ event: 'metrics', address: ctx.address }, `metrics on http://${ctx.address}/metrics`);
  return {
    close: () => {
      lag.disable();
      server.close();
      server.closeAllConnections();
    },
  };
}

function openFds(): number | null {
  try {
    // Minus the fd that reads the dir itself.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}
