/**
 * Idempotency keys: every payment request carries one. The first request with a key is
 * executed and its result stored; a retry with the same key and the same body gets the
 * stored result back without executing again; the same key with a different body is a
 * conflict (a client bug or a reused key) and is refused, never executed.
 *
 * The body is compared by a canonical fingerprint the caller builds (fixed field order,
 * integers), so two requests that mean the same thing compare equal.
 */
import { assert } from './assert.js';

/** Keys remembered at once; a run that needs more is misconfigured, not a reason to grow forever. */
export const IDEMPOTENCY_KEYS_MAX = 1 << 20;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

export type IdempotencyOutcome<R> = { kind: 'new' } | { kind: 'replay'; result: R } | { kind: 'conflict'; result: R };

export class IdempotencyStore<R> {
  private readonly entries = new Map<string, { fingerprint: string; result: R }>();

  get size(): number {
    return this.entries.size;
  }

  /** What to do with a request: execute it (`new`), or answer with the stored result. */
  check(key: string, fingerprint: string): IdempotencyOutcome<R> {
    assert(key.length > 0 && key.length <= IDEMPOTENCY_KEY_LENGTH_MAX, 'idempotency key must be 1 to 255 characters');
    const e = this.entries.get(key);
    if (e === undefined) return { kind: 'new' };
    return e.fingerprint === fingerprint ? { kind: 'replay', result: e.result } : { kind: 'conflict', result: e.result };
  }

  /** The stored result of a key, if any. */
  resultOf(key: string): R | undefined {
    return this.entries.get(key)?.result;
  }

  /** Store the result of a request checked as `new`. */
  remember(key: string, fingerprint: string, result: R): void {
    assert(!this.entries.has(key), 'idempotency key stored twice');
    assert(this.entries.size < IDEMPOTENCY_KEYS_MAX, 'too many idempotency keys');
    this.entries.set(key, { fingerprint, result });
  }
}
