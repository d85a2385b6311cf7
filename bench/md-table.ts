/** Reading back the tables the benches write into docs/benchmarks.md, for the charts. */

export interface Table {
  readonly header: string[];
  readonly rows: string[][];
}

/** The rows of the first markdown table whose header starts with `firstColumn` (and has `withColumn`), as cells. */
export function tableRows(markdown: string, firstColumn: string, withColumn?: string): Table | null {
  const lines = markdown.split('\n');
  const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const at = lines.findIndex((l) => l.startsWith('|') && cells(l)[0] === firstColumn && (withColumn === undefined || cells(l).includes(withColumn)));
  if (at < 0) return null;
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(cells(line));
  }
  return { header: cells(lines[at]!), rows };
}

/** The first number in a cell ("3,115,219 lines/s" → 3115219; "—" → null). */
export function num(cell: string | undefined): number | null {
  const m = cell?.replace(/,/g, '').match(/-?\d+(\.\d+)?/);
  return m ? Number(m[0]) : null;
}

/** The index of column `name`; an error naming the table when it has none. */
export function column(table: Table, name: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) throw new Error(`docs/benchmarks.md: no column "${name}" in the table of ${table.header[0]}`);
  return i;
}
