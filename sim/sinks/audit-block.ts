import type Database from 'better-sqlite3';
import { InvariantError } from '../../engine/assert.js';
import { blockRowHashes } from './audit-chain.js';

/**
 * One block of the audit log: up to AUDIT_BLOCK_ROWS consecutive events as one
 * SQLite row. The block holds the events' canonical lines as they are in
 * events.ndjson (one blob) and, per event, the index columns a query filters on
 * (one little-endian blob per column, `row_*`). See docs/events.md.
 *
 * Why blocks and not a row per event: a SQLite row costs ~1 us to bind, build
 * and insert, plus ~0.6 us of index build at close, whatever is in it (measured
 * in sim/sinks/audit.ts, format v2). At ~1.8 M events per 1 M-command day that
 * alone was 3 s of CPU, more than the whole run without the audit. A block row
 * costs the same ~1 us per 1,024 events; the per-event work left is copying the
 * line and setting ten numbers. Queries read the small `row_*` blobs of every
 * block (~45 bytes per event) and parse only the lines they return.
 */

/** Rows per block, and per SHA-256 link of the chain. */
export const AUDIT_BLOCK_ROWS = 1024;

/** A per-row column: its name in the blocks table and its width in bytes. */
export interface RowColumn {
  name: string;
  bytes: 1 | 4 | 8;
}

/**
 * The per-row columns, in table order. Integers that may be absent are stored
 * as -1 (ids and order ids are never negative).
 * - row_seq: seq - first_seq (int32): seq is increasing, not necessarily dense.
 * - row_ts: virtual time in ns (float64, an integer).
 * - row_type: event type id (uint8), see the event_types table.
 * - row_instrument, row_account, row_maker_account: ids (int32), see the
 *   instruments and accounts tables; maker columns only on trades.
 * - row_order_id, row_maker_order_id: venue order ids (float64, integers).
 * - row_end: offset in `lines` just past the row's "\n" (uint32).
 * - row_hash: the row-hash chain after the row (uint32), see rowHash in audit-chain.ts.
 */
export const ROW_COLUMNS = [
  { name: 'row_seq', bytes: 4 },
  { name: 'row_ts', bytes: 8 },
  { name: 'row_type', bytes: 1 },
  { name: 'row_instrument', bytes: 4 },
  { name: 'row_account', bytes: 4 },
  { name: 'row_order_id', bytes: 8 },
  { name: 'row_maker_account', bytes: 4 },
  { name: 'row_maker_order_id', bytes: 8 },
  { name: 'row_end', bytes: 4 },
  { name: 'row_hash', bytes: 4 },
] as const satisfies readonly RowColumn[];

export const ROW_BYTES = ROW_COLUMNS.reduce((s, c) => s + c.bytes, 0);

/** Scalar columns of a block, in table order, before the row columns. */
export const BLOCK_COLUMNS = ['id', 'first_seq', 'last_seq', 'min_ts', 'max_ts', 'rows', 'block_hash'] as const;

export const BLOCKS_DDL = `
  CREATE TABLE blocks (
    id INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, rows INTEGER NOT NULL, block_hash TEXT NOT NULL,
    ${ROW_COLUMNS.map((c) => `${c.name} BLOB NOT NULL`).join(', ')},
    lines BLOB NOT NULL
  );`;

/**
 * A row-per-event view for ad-hoc SQL: the lines split with SQLite's JSON
 * functions (a block's lines joined with commas are a JSON array). Slow (every
 * line is parsed) but needs nothing beyond sqlite3; `exsim audit query` reads
 * the row columns instead.
 */
export const EVENTS_VIEW_DDL = `
  CREATE VIEW events AS
    SELECT j.value ->> '$.seq' AS seq, j.value ->> '$.ts' AS ts, j.value ->> '$.type' AS type,
           j.value ->> '$.instrument' AS instrument, j.value ->> '$.account' AS account,
           j.value ->> '$.orderId' AS order_id, j.value ->> '$.makerAccount' AS maker_account,
           j.value ->> '$.makerOrderId' AS maker_order_id, j.value AS body, b.id AS block
    FROM blocks AS b, json_each('[' || replace(rtrim(CAST(b.lines AS TEXT), char(10)), char(10), ',') || ']') AS j;`;

export const INSERT_BLOCK_SQL = `INSERT INTO blocks (${BLOCK_COLUMNS.join(', ')}, ${ROW_COLUMNS.map((c) => c.name).join(', ')}, lines) VALUES (${Array<string>(BLOCK_COLUMNS.length + ROW_COLUMNS.length + 1).fill('?').join(', ')})`;

