import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { InvariantError } from '../../engine/assert.js';
import { EVENT_TYPE_NAME, EventType, type EventRecord } from '../../engine/event.js';
import { AUDIT_BLOCK_ROWS, BlockColumns, BlockReader, BlockShapeError, checkSeqOffset, type BlockRecord } from './audit-block.js';
import { AUDIT_FORMAT, AUDIT_FORMAT_VERSION, blockWords, genesisHash, headHashOf, rowHash } from './audit-chain.js';
import type { AuditMeta, AuditResult } from './audit-store.js';
import { InlineBlockSink, WorkerBlockSink, type BlockSink } from './audit-store-client.js';
import { EVENT_HAS_ACCOUNT, EVENT_HAS_ORDER_ID, LINE_BYTES_MAX } from './event-format.js';

export { AUDIT_BLOCK_ROWS } from './audit-block.js';
export { AUDIT_FORMAT, AUDIT_FORMAT_VERSION, blockRowHashes, genesisHash, headHashOf, rowHash, sha256Hex } from './audit-chain.js';
export type { AuditMeta, AuditResult } from './audit-store.js';

/**
 * The audit log: every canonical line in SQLite, in blocks of AUDIT_BLOCK_ROWS
 * events with per-event index columns (audit-block.ts), and a tamper-evident
 * chain over the lines.
 *
 * Format v3 (now). One SQLite row per block of AUDIT_BLOCK_ROWS events
 * (audit-block.ts): the block's lines as one blob, and per event the index
 * columns as little-endian blobs. The v2 history below is why: per-row inserts
 * cost ~1.6 us per event whatever was in the row, 3 s of CPU on the 1M-command
 * day. Per event the writer now only sets ten numbers and copies the line; the
 * chain and SQLite run on an audit thread (audit-store.ts, -store-client.ts,
 * -worker.ts). Profile of the inline path before the split (load ~4.5, so
 * inflated): CRC + columns 0.53 s, SHA-256 0.26 s, SQLite of ~445 MB of blobs
 * 0.45 s, against ~3.4 s of audit CPU in v2.
 *
 * Chain. Two layers, both computed by the store from the bytes it stores:
 * - per row, `row_hash`: a 32-bit hash of the line and its "\n", seeded with
 *   the previous row's (rowHash in audit-chain.ts: little-endian words on the
 *   block's 4-byte grid, four lanes). It names the first edited, deleted,
 *   inserted or reordered row when the tamperer did not recompute it. It was a
 *   CRC-32 chain at first: ~0.16 us per 190-byte line in JS (slicing-by-8;
 *   slicing-by-16 no faster; zlib.crc32 on a view per line 0.33 us, the call and
 *   the view cost more than the bytes), 0.55-0.7 s of a 3.3 M-event day; the
 *   word hash is ~0.07 us (same lines, node 20.20).
 * - per block, `block_hash`: the SHA-256 of all lines so far, a copy of the
 *   running hash digested at the block's end. The row hash is no secret;
 *   SHA-256 cannot be forged, so a forger who recomputes the row hashes is still
 *   caught, to the block. The
 *   running hash is also events.ndjson's hash (the output writer does not hash
 *   the file again): one pass over the bytes instead of two (v2 chained
 *   SHA-256(prev || block), a second pass, ~0.26 s a day). `head_hash` covers
 *   the meta (genesis hash over scenario, seed, names) and lines_sha256; it is
 *   in the meta table and in the run's output result, for anchoring outside.
 *
 * Durability: journal_mode=OFF and synchronous=OFF during the run. Measured on
 * the block layout (1,792 blocks of 295 KB, 16 per transaction): OFF 0.29-0.33 s,
 * WAL 0.90 s with 16 KiB pages (0.57 s with 64 KiB), because WAL writes every
 * page twice. The log is a simulation artefact, reproducible from the scenario;
 * a crash mid-run leaves a partial file that the output sink deletes, not a
 * ledger to recover. At close the journal goes to DELETE so the result is one
 * self-contained file that later readers open normally. 16 KiB pages (4 KiB:
 * 0.56 s; 32 KiB or more transactions per commit: slower).
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

/** Staging bytes for append(e, line: string). */
const STAGE_BYTES = 1 << 18;

