/** Parsers of the runtime API's tables: `show servers state` and `show stat` (pure). */

/** One server as HAProxy runs it now. */
export interface RuntimeServer {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly opState: number;
  /** srv_admin_state bits: 0x01 forced maintenance, 0x04 `disabled` in the config, 0x08 forced drain … */
  readonly adminState: number;
}

export const ADMIN_FORCED_MAINT = 0x01;
export const ADMIN_CONFIG_MAINT = 0x04;
export const ADMIN_FORCED_DRAIN = 0x08;

/** Parses `show servers state BACKEND`: a version line, a `# field …` header, one line per server. */
export function parseServersState(text: string, backend: string): RuntimeServer[] {
  const lines = text.split('\n').map((l) => l.trim());
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) throw new Error(`show servers state: no header in ${JSON.stringify(text.slice(0, 200))}`);
  const fields = header.slice(2).split(/\s+/);
  const at = (name: string): number => {
    const i = fields.indexOf(name);
    if (i < 0) throw new Error(`show servers state: no field ${name} in the header`);
    return i;
  };
  const [iBe, iName, iAddr, iPort, iOp, iAdmin] = ['be_name', 'srv_name', 'srv_addr', 'srv_port', 'srv_op_state', 'srv_admin_state'].map(at) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const servers: RuntimeServer[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || /^\d+$/.test(line)) continue;
    const cols = line.split(/\s+/);
    if (cols[iBe] !== backend) continue;
    servers.push({
      name: cols[iName] ?? '',
      address: cols[iAddr] ?? '',
      port: Number(cols[iPort]),
      opState: Number(cols[iOp]),
      adminState: Number(cols[iAdmin]),
    });
  }
  return servers;
}

/** One row of `show stat` (CSV), the fields the stack reads. */
export interface StatRow {
  readonly proxy: string;
  readonly server: string;
  /** Sessions on it right now. */
  readonly current: number;
  readonly status: string;
  /** Connection errors, response errors, retries, redispatches. */
  readonly connErrors: number;
  readonly respErrors: number;
  readonly retries: number;
  readonly redispatches: number;
  readonly total: number;
  /** Connections opened to the server, and requests sent on an idle connection reused instead. */
  readonly connects: number;
  readonly reuses: number;
}

/** Parses `show stat`: a `# pxname,svname,…` header and CSV rows. */
export function parseStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) throw new Error('show stat: no header');
  const fields = header.slice(2).split(',');
  const col = (cols: string[], name: string): string => cols[fields.indexOf(name)] ?? '';
  const num = (cols: string[], name: string): number => Number(col(cols, name) || 0);
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(','))
    .map((cols) => ({
      proxy: col(cols, 'pxname'),
      server: col(cols, 'svname'),
      current: num(cols, 'scur'),
      status: col(cols, 'status'),
      connErrors: num(cols, 'econ'),
      respErrors: num(cols, 'eresp'),
      retries: num(cols, 'wretr'),
      redispatches: num(cols, 'wredis'),
      total: num(cols, 'stot'),
      connects: num(cols, 'connect'),
      reuses: num(cols, 'reuse'),
    }));
}
