import Database from 'better-sqlite3';
import { assert } from '../../engine/assert.js';
import { UserError } from '../errors.js';
import { BlockReader, ROW_COLUMNS, type BlockRecord } from './audit-block.js';

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
/** Blocks fetched per statement while scanning. */
const SCAN_BLOCKS = 64;

/**
 * Events of an audit log matching every given filter, in seq order, each as its
 * parsed canonical line. Scans the blocks' per-row columns (~45 bytes per event,
 * never the lines) and reads the lines of a block only when a row in it matches.
 * A time window skips whole blocks by their min_ts/max_ts. Every value is a
 * bound parameter.
 */
export function queryAudit(path: string, filter: AuditFilter): Array<Record<string, unknown>> {
  if (filter.orderId !== undefined) assert(Number.isSafeInteger(filter.orderId), `orderId must be an integer, got ${filter.orderId}`);
  if (filter.fromNs !== undefined) assert(Number.isSafeInteger(filter.fromNs), `fromNs must be an integer, got ${filter.fromNs}`);
  if (filter.toNs !== undefined) assert(Number.isSafeInteger(filter.toNs), `toNs must be an integer, got ${filter.toNs}`);
  const limit = filter.limit ?? AUDIT_QUERY_LIMIT_DEFAULT;
  assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= AUDIT_QUERY_LIMIT_MAX, `limit must be an integer in [1, ${AUDIT_QUERY_LIMIT_MAX}], got ${limit}`);

  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    // Names to ids through the lookup tables; a name the log does not know is a typo, not an empty answer.
    let type: number | undefined;
    if (filter.type !== undefined) {
      type = db.prepare('SELECT id FROM event_types WHERE name = ?').pluck().get(filter.type) as number | undefined;
      if (type === undefined) throw new UserError(`${path}: no event type ${JSON.stringify(filter.type)}; types: ${(db.prepare('SELECT name FROM event_types ORDER BY name').pluck().all() as string[]).join(', ')}`);
    }
    let accountIds: Set<number> | undefined;
    if (filter.account !== undefined) {
      accountIds = new Set(db.prepare('SELECT id FROM accounts WHERE name = ?').pluck().all(filter.account) as number[]);
      if (accountIds.size === 0) throw new UserError(`${path}: no account ${JSON.stringify(filter.account)} in this log; accounts: ${(db.prepare('SELECT name FROM accounts ORDER BY id').pluck().all() as string[]).join(', ') || '(none)'}`);
    }
    const from = filter.fromNs ?? -Infinity;
    const to = filter.toNs ?? Infinity;
    // Stored -1 means absent, so a negative id must not match it.
    if (filter.orderId !== undefined && filter.orderId < 0) return [];

    const cols = ['id', 'first_seq', 'rows', ...ROW_COLUMNS.map((c) => c.name)].join(', ');
    const page = db.prepare(`SELECT ${cols} FROM blocks WHERE id >= ? AND max_ts >= ? AND min_ts <= ? ORDER BY id LIMIT ${SCAN_BLOCKS}`);
    const linesOf = db.prepare('SELECT lines FROM blocks WHERE id = ?').pluck();
    const out: Array<Record<string, unknown>> = [];
    const hits: number[] = [];
    // SQLite compares the bounds as numbers; infinities become the extreme doubles.
    const lo = Number.isFinite(from) ? from : -Number.MAX_VALUE;
    const hi = Number.isFinite(to) ? to : Number.MAX_VALUE;
    let nextId = 0;
    for (;;) {
      const blocks = page.all(nextId, lo, hi) as Array<Omit<BlockRecord, 'lines' | 'last_seq' | 'min_ts' | 'max_ts' | 'block_hash'>>;
      if (blocks.length === 0) break;
      for (const b of blocks) {
        nextId = b.id + 1;
        const r = new BlockReader(b);
        hits.length = 0;
        for (let i = 0; i < r.rows; i++) {
          if (type !== undefined && r.type(i) !== type) continue;
          if (filter.orderId !== undefined && r.orderId(i) !== filter.orderId && r.makerOrderId(i) !== filter.orderId) continue;
          if (accountIds !== undefined && !accountIds.has(r.account(i)) && !accountIds.has(r.makerAccount(i))) continue;
          const ts = r.ts(i);
          if (ts < from || ts > to) continue;
          hits.push(i);
          if (out.length + hits.length === limit) break;
        }
        if (hits.length === 0) continue;
        const lines = linesOf.get(b.id) as Buffer;
        for (const i of hits) out.push(JSON.parse(lines.toString('utf8', r.start(i), r.end(i) - 1)) as Record<string, unknown>);
        if (out.length === limit) return out;
      }
    }
    return out;
  } finally {
    db.close();
  }
}
