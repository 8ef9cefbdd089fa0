import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { InvariantError } from '../../engine/assert.js';
import { EVENT_TYPE_NAME, type EventRecord } from '../../engine/event.js';
import type { Instrument } from '../../engine/instrument.js';
import { EVENT_FORMAT_VERSION, EVENT_HAS_ACCOUNT, EVENT_HAS_ORDER_ID } from './event-format.js';
import { EventType } from '../../engine/event.js';

/**
 * The audit log: every canonical line in SQLite, indexed for queries, with a
 * tamper-evident chain over the lines.
 *
 * Chain design. Measured (node 20.20, 300k sample lines of ~176 bytes, a busy
 * 2-core box, bench/output.bench.ts): SHA-256 per row with createHash ~3 us,
 * with the one-shot crypto.hash ~0.5 us; this design (CRC-32 per row ~0.3 us +
 * SHA-256 per block ~0.4 us) ~0.7 us. SHA-256 over the bytes dominates either
 * way, and both are small next to SQLite (~2-3 us per row insert + indexes).
 * The per-row crypto.hash chain would be as cheap and name the exact row even
 * for a forger who recomputes CRCs, but needs Node >= 20.12 and 64 more bytes
 * per row; kept as a possible change (bump AUDIT_FORMAT_VERSION). Two layers:
 * - per row, `crc`: CRC-32 of the line and a "\n", continued from the previous
 *   row's crc (so the last row's crc is the CRC-32 of the whole events.ndjson).
 *   Cheap (~0.2 us); it names the first edited, deleted, inserted or reordered
 *   row when the tamperer did not recompute it.
 * - per block of AUDIT_BLOCK_ROWS rows (and the final partial block), on the
 *   block's last row, `block_hash`: SHA-256 over the previous block hash (hex)
 *   and the block's lines, each followed by "\n". CRC-32 is forgeable; SHA-256
 *   is not, so a forger who recomputes the CRCs is still caught, to the block.
 *   The first block chains to a genesis hash over the run's meta (scenario,
 *   seed, names), so the meta is covered too. The head hash (last block hash)
 *   is in the meta table and in the run's output result, for anchoring outside.
 *
 * Durability: journal_mode=OFF and synchronous=OFF during the run (measured:
 * OFF inserts ~1.3x faster than WAL, which writes every page twice). The log
 * is a simulation artefact, reproducible from the scenario; a crash mid-run
 * leaves a partial file that the output sink deletes, not a ledger to recover.
 * At close the journal goes to DELETE so the result is one self-contained file
 * that later readers open normally. 16 KiB pages: fewer, fuller b-tree pages
 * for ~200-byte rows (measured ~1.2x on insert and index builds).
 *
 * Insert path (format v2). Measured on 500k rows of synthetic-1m's events.ndjson
 * (node 20.20, better-sqlite3 12, the 2-core box at load 2.5-4, so +-30%),
 * insert + index build per row: v1 (11 bound values, body and names as JS
 * strings, 5 indexes) 2.8 + 1.6 us; body as a Buffer per row and numbers for
 * type/account 1.0-1.5 + 0.5-0.9 us; the group blob with substr() (below)
 * 0.9-1.2 + 0.35-0.45 us. Strings are the cost: better-sqlite3 converts each to
 * UTF-8, and the output path already has the line as bytes. Inline output path
 * CPU time, sample events, audit on: 4.8-5.0 us/event before, 2.9-3.3 after
 * (0.7 without audit). Not kept: cache_size 64 MiB, temp_store MEMORY, threads 2,
 * locking_mode EXCLUSIVE (no difference above the noise), WITHOUT ROWID (seq is
 * already the rowid, appended in order).
 *
 * Measured and not kept (2026-11-25, node 20.20, synthetic-1m = 1,835,008
 * events, the shared 2-core box at load 1.3-3.6 from other work; every pair of
 * runs alternated between HEAD built in a scratch checkout and the change, see
 * `e2e.bench.js ... --against`). The bar was 1.3x end to end with the audit on.
 * A. The audit on a second worker: the output worker formats, writes and
 *    hashes events.ndjson, computes the chain (CRC per row, SHA-256 per block,
 *    the same code as appendBytes) and, per 1 MiB chunk, transfers a copy of
 *    the bytes plus a Float64Array of index columns and CRCs (and the block
 *    hashes) to an audit worker (postMessage, at most 8 chunks in flight,
 *    waited on with Atomics) that only inserts, through an appendChained()
 *    twin of appendBytes; close() gets the result back synchronously with
 *    receiveMessageOnPort. Same bytes, same audit file (audit verify ok), all
 *    tests green. Walls, audit on, feed inline, output worker:
 *      e2e bench, 3 alternating rounds: HEAD 4.95-6.17 s / A 4.29-4.31 s (load 2.9-3.2);
 *        HEAD 6.29-6.56 / A 6.37-7.53 (load 2.3-3.2, a vitest run beside it);
 *        HEAD 4.98-5.74 / A 4.42-4.49 (load 2.3-2.6); HEAD 5.06-6.46 / A 4.48-4.89 (load 1.3-2.0).
 *      e2e bench, all four configurations, back to back: feed inline HEAD 5.32 / A 4.11 s,
 *        feed worker HEAD 5.44 / A 4.53 s (load 1.5-2.8).
 *      exsim run --feed-thread inline: HEAD 5.64-7.42 / A 4.44-5.02 s (load 2.8-3.6);
 *        HEAD 5.05-5.60 / A 4.28-4.48 s (load 1.8-1.9).
 *      e2e.bench.js synthetic-1m 4 --against (A's build), the quietest round:
 *        HEAD 4.64-5.02 s / A 4.00-4.14 s (load 1.4-1.7), median 1.20x.
 *    Median speed-up per round 0.90 (the loaded one), 1.13, 1.20, 1.20, 1.22,
 *    1.23, 1.29, 1.36: typically ~1.2x, under the bar. Why: the run is
 *    CPU-bound, not waiting (user+sys 7.8-8.9 s HEAD, 8.0-8.4 s A, on 2 cores,
 *    so ~4 s is the floor); A only fills the idle core time HEAD has, and the
 *    index build at close (0.8-0.9 s, "output drain") stays a serial tail.
 *    Under load from other processes there is no idle core and A gains nothing.
 *    Main-thread formatting was not tried for the same reason (it moves CPU, it
 *    does not remove any; the SQLite thread stays the critical path).
 * B. A narrower layout (micro-bench of the SQLite part alone, 500k real lines,
 *    four partial indexes): v2 as here 1.08-1.17 us/row insert + 0.61-0.66
 *    index build; lines once per 1024-row block (`blocks` table with one blob)
 *    and a body-less `events` row (12 integers: columns, block, offset, length,
 *    crc) 1.05-1.07 + 0.44. ~0.2 us/row (~12%) less: the per-row cost is the
 *    bound values and record building, not the body bytes; the saving is in the
 *    index builds, which scan a table 6x narrower. Too little for a format
 *    change on its own (and test/cli.test.ts tampers with `UPDATE events SET
 *    body`, so `events` would have to become a view with an INSTEAD OF
 *    trigger). A + B together might reach ~1.3x on a quiet box.
 * Also no gain, same micro-bench: 16 or 256 rows per INSERT (64 is flat),
 * indexes created before the load (2.8-4 us/row instead of 1.8), cache_size
 * 256 MiB and temp_store MEMORY at index build (slower: 0.83-1.01 us/row),
 * mmap_size 2 GiB (0.75), PRAGMA threads = 2 for the sorter (no change).
 */