/** Per event type: 1 when the type carries an account / order id column (lookups without a Set on the hot path). */
const HAS_ACCOUNT = new Uint8Array(256);
const HAS_ORDER_ID = new Uint8Array(256);
for (const t of EVENT_HAS_ACCOUNT) HAS_ACCOUNT[t] = 1;
for (const t of EVENT_HAS_ORDER_ID) HAS_ORDER_ID[t] = 1;

export interface AuditWriterOptions {
  /**
   * 'worker': row hashes, SHA-256 and SQLite on a thread of their own (WorkerBlockSink);
   * 'inline' (default): on the caller's thread. The file is the same either way.
   */
  thread?: 'worker' | 'inline';
}

/**
 * Writes the audit log. This side fills blocks: per event it records the
 * index columns and where the line ends, and copies the lines out of the
 * caller's buffer into the sink's block buffers (at release() or when the
 * block is full); full blocks go on to the store, which computes the chain
 * and inserts them. The fast path is
 * appendBytes: the line's bytes are read in place, so the caller must call
 * release() before it overwrites them.
 */
export class AuditWriter {
  private readonly sink: BlockSink;
  private readonly nInstruments: number;
  private readonly nAccounts: number;
  /** The buffer the open block's uncopied bytes are in, or null. */
  private src: Uint8Array | null = null;
  /** Start in `src` of the open block's bytes not yet copied into `lines`, or -1. */
  private region = -1;
  /** End in `src` of the last appended line (its "\n" is at lastEnd). */
  private lastEnd = 0;
  /** The open block's lines, copied out of the caller's buffers, and its columns: the sink's buffers. */
  private lines: Buffer;
  private linesLen = 0;
  private cols: BlockColumns;
  private blockRows = 0;
  private blockId = 0;
  private firstSeq = 0;
  private minTs = 0;
  private maxTs = 0;
  private rows = 0;
  private lastSeq = -Infinity;
  private lastTs = -Infinity;
  /** ts non-decreasing in seq order (the virtual clock's promise); recorded in meta for readers. */
  private tsMonotonic = true;
  private stage: Buffer | null = null;
  private stagePos = 0;
  private closed = false;
  private closing = false;

  constructor(path: string, meta: AuditMeta, opts: AuditWriterOptions = {}) {
    this.nInstruments = meta.instruments.length;
    this.nAccounts = meta.accountNames.length;
    this.sink = opts.thread === 'worker' ? new WorkerBlockSink(path, meta) : new InlineBlockSink(path, meta);
    ({ lines: this.lines, cols: this.cols } = this.sink.open());
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
    // The sink's block buffer holds AUDIT_BLOCK_ROWS lines of this size at most.
    if (end - start > LINE_BYTES_MAX) throw new InvariantError(`audit: a line of ${end - start} bytes; at most ${LINE_BYTES_MAX}`);
    if (b !== this.src) {
      this.release();
      this.src = b;
    }
    const ts = e.tsNs;
    this.lastSeq = e.seq;
    if (ts < this.lastTs) this.tsMonotonic = false;
    this.lastTs = ts;
    if (this.region < 0) this.region = start;
    this.lastEnd = end;

    const i = this.blockRows;
    if (i === 0) {
      this.firstSeq = e.seq;
      this.minTs = this.maxTs = ts;
    } else if (ts < this.minTs) this.minTs = ts;
    else if (ts > this.maxTs) this.maxTs = ts;
    const seqOffset = e.seq - this.firstSeq;
    if (seqOffset > 0x7fffffff) checkSeqOffset(seqOffset);
    const t = e.type;
    const isTrade = t === EventType.Trade;
    const ins = e.instrument;
    this.cols.set(
      i,
      seqOffset,
      ts,
      t,
      t !== EventType.Action && ins >= 0 && ins < this.nInstruments ? ins : -1,
      HAS_ACCOUNT[t] === 1 ? this.accountId(e.account) : -1,
      HAS_ORDER_ID[t] === 1 ? e.orderId : -1,
      isTrade ? this.accountId(e.makerAccount) : -1,
      isTrade ? e.makerOrderId : -1,
      this.linesLen + (end + 1 - this.region),
      0, // the store computes the row-hash chain
    );
    this.rows++;
    if (++this.blockRows === AUDIT_BLOCK_ROWS) this.sealBlock();
  }

