/**
 * Lines of a service's output, and the records warden writes for them.
 *
 * Record format (one per output line, in `DIR/NAME/current` and its archives):
 *
 *     TIME SP MARK SP TEXT LF
 *
 * - TIME: UTC ISO-8601 with milliseconds, always 24 bytes: `2024-05-01T12:00:00.123Z`, so that
 *   records sort by plain string comparison. It is the time warden read the chunk that ended the
 *   line (lines of one chunk share it).
 * - MARK: `out` (stdout) or `err` (stderr); `out+` / `err+` when the line was longer than the
 *   line limit (64 KiB) and TEXT is only a piece of it: the line goes on in the next record of
 *   the same stream, and the last piece has the plain mark. Pieces are cut at a UTF-8 character
 *   boundary.
 * - TEXT: the line's bytes as written, without its LF; a CR before the LF is kept (CRLF output
 *   shows as TEXT ending in CR). TEXT never contains an LF, so one LF ends one record.
 *
 * A last line without LF at stream end is written as a normal record (the LF is added).
 */

/** Lines longer than this are cut into pieces (marked `+`) instead of being buffered. */
export const MAX_LINE_BYTES = 64 * 1024;

export type StreamName = 'out' | 'err';

/** One line (or piece of a too-long line) without its LF. */
export interface LineSegment {
  readonly text: Buffer;
  /** True when this is a piece of a longer line that goes on in the next segment. */
  readonly continued: boolean;
}

const LF = 0x0a;

/**
 * Cuts a byte stream into lines. Memory is bounded by `maxLine`: a partial line waits for its
 * end only up to that size, then it is emitted in pieces.
 */
export class LineSplitter {
  private partial: Buffer | null = null;

  constructor(private readonly maxLine: number = MAX_LINE_BYTES) {
    if (maxLine < 4) throw new RangeError('maxLine must be at least 4 bytes (one UTF-8 character)');
  }

  /** Bytes of the line that has no LF yet. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }

  /** The complete lines (and pieces of too-long lines) that `chunk` finishes. */
  push(chunk: Buffer): LineSegment[] {
    const out: LineSegment[] = [];
    let buf = chunk;
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(LF, start);
      if (lf === -1) break;
      this.emit(buf, start, lf, out);
      start = lf + 1;
    }
    // What is left has no LF: cut off full pieces, keep the rest for the next chunk.
    while (buf.length - start > this.maxLine) {
      const cut = utf8Boundary(buf, start + this.maxLine, start);
      out.push({ text: buf.subarray(start, cut), continued: true });
      start = cut;
    }
    // A copy, so that a small partial line does not pin a whole 64 KiB chunk.
    if (start < buf.length) this.partial = Buffer.from(buf.subarray(start));
    return out;
  }

  /** The stream ended: the last line, even without LF. */
  end(): LineSegment[] {
    const rest = this.partial;
    this.partial = null;
    return rest === null ? [] : [{ text: rest, continued: false }];
  }

  private emit(buf: Buffer, start: number, end: number, out: LineSegment[]): void {
    while (end - start > this.maxLine) {
      const cut = utf8Boundary(buf, start + this.maxLine, start);
      out.push({ text: buf.subarray(start, cut), continued: true });
      start = cut;
    }
    out.push({ text: buf.subarray(start, end), continued: false });
  }
}

/** `at`, moved back (at most 3 bytes) so that it does not fall inside a UTF-8 character. */
function utf8Boundary(buf: Buffer, at: number, min: number): number {
  let cut = at;
  for (let i = 0; i < 3 && cut > min + 1 && (buf[cut]! & 0xc0) === 0x80; i++) cut--;
  return cut;
}

/** `TIME MARK ` for records of one chunk. */
export function recordPrefix(time: string, stream: StreamName, continued: boolean): string {
  return `${time} ${stream}${continued ? '+' : ''} `;
}

/**
 * The records of `segments` as one buffer, ready to append. One allocation per chunk, not
 * per line: this is the hot path of a flooding service.
 */
export function formatRecords(time: string, stream: StreamName, segments: readonly LineSegment[]): Buffer {
  const whole = Buffer.from(recordPrefix(time, stream, false), 'latin1');
  const piece = Buffer.from(recordPrefix(time, stream, true), 'latin1');
  let size = 0;
  for (const s of segments) size += (s.continued ? piece.length : whole.length) + s.text.length + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const s of segments) {
    at += (s.continued ? piece : whole).copy(out, at);
    at += s.text.copy(out, at);
    out[at++] = LF;
  }
  return out;
}

/** One record read back from a log file. */
export interface LogRecord {
  readonly time: string;
  readonly stream: StreamName;
  readonly continued: boolean;
  readonly line: string;
}

const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (out|err)(\+?) /;

/** Parses one record (without its LF); null when the line is not one of ours. */
export function parseRecord(text: string): LogRecord | null {
  const m = RECORD.exec(text);
  if (m === null) return null;
  return { time: m[1]!, stream: m[2] as StreamName, continued: m[3] === '+', line: text.slice(m[0].length) };
}