export const AUDIT_FORMAT = 'exsim-audit';
/** 2: type, instrument and account columns hold numbers (names in lookup tables), no type index. */
export const AUDIT_FORMAT_VERSION = 2;
/** Rows per SHA-256 block. */
export const AUDIT_BLOCK_ROWS = 1024;
/** Rows per write transaction (a multiple of INSERT_ROWS). */
const COMMIT_ROWS = 8192;
/** Rows per multi-row INSERT: one statement step per 64 rows instead of one per row. */
const INSERT_ROWS = 64;
const COLUMNS = ['seq', 'ts', 'type', 'instrument', 'account', 'order_id', 'maker_account', 'maker_order_id', 'body', 'crc', 'block_hash'] as const;
/** Bound per row: the columns, with body given as (offset, length) into the group's one blob. */
const ROW_PARAMS = 12;
/** Staging bytes for append(e, line: string). */
const STAGE_BYTES = 1 << 18;

export interface AuditMeta {
  scenario: string;
  seed: string | number;
  instruments: readonly Instrument[];
  accountNames: readonly string[];
}

/**
 * CRC-32 tables for slicing-by-8. In JS, 8 bytes per step beat both the
 * byte-wise table loop (~0.57 us per 190-byte line) and zlib.crc32 on a view of
 * the line (~0.36 us, mostly call and view overhead): ~0.26 us (crc.mjs
 * micro-bench, node 20.20, 525k lines of events.ndjson). Works on every Node.
 */