  /** The caller is about to overwrite the buffer it passed to appendBytes: copy what the open block needs now. */
  release(): void {
    if (this.src === null) return;
    this.copyRegion();
    this.src = null;
  }

  /**
   * Seals the final partial block, writes the rest, and closes. linesSha256 is
   * the SHA-256 of all lines (= of events.ndjson when the caller wrote the same
   * bytes there), so the caller need not hash them a second time.
   */
  close(): AuditResult {
    if (this.closed) throw new InvariantError('AuditWriter.close twice');
    this.closing = true;
    if (this.blockRows > 0) this.sealBlock();
    this.src = null;
    this.closed = true;
    const r = this.sink.close(this.tsMonotonic);
    if (r.rows !== this.rows) throw new InvariantError(`audit: the store wrote ${r.rows} rows of ${this.rows}`);
    return r;
  }

  /** Close the database without finishing (the caller deletes the file). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.abandon();
  }

  private accountId(a: number): number {
    return a >= 0 && a < this.nAccounts ? a : -1;
  }

  /** Copies the open block's bytes still in `src` into `lines`. */
  private copyRegion(): void {
    if (this.region < 0) return;
    const n = this.lastEnd + 1 - this.region;
    const src = this.src!;
    // Into shared memory, Buffer.copy (a memmove) is ~2x TypedArray.set (a relaxed atomic copy).
    if (Buffer.isBuffer(src)) src.copy(this.lines, this.linesLen, this.region, this.lastEnd + 1);
    else this.lines.set(src.subarray(this.region, this.lastEnd + 1), this.linesLen);
    this.linesLen += n;
    this.region = -1;
  }

  private sealBlock(): void {
    this.copyRegion();
    this.sink.publish({
      id: this.blockId,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      minTs: this.minTs,
      maxTs: this.maxTs,
      rows: this.blockRows,
      linesLen: this.linesLen,
    });
    this.blockId++;
    this.blockRows = 0;
    this.linesLen = 0;
    // At close there is no next block: do not wait for a slot.
    if (!this.closing) ({ lines: this.lines, cols: this.cols } = this.sink.open());
  }
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  /** The first row that fails, when one can be named (not for meta or file-level problems). */
  firstBadSeq?: number;
  reason?: string;
  /** The file is not an exsim audit log of this format at all (bad input, not tampering). */
  notAudit?: boolean;
}

/** A row's index columns as the line would name them (ids resolved through the meta name lists). */
interface NamedColumns {
  type: string | number;
  instrument: string | number | null;
  account: string | number | null;
  order_id: number | null;
  maker_account: string | number | null;
  maker_order_id: number | null;
}

const TYPE_BY_NAME = new Map<string, EventType>(Object.entries(EVENT_TYPE_NAME).map(([k, v]) => [v, Number(k) as EventType]));

/** The index columns a row must have, derived from its canonical line. */
function expectedColumns(o: Record<string, unknown>): NamedColumns | string {
  const type = TYPE_BY_NAME.get(o.type as string);
  if (type === undefined) return `unknown type ${JSON.stringify(o.type)}`;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const isTrade = type === EventType.Trade;
  return {
    type: o.type as string,
    instrument: str(o.instrument),
    account: EVENT_HAS_ACCOUNT.has(type) ? str(o.account) : null,
    order_id: EVENT_HAS_ORDER_ID.has(type) ? num(o.orderId) : null,
    maker_account: isTrade ? str(o.makerAccount) : null,
    maker_order_id: isTrade ? num(o.makerOrderId) : null,
  };
}