/** One event of a block, as a reader sees it (ids as numbers, null where absent). */
export interface AuditRow {
  seq: number;
  ts: number;
  type: number;
  instrument: number | null;
  account: number | null;
  order_id: number | null;
  maker_account: number | null;
  maker_order_id: number | null;
  /** The canonical line, without "\n". */
  body: string;
  /** The row-hash chain after this row (rowHash). */
  hash: number;
}

/**
 * The per-row columns of one block being written: fixed-capacity column
 * sections in one buffer, so appending a row allocates nothing.
 */
export class BlockColumns {
  readonly buf: Buffer;
  private readonly view: DataView;
  /** Byte offset of each column's section. */
  private readonly at: number[];

  /** `buf`: an existing column buffer of this capacity (e.g. one received from another thread). */
  constructor(
    readonly capacity = AUDIT_BLOCK_ROWS,
    buf?: Buffer,
  ) {
    // Its own ArrayBuffer (not a slice of Buffer's pool), so it can be transferred to another thread.
    this.buf = buf ?? Buffer.from(new ArrayBuffer(ROW_BYTES * capacity));
    if (this.buf.length !== ROW_BYTES * capacity) throw new InvariantError(`block columns: ${this.buf.length} bytes for ${capacity} rows`);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    let off = 0;
    this.at = ROW_COLUMNS.map((c) => {
      const o = off;
      off += c.bytes * capacity;
      return o;
    });
  }

  /** Sets row i. Absent ids and order ids are -1. */
  set(i: number, seqOffset: number, ts: number, type: number, instrument: number, account: number, orderId: number, makerAccount: number, makerOrderId: number, end: number, hash: number): void {
    const v = this.view;
    const a = this.at;
    v.setInt32(a[0]! + 4 * i, seqOffset, true);
    v.setFloat64(a[1]! + 8 * i, ts, true);
    v.setUint8(a[2]! + i, type);
    v.setInt32(a[3]! + 4 * i, instrument, true);
    v.setInt32(a[4]! + 4 * i, account, true);
    v.setFloat64(a[5]! + 8 * i, orderId, true);
    v.setInt32(a[6]! + 4 * i, makerAccount, true);
    v.setFloat64(a[7]! + 8 * i, makerOrderId, true);
    v.setUint32(a[8]! + 4 * i, end, true);
    v.setUint32(a[9]! + 4 * i, hash, true);
  }

  end(i: number): number {
    return this.view.getUint32(this.at[8]! + 4 * i, true);
  }

  setHash(i: number, hash: number): void {
    this.view.setUint32(this.at[9]! + 4 * i, hash, true);
  }

  /** The first `rows` entries of each column, as blobs to bind (views, valid until the next set()). */
  blobs(rows: number): Buffer[] {
    return ROW_COLUMNS.map((c, k) => this.buf.subarray(this.at[k]!, this.at[k]! + c.bytes * rows));
  }
}

/** A block row as SELECT * gives it. */
export interface BlockRecord {
  id: number;
  first_seq: number;
  last_seq: number;
  min_ts: number;
  max_ts: number;
  rows: number;
  block_hash: string;
  row_seq: Buffer;
  row_ts: Buffer;
  row_type: Buffer;
  row_instrument: Buffer;
  row_account: Buffer;
  row_order_id: Buffer;
  row_maker_account: Buffer;
  row_maker_order_id: Buffer;
  row_end: Buffer;
  row_hash: Buffer;
  lines: Buffer;
}

/** Reads the per-row columns of a block record; checks the blob sizes first. */
export class BlockReader {
  readonly rows: number;
  private readonly v: DataView[];

  /** Throws BlockShapeError when a blob does not have `rows` entries. */
  constructor(readonly b: Pick<BlockRecord, 'rows' | (typeof ROW_COLUMNS)[number]['name']> & Partial<BlockRecord>) {
    this.rows = b.rows;
    this.v = ROW_COLUMNS.map((c) => {
      const blob = b[c.name];
      if (!Buffer.isBuffer(blob) || blob.length !== c.bytes * b.rows) throw new BlockShapeError(`${c.name} holds ${Buffer.isBuffer(blob) ? blob.length : 'no'} bytes, not ${c.bytes} x ${b.rows} rows`);
      return new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    });
  }