const CRC_T8 = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** CRC-32 (IEEE) of b[start, end), continuing from `crc`; unsigned. */
export function crc32Bytes(b: Uint8Array, start: number, end: number, crc: number): number {
  const t = CRC_T8;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const x = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c =
      t[1792 + (x & 0xff)]! ^
      t[1536 + ((x >>> 8) & 0xff)]! ^
      t[1280 + ((x >>> 16) & 0xff)]! ^
      t[1024 + (x >>> 24)]! ^
      t[768 + b[i + 4]!]! ^
      t[512 + b[i + 5]!]! ^
      t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const NEWLINE = Buffer.from('\n');

/** CRC-32 (IEEE) of `s` as UTF-8 followed by "\n", continuing from `crc`; unsigned. */
export function crc32Line(s: string, crc: number): number {
  const b = Buffer.from(s, 'utf8');
  return crc32Bytes(NEWLINE, 0, 1, crc32Bytes(b, 0, b.length, crc));
}

/** The byte-wise reference, exported so a test can hold the sliced one to it. */
export const crc32LineJs = (s: string, crc: number): number => {
  const b = Buffer.from(s + '\n', 'utf8');
  let c = ~crc;
  for (let i = 0; i < b.length; i++) c = CRC_T8[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** The hash the first block chains to: it covers the run's identity. */
export function genesisHash(m: { scenario: string; seed: string; instruments: readonly string[]; accounts: readonly string[] }): string {
  return sha256Hex(`${AUDIT_FORMAT} v${AUDIT_FORMAT_VERSION} ${JSON.stringify([m.scenario, m.seed, m.instruments, m.accounts])}\n`);
}

/** H_k = SHA-256(H_{k-1} hex || "\n" || line_1 "\n" ... line_n "\n"). */
export function blockHash(prevHex: string, lines: readonly string[]): string {
  return createHash('sha256').update(prevHex + '\n').update(lines.join('\n') + '\n').digest('hex');
}

/**
 * The INSERT for n rows. The rows' lines arrive as one blob (the bytes the
 * caller already formatted, newlines between them) and each row names its
 * slice: one Buffer bound per 64 rows instead of a JS string per row, which
 * better-sqlite3 would encode to UTF-8 again (and a Buffer view per row costs
 * ~0.15 us of allocation). CAST keeps body a TEXT column for readers.
 */
function insertSql(n: number): string {
  const row = `(${Array<string>(ROW_PARAMS).fill('?').join(',')})`;
  return (
    `INSERT INTO events (${COLUMNS.join(',')}) ` +
    'SELECT column1, column2, column3, column4, column5, column6, column7, column8, CAST(substr(g.b, column9, column10) AS TEXT), column11, column12 ' +
    `FROM (SELECT ? AS b) AS g, (VALUES ${Array<string>(n).fill(row).join(',')})`
  );
}

/**
 * Writes the audit log. The fast path is appendBytes: the line's bytes are
 * read in place (CRC, block SHA-256 and the INSERT's blob all read the caller's
 * buffer), so the caller must call release() before it overwrites them.
 */
export class AuditWriter {
  private readonly db: Database.Database;
  private readonly insertFull: Database.Statement;
  /** INSERTs for a group cut short (buffer released, or close), by row count; prepared when first needed. */
  private readonly insertPartial = new Map<number, Database.Statement>();
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly nInstruments: number;
  private readonly nAccounts: number;
  /** Parameters of the pending group: [blob, then ROW_PARAMS per row]. */
  private readonly group: unknown[];
  private groupRows = 0;
  private groupStart = 0;
  /** The buffer the pending rows' bytes are in, or null when nothing is pending. */
  private src: Uint8Array | null = null;
  private lastEnd = 0;
  private inTx = false;
  private rowsInTx = 0;
  private rows = 0;
  private lastSeq = -Infinity;
  private lastTs = -Infinity;
  /** ts non-decreasing in seq order (the virtual clock's promise); if broken, a ts index is built instead. */
  private tsMonotonic = true;
  private crc = 0;
  private headHash: string;
  private blockRows = 0;
  /** SHA-256 of the open block, fed with byte ranges of `src`; null until the block's first row. */
  private blockHasher: Hash | null = null;
  /** Start in `src` of the open block's bytes not yet fed to blockHasher, or -1. */
  private blockRegion = -1;
  private stage: Buffer | null = null;
  private stagePos = 0;
  private closed = false;

  constructor(path: string, meta: AuditMeta) {
    const symbols = meta.instruments.map((i) => i.symbol);
    const accounts = [...meta.accountNames];
    this.nInstruments = symbols.length;
    this.nAccounts = accounts.length;
    const seed = String(meta.seed);
    this.headHash = genesisHash({ scenario: meta.scenario, seed, instruments: symbols, accounts });

    this.db = new Database(path);
    try {
      this.db.pragma('page_size = 16384');
      this.db.pragma('journal_mode = OFF');
      this.db.pragma('synchronous = OFF');
      // Numbers, not names, in the events table: binding a JS string costs a UTF-8
      // conversion per value (~0.1 us each, four per row) and makes every index wider.
      // The lookup tables and the events_named view give readers the names back.
      this.db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE event_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE instruments (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL);
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type INTEGER NOT NULL,
          instrument INTEGER, account INTEGER, order_id INTEGER, maker_account INTEGER, maker_order_id INTEGER,
          body TEXT NOT NULL, crc INTEGER NOT NULL, block_hash TEXT
        );
        CREATE VIEW events_named AS
          SELECT e.seq, e.ts, t.name AS type, i.symbol AS instrument, a.name AS account, e.order_id,
                 m.name AS maker_account, e.maker_order_id, e.body, e.crc, e.block_hash
          FROM events e JOIN event_types t ON t.id = e.type
          LEFT JOIN instruments i ON i.id = e.instrument
          LEFT JOIN accounts a ON a.id = e.account
          LEFT JOIN accounts m ON m.id = e.maker_account;`);
      const putMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      const entries: Array<[string, string]> = [
        ['format', AUDIT_FORMAT],
        ['format_version', String(AUDIT_FORMAT_VERSION)],
        ['event_format_version', String(EVENT_FORMAT_VERSION)],
        ['hash_scheme', `crc32-chain-per-row+sha256-per-${AUDIT_BLOCK_ROWS}-rows`],
        ['block_rows', String(AUDIT_BLOCK_ROWS)],
        ['scenario', meta.scenario],
        ['seed', seed],
        ['instruments', JSON.stringify(symbols)],
        ['accounts', JSON.stringify(accounts)],
        ['genesis_hash', this.headHash],
        ['complete', '0'],
      ];
      const putType = this.db.prepare('INSERT INTO event_types (id, name) VALUES (?, ?)');
      const putIns = this.db.prepare('INSERT INTO instruments (id, symbol) VALUES (?, ?)');
      const putAcct = this.db.prepare('INSERT INTO accounts (id, name) VALUES (?, ?)');
      this.db.transaction(() => {
        entries.forEach((kv) => putMeta.run(kv));
        for (const [k, name] of Object.entries(EVENT_TYPE_NAME)) putType.run(Number(k), name);
        symbols.forEach((s, i) => putIns.run(i, s));
        accounts.forEach((a, i) => putAcct.run(i, a));
      })();
      this.insertFull = this.db.prepare(insertSql(INSERT_ROWS));
      this.begin = this.db.prepare('BEGIN');
      this.commit = this.db.prepare('COMMIT');
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.group = new Array<unknown>(1 + INSERT_ROWS * ROW_PARAMS).fill(null);
  }

  /** Record one event; `line` is its canonical line (no newline). Events must come in increasing seq. */
  append(e: EventRecord, line: string): void {
    const max = Buffer.byteLength(line, 'utf8') + 1;
    if (this.stage === null || this.stage.length < max) {
      this.release();
      this.stage = Buffer.allocUnsafe(Math.max(STAGE_BYTES, max));
      this.stagePos = 0;
    } else if (this.stagePos + max > this.stage.length) {
      this.release();
      this.stagePos = 0;
    }
    const start = this.stagePos;
    const end = start + this.stage.write(line, start, 'utf8');
    this.stage[end] = 0x0a;
    this.stagePos = end + 1;
    this.appendBytes(e, this.stage, start, end);
  }

  /**
   * Record one event whose canonical line is b[start, end), with b[end] = "\n".
   * The bytes must stay unchanged until release() (or close()).
   */
  appendBytes(e: EventRecord, b: Uint8Array, start: number, end: number): void {
    if (this.closed) throw new InvariantError('AuditWriter.append after close');
    if (!(e.seq > this.lastSeq)) throw new InvariantError(`audit: seq ${e.seq} after ${this.lastSeq}; events must arrive in increasing seq`);
    if (b[end] !== 0x0a) throw new InvariantError('audit: the line must be followed by a newline byte');
    if (b !== this.src) {
      this.release();
      this.src = b;
    }
    this.lastSeq = e.seq;
    if (e.tsNs < this.lastTs) this.tsMonotonic = false;
    this.lastTs = e.tsNs;
    this.crc = crc32Bytes(b, start, end + 1, this.crc);
    this.lastEnd = end;
    if (this.blockHasher === null) this.blockHasher = createHash('sha256').update(this.headHash + '\n');
    if (this.blockRegion < 0) this.blockRegion = start;
    let blockHashValue: string | null = null;
    if (++this.blockRows === AUDIT_BLOCK_ROWS) blockHashValue = this.sealBlock();

    if (this.groupRows === 0) this.groupStart = start;
    const g = this.group;
    let k = 1 + this.groupRows * ROW_PARAMS;
    const t = e.type;
    const isTrade = t === EventType.Trade;
    const ins = e.instrument;
    g[k++] = e.seq;
    g[k++] = e.tsNs;
    g[k++] = t;
    g[k++] = t !== EventType.Action && ins >= 0 && ins < this.nInstruments ? ins : null;
    g[k++] = EVENT_HAS_ACCOUNT.has(t) ? this.accountId(e.account) : null;
    g[k++] = EVENT_HAS_ORDER_ID.has(t) ? e.orderId : null;
    g[k++] = isTrade ? this.accountId(e.makerAccount) : null;
    g[k++] = isTrade ? e.makerOrderId : null;
    g[k++] = start - this.groupStart + 1; // substr counts from 1
    g[k++] = end - start;
    g[k++] = this.crc;
    g[k++] = blockHashValue;
    this.rows++;
    if (++this.groupRows === INSERT_ROWS) this.insertGroup();
  }

  /** The caller is about to overwrite the buffer it passed to appendBytes: take what is needed from it now. */
  release(): void {
    if (this.src === null) return;
    if (this.blockRegion >= 0) {
      this.blockHasher!.update(this.src.subarray(this.blockRegion, this.lastEnd + 1));
      this.blockRegion = -1;
    }
    if (this.groupRows > 0) this.insertGroup();
    this.src = null;
  }

  /** Seals the final partial block, writes the rest, indexes, and closes. */
  close(): { rows: number; headHash: string } {
    if (this.closed) throw new InvariantError('AuditWriter.close twice');
    if (this.blockRows > 0) {
      const h = this.sealBlock();
      if (this.groupRows > 0) {
        this.group[this.groupRows * ROW_PARAMS] = h;
      } else {
        // The last row was written already (its buffer was released): seal it in place.
        this.beginTx();
        this.db.prepare('UPDATE events SET block_hash = ? WHERE seq = ?').run(h, this.lastSeq);
      }
    }
    this.release();
    if (this.inTx) this.commit.run();
    this.inTx = false;
    this.closed = true;
    const db = this.db;
    try {
      // Built after the bulk load: one sort per index instead of a B-tree insert per row.
      // Partial indexes: most rows have no maker, and market data has no order or account.
      // No ts index: ts never decreases with seq, so queryAudit turns a time window into
      // a seq range by binary search on the primary key. No type index either: a type
      // filter scans in seq order and stops at the limit, and the index cost ~0.3 us/row
      // at close (each index here costs 0.15-0.4 us/row; in a CPU profile of the inline
      // output path the four index builds were ~40% of the SQLite time).
      db.exec(`
        CREATE INDEX events_order ON events(order_id) WHERE order_id IS NOT NULL;
        CREATE INDEX events_maker_order ON events(maker_order_id) WHERE maker_order_id IS NOT NULL;`);
      // With one account every order event has it: the index would select nothing a
      // scan in seq order (which stops at the limit) does not, and costs a full sort.
      if (this.nAccounts > 1) {
        db.exec(`
          CREATE INDEX events_account ON events(account) WHERE account IS NOT NULL;
          CREATE INDEX events_maker_account ON events(maker_account) WHERE maker_account IS NOT NULL;`);
      }
      if (!this.tsMonotonic) db.exec('CREATE INDEX events_ts ON events(ts)');
      const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('rows', String(this.rows));
        put.run('head_hash', this.headHash);
        put.run('ts_monotonic', this.tsMonotonic ? '1' : '0');
        put.run('complete', '1');
      })();
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
    return { rows: this.rows, headHash: this.headHash };
  }

  /** Close the database without finishing (the caller deletes the file). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private accountId(a: number): number | null {
    return a >= 0 && a < this.nAccounts ? a : null;
  }

  private sealBlock(): string {
    if (this.blockRegion >= 0) this.blockHasher!.update(this.src!.subarray(this.blockRegion, this.lastEnd + 1));
    this.headHash = this.blockHasher!.digest('hex');
    this.blockHasher = null;
    this.blockRegion = -1;
    this.blockRows = 0;
    return this.headHash;
  }

  private beginTx(): void {
    if (this.inTx) return;
    this.begin.run();
    this.inTx = true;
    this.rowsInTx = 0;
  }

  private insertGroup(): void {
    const n = this.groupRows;
    const g = this.group;
    g[0] = this.src!.subarray(this.groupStart, this.lastEnd);
    this.beginTx();
    if (n === INSERT_ROWS) {
      this.insertFull.run(g);
    } else {
      let st = this.insertPartial.get(n);
      if (st === undefined) this.insertPartial.set(n, (st = this.db.prepare(insertSql(n))));
      st.run(g.slice(0, 1 + n * ROW_PARAMS));
    }
    // Cleared so a block hash cannot leak into the next group's rows.
    for (let r = 0; r < n; r++) g[(r + 1) * ROW_PARAMS] = null;
    g[0] = null;
    this.groupRows = 0;
    this.rowsInTx += n;
    if (this.rowsInTx >= COMMIT_ROWS) {
      this.commit.run();
      this.inTx = false;
    }
  }
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBadSeq?: number;
  reason?: string;
}

interface Row {
  seq: number;
  ts: number;
  type: number;
  instrument: number | null;
  account: number | null;
  order_id: number | null;
  maker_account: number | null;
  maker_order_id: number | null;
  body: string;
  crc: number;
  block_hash: string | null;
}

type Columns = Omit<Row, 'body' | 'crc' | 'block_hash'>;
/** A row's index columns as the line would name them (ids resolved through the meta name lists). */
type NamedColumns = { [K in keyof Columns]: string | number | null };

const TYPE_BY_NAME = new Map<string, EventType>(Object.entries(EVENT_TYPE_NAME).map(([k, v]) => [v, Number(k) as EventType]));

/** The index columns a row must have, derived from its canonical line, with names for ids. */
function expectedColumns(o: Record<string, unknown>): NamedColumns | string {
  const type = TYPE_BY_NAME.get(o.type as string);
  if (type === undefined) return `unknown type ${JSON.stringify(o.type)}`;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const isTrade = type === EventType.Trade;
  return {
    seq: o.seq as number,
    ts: o.ts as number,
    type: o.type as string,
    instrument: str(o.instrument),
    account: EVENT_HAS_ACCOUNT.has(type) ? str(o.account) : null,
    order_id: EVENT_HAS_ORDER_ID.has(type) ? num(o.orderId) : null,
    maker_account: isTrade ? str(o.makerAccount) : null,
    maker_order_id: isTrade ? num(o.makerOrderId) : null,
  };
}

/** The row's columns with ids turned into names; an id with no name stays a number, so it never matches. */
function namedColumns(r: Row, instruments: readonly string[], accounts: readonly string[]): NamedColumns {
  const name = (id: number | null, names: readonly string[]): string | number | null => (id === null ? null : (names[id] ?? id));
  return {
    seq: r.seq,
    ts: r.ts,
    type: EVENT_TYPE_NAME[r.type as EventType] ?? r.type,
    instrument: name(r.instrument, instruments),
    account: name(r.account, accounts),
    order_id: r.order_id,
    maker_account: name(r.maker_account, accounts),
    maker_order_id: r.maker_order_id,
  };
}

/**
 * Recompute the chain. Detects an edited body or index column, a deleted,
 * inserted or reordered row, an edited crc or block hash, a truncated tail
 * (against the meta row count and head hash), and edited meta (via genesis).
 * firstBadSeq is the first row that fails its CRC or column checks; when only a
 * block's SHA-256 fails (a forger recomputed the CRCs, or edited the block hash)
 * it is the block's first row, the earliest row that may have been altered.
 */
export function verifyAudit(path: string): VerifyResult {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    let meta: Map<string, string>;
    try {
      meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    } catch {
      return { ok: false, rows: 0, reason: 'not an exsim audit log (no meta table)' };
    }
    if (meta.get('format') !== AUDIT_FORMAT) return { ok: false, rows: 0, reason: 'not an exsim audit log (meta format)' };
    if (meta.get('format_version') !== String(AUDIT_FORMAT_VERSION)) {
      return { ok: false, rows: 0, reason: `audit format version ${meta.get('format_version')} is not ${AUDIT_FORMAT_VERSION}` };
    }
    if (meta.get('complete') !== '1') return { ok: false, rows: 0, reason: 'audit log is incomplete (the run did not close it)' };
    const blockRows = Number(meta.get('block_rows'));
    if (blockRows !== AUDIT_BLOCK_ROWS) return { ok: false, rows: 0, reason: `meta block_rows ${meta.get('block_rows')} is not ${AUDIT_BLOCK_ROWS}` };
    let instruments: string[];
    let accounts: string[];
    try {
      instruments = JSON.parse(meta.get('instruments') ?? 'null') as string[];
      accounts = JSON.parse(meta.get('accounts') ?? 'null') as string[];
    } catch {
      return { ok: false, rows: 0, reason: 'meta instruments/accounts are not JSON' };
    }
    let head = genesisHash({ scenario: meta.get('scenario') ?? '', seed: meta.get('seed') ?? '', instruments, accounts });
    if (head !== meta.get('genesis_hash')) return { ok: false, rows: 0, reason: 'meta (scenario, seed, names) does not match the genesis hash' };
    // The lookup tables are outside the chain; they must say what the (chained) meta says.
    const table = (sql: string): string => JSON.stringify(db.prepare(sql).raw().all());
    if (table('SELECT id, symbol FROM instruments ORDER BY id') !== JSON.stringify(instruments.map((n, i) => [i, n]))) return { ok: false, rows: 0, reason: 'instruments table does not match meta instruments' };
    if (table('SELECT id, name FROM accounts ORDER BY id') !== JSON.stringify(accounts.map((n, i) => [i, n]))) return { ok: false, rows: 0, reason: 'accounts table does not match meta accounts' };
    if (table('SELECT id, name FROM event_types ORDER BY id') !== JSON.stringify(Object.entries(EVENT_TYPE_NAME).map(([k, n]) => [Number(k), n]))) return { ok: false, rows: 0, reason: 'event_types table was edited' };

    let crc = 0;
    let rows = 0;
    let blockFirstSeq = 0;
    let lastSeq = 0;
    let block: string[] = [];
    const bad = (seq: number, reason: string): VerifyResult => ({ ok: false, rows, firstBadSeq: seq, reason });
    // better-sqlite3 allows no other statement while an iterator is open.
    const maxSeq = (db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number | null }).m;
    const it = db.prepare(`SELECT ${COLUMNS.join(',')} FROM events ORDER BY seq`).iterate() as IterableIterator<Row>;
    for (const r of it) {
      rows++;
      lastSeq = r.seq;
      if (block.length === 0) blockFirstSeq = r.seq;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(r.body) as Record<string, unknown>;
      } catch {
        return bad(r.seq, 'body is not JSON');
      }
      if (o.seq !== r.seq) return bad(r.seq, `row seq ${r.seq} holds the line of seq ${String(o.seq)} (rows reordered or renumbered)`);
      crc = crc32Line(r.body, crc);
      if (crc !== r.crc) return bad(r.seq, 'CRC chain broken: this row was edited, inserted or moved, or a row before it was deleted');
      const want = expectedColumns(o);
      if (typeof want === 'string') return bad(r.seq, want);
      const got = namedColumns(r, instruments, accounts);
      for (const k of Object.keys(want) as Array<keyof typeof want>) {
        if (want[k] !== got[k]) return bad(r.seq, `column ${k} is ${JSON.stringify(r[k])} (${JSON.stringify(got[k])}) but the line says ${JSON.stringify(want[k])}`);
      }
      block.push(r.body);
      const sealsBlock = block.length === blockRows;
      if (sealsBlock) {
        head = blockHash(head, block);
        block = [];
        if (r.block_hash !== head) return bad(blockFirstSeq, `block of seq ${blockFirstSeq}..${r.seq}: SHA-256 mismatch (a row in it was altered with its CRC recomputed, or the block hash was edited)`);
      } else if (r.block_hash !== null) {
        // Only the last row may seal a partial block; checked after the loop.
        if (r.seq !== maxSeq) return bad(r.seq, 'unexpected block hash here (rows inserted or deleted before it)');
        head = blockHash(head, block);
        block = [];
        if (r.block_hash !== head) return bad(blockFirstSeq, `block of seq ${blockFirstSeq}..${r.seq}: SHA-256 mismatch (a row in it was altered with its CRC recomputed, or the block hash was edited)`);
      }
    }
    if (block.length > 0) return bad(blockFirstSeq, `final block of seq ${blockFirstSeq}..${lastSeq} has no block hash (rows deleted at the end?)`);
    if (String(rows) !== meta.get('rows')) return { ok: false, rows, firstBadSeq: lastSeq + 1, reason: `meta says ${meta.get('rows')} rows, the table has ${rows} (rows deleted or appended at the end)` };
    if (head !== meta.get('head_hash')) return { ok: false, rows, firstBadSeq: lastSeq + 1, reason: 'head hash does not match meta head_hash (tail truncated at a block boundary, or meta edited)' };
    return { ok: true, rows };
  } finally {
    db.close();
  }
}