/** Row i's stored columns with ids turned into names; an id with no name stays a number, so it never matches. */
function storedColumns(r: BlockReader, i: number, instruments: readonly string[], accounts: readonly string[]): NamedColumns {
  const name = (id: number, names: readonly string[]): string | number | null => (id < 0 ? null : (names[id] ?? id));
  const num = (x: number): number | null => (x < 0 ? null : x);
  const t = r.type(i);
  return {
    type: EVENT_TYPE_NAME[t as EventType] ?? t,
    instrument: name(r.instrument(i), instruments),
    account: name(r.account(i), accounts),
    order_id: num(r.orderId(i)),
    maker_account: name(r.makerAccount(i), accounts),
    maker_order_id: num(r.makerOrderId(i)),
  };
}

/**
 * Recompute the chain. Detects an edited line or index column, a deleted,
 * inserted or reordered row, an edited row hash or block hash, a truncated tail
 * (against the meta row count and head hash), and edited meta (via genesis).
 * firstBadSeq is the first row that fails its row-hash or column checks; when only a
 * block's SHA-256 or shape fails (a forger recomputed the row hashes, or edited the
 * block hash) it is the block's first row, the earliest row that may have been altered.
 */
export function verifyAudit(path: string): VerifyResult {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    let meta: Map<string, string>;
    try {
      meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    } catch {
      return { ok: false, rows: 0, notAudit: true, reason: 'not an exsim audit log (no meta table, or not an SQLite database)' };
    }
    if (meta.get('format') !== AUDIT_FORMAT) return { ok: false, rows: 0, notAudit: true, reason: 'not an exsim audit log (meta format)' };
    if (meta.get('format_version') !== String(AUDIT_FORMAT_VERSION)) {
      return { ok: false, rows: 0, notAudit: true, reason: `audit format version ${meta.get('format_version')}; this exsim reads version ${AUDIT_FORMAT_VERSION} (rerun the scenario to rebuild the log)` };
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
    const genesis = genesisHash({ scenario: meta.get('scenario') ?? '', seed: meta.get('seed') ?? '', instruments, accounts });
    const prefix = createHash('sha256');
    if (genesis !== meta.get('genesis_hash')) return { ok: false, rows: 0, reason: 'meta (scenario, seed, names) does not match the genesis hash' };
    // The lookup tables are outside the chain; they must say what the (chained) meta says.
    const table = (sql: string): string => JSON.stringify(db.prepare(sql).raw().all());
    if (table('SELECT id, symbol FROM instruments ORDER BY id') !== JSON.stringify(instruments.map((n, i) => [i, n]))) return { ok: false, rows: 0, reason: 'instruments table does not match meta instruments' };
    if (table('SELECT id, name FROM accounts ORDER BY id') !== JSON.stringify(accounts.map((n, i) => [i, n]))) return { ok: false, rows: 0, reason: 'accounts table does not match meta accounts' };
    if (table('SELECT id, name FROM event_types ORDER BY id') !== JSON.stringify(Object.entries(EVENT_TYPE_NAME).map(([k, n]) => [Number(k), n]))) return { ok: false, rows: 0, reason: 'event_types table was edited' };

    let chain = 0;
    let rows = 0;
    let lastSeq = 0;
    let expectId = 0;
    const nBlocks = (db.prepare('SELECT COUNT(*) FROM blocks').pluck().get() as number) ?? 0;
    // One block in memory at a time: blocks are read by id, not through one open iterator.
    const get = db.prepare('SELECT * FROM blocks WHERE id >= ? ORDER BY id LIMIT 1');
    for (let k = 0; k < nBlocks; k++) {
      const b = get.get(expectId) as BlockRecord | undefined;
      if (b === undefined) break;
      const firstRowSeq = b.first_seq;
      const bad = (seq: number, reason: string): VerifyResult => ({ ok: false, rows, firstBadSeq: seq, reason });
      if (b.id !== expectId) return bad(firstRowSeq, `block ${expectId} is missing (the next block is ${b.id})`);
      expectId++;
      let r: BlockReader;
      try {
        r = new BlockReader(b);
      } catch (err) {
        if (err instanceof BlockShapeError) return bad(firstRowSeq, `block ${b.id}: ${err.message}`);
        throw err;
      }
      if (!Buffer.isBuffer(b.lines)) return bad(firstRowSeq, `block ${b.id}: lines is not a blob`);
      const { bytes, words } = blockWords(b.lines);
      let minTs = Infinity;
      let maxTs = -Infinity;
      let prevEnd = 0;
      for (let i = 0; i < r.rows; i++) {
        const seq = b.first_seq + r.seqOffset(i);
        rows++;
        const end = r.end(i);
        if (!(end > prevEnd && end <= b.lines.length) || b.lines[end - 1] !== 0x0a) return bad(seq, `block ${b.id} row ${i}: line end ${end} is not just past a newline in the block's lines`);
        if (!(seq > lastSeq)) return bad(seq, `seq ${seq} after ${lastSeq} (rows reordered or renumbered)`);
        lastSeq = seq;
        const body = b.lines.toString('utf8', prevEnd, end - 1);
        chain = rowHash(words, bytes, prevEnd, end, chain);
        prevEnd = end;
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(body) as Record<string, unknown>;
        } catch {
          return bad(seq, 'line is not JSON');
        }
        if (o.seq !== seq) return bad(seq, `row seq ${seq} holds the line of seq ${String(o.seq)} (rows reordered or renumbered)`);
        if (chain !== r.hash(i)) return bad(seq, 'row-hash chain broken: this row was edited, inserted or moved, or a row before it was deleted');
        const ts = r.ts(i);
        if (o.ts !== ts) return bad(seq, `column ts is ${ts} but the line says ${JSON.stringify(o.ts)}`);
        if (ts < minTs) minTs = ts;
        if (ts > maxTs) maxTs = ts;
        const want = expectedColumns(o);
        if (typeof want === 'string') return bad(seq, want);
        const got = storedColumns(r, i, instruments, accounts);
        for (const key of Object.keys(want) as Array<keyof NamedColumns>) {
          if (want[key] !== got[key]) return bad(seq, `column ${key} is ${JSON.stringify(got[key])} but the line says ${JSON.stringify(want[key])}`);
        }
      }
      if (prevEnd !== b.lines.length) return bad(firstRowSeq, `block ${b.id}: ${b.lines.length - prevEnd} bytes of lines after the last row`);
      if (lastSeq !== b.last_seq || minTs !== b.min_ts || maxTs !== b.max_ts) return bad(firstRowSeq, `block ${b.id}: last_seq, min_ts or max_ts does not match its rows`);
      // Every block but the last is full: a short one lost rows (or its neighbour gained them).
      if (r.rows !== blockRows && k !== nBlocks - 1) return bad(firstRowSeq, `block ${b.id} has ${r.rows} rows, not ${blockRows}, and is not the last (rows inserted or deleted)`);
      if (r.rows === 0) return bad(firstRowSeq, `block ${b.id} is empty`);
      const truncated = k === nBlocks - 1 && rows < Number(meta.get('rows'));
      if (truncated) return { ok: false, rows, firstBadSeq: lastSeq + 1, reason: `meta says ${meta.get('rows')} rows, the blocks hold ${rows}: rows deleted at the end` };
      if (b.block_hash !== prefix.update(b.lines).copy().digest('hex')) return bad(firstRowSeq, `block of seq ${firstRowSeq}..${b.last_seq}: SHA-256 mismatch (a row in it was altered with its row hashes recomputed, or the block hash was edited)`);
    }
    if (String(rows) !== meta.get('rows')) return { ok: false, rows, firstBadSeq: lastSeq + 1, reason: `meta says ${meta.get('rows')} rows, the blocks hold ${rows} (rows deleted or appended at the end)` };
    const linesSha256 = prefix.digest('hex');
    if (linesSha256 !== meta.get('lines_sha256') || headHashOf(genesis, linesSha256) !== meta.get('head_hash')) return { ok: false, rows, firstBadSeq: lastSeq + 1, reason: 'lines_sha256 or head_hash in meta does not match the blocks (tail truncated at a block boundary, or meta edited)' };
    return { ok: true, rows };
  } finally {
    db.close();
  }
}
