/**
 * "Did you mean …?" for the entries of a service dir: a name close to a setting file's name is
 * almost always that setting misspelt, which s6 and warden would otherwise ignore in silence.
 * Anything else (data/, env/, README, a script of the image's own) stays silent, as s6 leaves it.
 */

/** The known name `entry` is most likely a misspelling of, or null when it is not close to any. */
export function nearMiss(entry: string, known: readonly string[]): string | null {
  if (known.includes(entry) || entry.startsWith('.')) return null;
  let best: { name: string; distance: number } | null = null;
  for (const name of known) {
    const distance = editDistance(entry, name);
    const limit = Math.min(entry.length, name.length) < 6 ? 1 : 2;
    if ((distance <= limit || sameStem(entry, name)) && (best === null || distance < best.distance)) best = { name, distance };
  }
  return best?.name ?? null;
}

/**
 * `dependency` for `dependencies`, `timeout-kil` for `timeout-kill`: one is the other cut short
 * after a common stem of at least 6 characters, give or take its last letter.
 */
function sameStem(entry: string, name: string): boolean {
  const a = entry.replace(/\.d$/, '');
  const b = name.replace(/\.d$/, '');
  const stem = a.slice(0, -1);
  return stem.length >= 6 && a !== b && b.startsWith(stem) && b.length - a.length <= 3;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