  seqOffset(i: number): number {
    return this.v[0]!.getInt32(4 * i, true);
  }
  ts(i: number): number {
    return this.v[1]!.getFloat64(8 * i, true);
  }
  type(i: number): number {
    return this.v[2]!.getUint8(i);
  }
  instrument(i: number): number {
    return this.v[3]!.getInt32(4 * i, true);
  }
  account(i: number): number {
    return this.v[4]!.getInt32(4 * i, true);
  }
  orderId(i: number): number {
    return this.v[5]!.getFloat64(8 * i, true);
  }
  makerAccount(i: number): number {
    return this.v[6]!.getInt32(4 * i, true);
  }
  makerOrderId(i: number): number {
    return this.v[7]!.getFloat64(8 * i, true);
  }
  end(i: number): number {
    return this.v[8]!.getUint32(4 * i, true);
  }
  hash(i: number): number {
    return this.v[9]!.getUint32(4 * i, true);
  }
  /** Start of row i's line in `lines`. */
  start(i: number): number {
    return i === 0 ? 0 : this.end(i - 1);
  }
}

export class BlockShapeError extends Error {}

const orNull = (x: number): number | null => (x < 0 ? null : x);

/** Row i of a block record as a reader sees it. */
export function blockRow(r: BlockReader, firstSeq: number, lines: Buffer, i: number): AuditRow {
  return {
    seq: firstSeq + r.seqOffset(i),
    ts: r.ts(i),
    type: r.type(i),
    instrument: orNull(r.instrument(i)),
    account: orNull(r.account(i)),
    order_id: orNull(r.orderId(i)),
    maker_account: orNull(r.makerAccount(i)),
    maker_order_id: orNull(r.makerOrderId(i)),
    body: lines.toString('utf8', r.start(i), r.end(i) - 1),
    hash: r.hash(i),
  };
}

/** Every event of an audit log in seq order, each with its block's hash on the block's last row. */
export function readAuditRows(db: Database.Database): Array<AuditRow & { block_hash: string | null }> {
  const out: Array<AuditRow & { block_hash: string | null }> = [];
  for (const b of db.prepare('SELECT * FROM blocks ORDER BY id').all() as BlockRecord[]) {
    const r = new BlockReader(b);
    for (let i = 0; i < r.rows; i++) out.push({ ...blockRow(r, b.first_seq, b.lines, i), block_hash: i === r.rows - 1 ? b.block_hash : null });
  }
  return out;
}

/**
 * Replaces the blocks of an audit log with `rows`, cut into blocks after every
 * row that carries a block_hash, storing each row's fields as given (no row
 * hash or block hash is recomputed, unless `rehash`: then the row-hash chain
 * is recomputed over the new bytes, as a forger who knows the scheme would).
 * This is the forger's tool: tests tamper with a log through it the way they
 * would edit a row-per-event table.
 */
export function writeAuditRows(db: Database.Database, rows: ReadonlyArray<AuditRow & { block_hash: string | null }>, opts: { rehash?: boolean } = {}): void {
  const insert = db.prepare(INSERT_BLOCK_SQL);
  db.transaction(() => {
    db.prepare('DELETE FROM blocks').run();
    let id = 0;
    let from = 0;
    let seed = 0;
    for (let k = 0; k < rows.length; k++) {
      const last = rows[k]!;
      if (last.block_hash === null && k !== rows.length - 1) continue;
      const part = rows.slice(from, k + 1);
      from = k + 1;
      const cols = new BlockColumns(Math.max(1, part.length));
      const bodies = part.map((x) => Buffer.from(x.body + '\n', 'utf8'));
      const lines = Buffer.concat(bodies);
      const ends: number[] = [];
      let end = 0;
      for (const b of bodies) ends.push((end += b.length));
      const hashes = opts.rehash ? blockRowHashes(lines, ends, seed) : part.map((x) => x.hash);
      seed = hashes[hashes.length - 1] ?? seed;
      part.forEach((x, i) => {
        cols.set(i, x.seq - part[0]!.seq, x.ts, x.type, x.instrument ?? -1, x.account ?? -1, x.order_id ?? -1, x.maker_account ?? -1, x.maker_order_id ?? -1, ends[i]!, hashes[i]!);
      });
      const ts = part.map((x) => x.ts);
      insert.run(id++, part[0]!.seq, last.seq, Math.min(...ts), Math.max(...ts), part.length, last.block_hash ?? '', ...cols.blobs(part.length), lines);
    }
  })();
}

/** Checks an invariant of the writer without building the message on the happy path. */
export function checkSeqOffset(offset: number): void {
  if (!(offset >= 0 && offset <= 0x7fffffff)) throw new InvariantError(`audit: seq offset ${offset} in a block does not fit an int32`);
}
