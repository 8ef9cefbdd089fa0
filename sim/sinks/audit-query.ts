import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { assert } from '../../engine/assert.js';

export interface AuditFilter {
  /** Event type name, e.g. "trade" (docs/events.md). */
  type?: string;
  /** Venue order id; matches the order's own events and trades where it was the maker. */
  orderId?: number;
  /** Account name; matches the account or the trade's maker account. */
  account?: string;
  /** Virtual time window in ns, both ends inclusive. */
  fromNs?: number;
  toNs?: number;
  /** At most this many events (default AUDIT_QUERY_LIMIT_DEFAULT, at most AUDIT_QUERY_LIMIT_MAX). */
  limit?: number;
}

export const AUDIT_QUERY_LIMIT_DEFAULT = 1000;
export const AUDIT_QUERY_LIMIT_MAX = 1_000_000;

/**
 * Events of an audit log matching every given filter, in seq order, each as its
 * parsed canonical line. Only fixed SQL fragments are concatenated; every value
 * is a bound parameter.
 */
export function queryAudit(path: string, filter: AuditFilter): Array<Record<string, unknown>> {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (filter.type !== undefined) {
    // Ids through the lookup tables: an unknown name matches nothing, as a name column would.
    where.push('type = (SELECT id FROM event_types WHERE name = ?)');
    params.push(filter.type);
  }
  if (filter.orderId !== undefined) {
    assert(Number.isSafeInteger(filter.orderId), `orderId must be an integer, got ${filter.orderId}`);
    // A UNION-able OR: SQLite answers it from the two partial indexes.
    where.push('(order_id = ? OR maker_order_id = ?)');
    params.push(filter.orderId, filter.orderId);
  }
  if (filter.account !== undefined) {
    // A constant subquery, evaluated once, so the OR still runs on the two partial indexes.
    where.push('(account IN (SELECT id FROM accounts WHERE name = ?) OR maker_account IN (SELECT id FROM accounts WHERE name = ?))');
    params.push(filter.account, filter.account);
  }
  if (filter.fromNs !== undefined) {
    assert(Number.isSafeInteger(filter.fromNs), `fromNs must be an integer, got ${filter.fromNs}`);
    where.push('ts >= ?');
    params.push(filter.fromNs);
  }
  if (filter.toNs !== undefined) {
    assert(Number.isSafeInteger(filter.toNs), `toNs must be an integer, got ${filter.toNs}`);
    where.push('ts <= ?');
    params.push(filter.toNs);
  }
  const limit = filter.limit ?? AUDIT_QUERY_LIMIT_DEFAULT;
  assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= AUDIT_QUERY_LIMIT_MAX, `limit must be an integer in [1, ${AUDIT_QUERY_LIMIT_MAX}], got ${limit}`);
  params.push(limit);

  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    if ((filter.fromNs !== undefined || filter.toNs !== undefined) && tsMonotonic(db)) {
      // No ts index (see AuditWriter.close): narrow to a seq range on the primary key first.
      const first = db.prepare('SELECT seq, ts FROM events WHERE seq >= ? ORDER BY seq LIMIT 1');
      if (filter.fromNs !== undefined) {
        where.push('seq >= ?');
        params.splice(params.length - 1, 0, firstSeqWhere(db, first, (ts) => ts >= filter.fromNs!));
      }
      if (filter.toNs !== undefined) {
        where.push('seq < ?');
        params.splice(params.length - 1, 0, firstSeqWhere(db, first, (ts) => ts > filter.toNs!));
      }
    }
    const sql = `SELECT body FROM events${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`;
    const bodies = db.prepare(sql).pluck().all(...params) as string[];
    return bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

function tsMonotonic(db: Database.Database): boolean {
  const r = db.prepare("SELECT value FROM meta WHERE key = 'ts_monotonic'").pluck().get() as string | undefined;
  return r === '1';
}

/** Smallest seq whose ts satisfies `ok` (monotone in seq), or max seq + 1: a binary search of O(log n) rowid lookups. */
function firstSeqWhere(db: Database.Database, first: Statement, ok: (ts: number) => boolean): number {
  const b = db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM events').get() as { lo: number | null; hi: number | null };
  if (b.lo === null || b.hi === null) return 0;
  let lo = b.lo;
  let hi = b.hi + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = first.get(mid) as { seq: number; ts: number } | undefined;
    if (r === undefined || ok(r.ts)) hi = mid;
    else lo = r.seq + 1;
  }
  return lo;
}
