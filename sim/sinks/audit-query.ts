import Database from 'better-sqlite3';
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
    where.push('type = ?');
    params.push(filter.type);
  }
  if (filter.orderId !== undefined) {
    assert(Number.isSafeInteger(filter.orderId), `orderId must be an integer, got ${filter.orderId}`);
    // A UNION-able OR: SQLite answers it from the two partial indexes.
    where.push('(order_id = ? OR maker_order_id = ?)');
    params.push(filter.orderId, filter.orderId);
  }
  if (filter.account !== undefined) {
    where.push('(account = ? OR maker_account = ?)');
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
    const sql = `SELECT body FROM events${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`;
    const bodies = db.prepare(sql).pluck().all(...params) as string[];
    return bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
  } finally {
    db.close();
  }
}
