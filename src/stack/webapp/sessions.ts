/**
 * In-memory sessions keyed by the NODESESSID cookie. Bounded: a load generator that never sends
 * the cookie back (wrk) creates a session per request, so the oldest are evicted past `limit`.
 */
import { randomBytes } from 'node:crypto';

export interface Session {
  readonly id: string;
  views: number;
}

export class SessionStore {
  // A Map iterates in insertion order: re-inserting on each visit keeps it least-recently-used first.
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limit = 10_000,
    private readonly newId: () => string = () => randomBytes(12).toString('hex'),
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The session for `id` with one more view, or a new one (with `isNew`) when `id` is unknown. */
  visit(id: string | undefined): { session: Session; isNew: boolean } {
    const known = id === undefined ? undefined : this.sessions.get(id);
    if (known !== undefined) {
      this.sessions.delete(known.id);
      this.sessions.set(known.id, known);
      known.views++;
      return { session: known, isNew: false };
    }
    const session: Session = { id: this.newId(), views: 1 };
    this.sessions.set(session.id, session);
    while (this.sessions.size > this.limit) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    return { session, isNew: true };
  }
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
