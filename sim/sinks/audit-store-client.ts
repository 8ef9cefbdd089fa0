import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InvariantError } from '../../engine/assert.js';
import { workerScript } from '../worker-url.js';
import { AUDIT_BLOCK_ROWS, BlockColumns, ROW_BYTES } from './audit-block.js';
import { AuditStore, type AuditMeta, type AuditResult, type BlockScalars } from './audit-store.js';
import { LINE_BYTES_MAX } from './event-format.js';

/** A block's scalars, as the writer publishes them, and the length of its lines. */
export interface BlockHeader extends BlockScalars {
  linesLen: number;
}

/**
 * Where the writer fills blocks and hands them on: open() gives the buffers
 * for the next block, publish() passes it to the store. Two kinds: the store
 * on this thread, or on a thread of its own through shared slots.
 */
export interface BlockSink {
  open(): { cols: BlockColumns; lines: Buffer };
  publish(h: BlockHeader): void;
  close(tsMonotonic: boolean): AuditResult;
  /** Close without finishing (the caller deletes the file). */
  abandon(): void;
}

/** Bytes of a block's lines at most: every line at the formatter's maximum, plus its newline. */
export const BLOCK_LINES_MAX = AUDIT_BLOCK_ROWS * (LINE_BYTES_MAX + 1);

/** The store on the caller's thread: one pair of buffers, reused. */
export class InlineBlockSink implements BlockSink {
  private readonly store: AuditStore;
  private readonly cols = new BlockColumns();
  private readonly lines = Buffer.allocUnsafe(BLOCK_LINES_MAX);

  constructor(path: string, meta: AuditMeta) {
    this.store = new AuditStore(path, meta);
  }
  open(): { cols: BlockColumns; lines: Buffer } {
    return { cols: this.cols, lines: this.lines };
  }
  publish(h: BlockHeader): void {
    this.store.put({ ...h, cols: this.cols.buf, lines: this.lines.subarray(0, h.linesLen) });
  }
  close(tsMonotonic: boolean): AuditResult {
    return this.store.close(tsMonotonic);
  }
  abandon(): void {
    this.store.abandon();
  }
}

/** Control words shared with the audit worker. */
export const ACTL_HEAD = 0; // blocks published
export const ACTL_TAIL = 1; // blocks stored
export const ACTL_STARTED = 2;
export const ACTL_CLOSE = 3; // 1: close, 2: abandon
export const ACTL_TS_MONOTONIC = 4;
export const ACTL_DONE = 5;
export const ACTL_WORDS = 6;
/** Slots in flight: enough to ride out a commit on the store's side. */
export const AUDIT_SLOTS = 8;
/** Float64 header words per slot: the BlockHeader fields. */
export const SLOT_HEADER_WORDS = 8;
const SLOT_COLS_AT = SLOT_HEADER_WORDS * 8;
const SLOT_LINES_AT = SLOT_COLS_AT + ROW_BYTES * AUDIT_BLOCK_ROWS;
export const SLOT_BYTES = (SLOT_LINES_AT + BLOCK_LINES_MAX + 7) & ~7;

/** Views on slot k of the shared slot buffer. */
export function slotViews(sab: SharedArrayBuffer, k: number): { header: Float64Array; cols: BlockColumns; lines: Buffer } {
  const at = k * SLOT_BYTES;
  return {
    header: new Float64Array(sab, at, SLOT_HEADER_WORDS),
    cols: new BlockColumns(AUDIT_BLOCK_ROWS, Buffer.from(sab, at + SLOT_COLS_AT, ROW_BYTES * AUDIT_BLOCK_ROWS)),
    lines: Buffer.from(sab, at + SLOT_LINES_AT, BLOCK_LINES_MAX),
  };
}

export interface AuditWorkerData {
  path: string;
  meta: AuditMeta;
  ctl: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  port: MessagePort;
}

export type AuditWorkerReply = { type: 'done'; result: AuditResult } | { type: 'abandoned' } | { type: 'error'; message: string };

/** How long to wait for the worker to start before giving up. */
const START_WAIT_MS = 30_000;

/**
 * The store on a thread of its own. The writer fills blocks in place in a
 * ring of AUDIT_SLOTS shared slots (no copy, no message, no allocation per
 * block: posting and allocating a 300 KB block measured ~0.1 ms each, 0.2-0.6 s
 * a day), and the worker stores them in order. Waits are Atomics on shared
 * words; close() takes the result synchronously off a port, because its
 * caller, the output thread, does not return to its event loop during a run.
 * A failure in the worker (disk full, ...) surfaces at the next open() or at close().
 */
export class WorkerBlockSink implements BlockSink {
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly slots: Array<ReturnType<typeof slotViews>>;
  private readonly port: MessagePort;
  private head = 0;
  private failure: string | null = null;
  private finished = false;

  constructor(path: string, meta: AuditMeta) {
    const ctl = new SharedArrayBuffer(ACTL_WORDS * 4);
    const slots = new SharedArrayBuffer(AUDIT_SLOTS * SLOT_BYTES);
    this.ctl = new Int32Array(ctl);
    this.slots = Array.from({ length: AUDIT_SLOTS }, (_, k) => slotViews(slots, k));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: AuditWorkerData = { path, meta: { ...meta, instruments: [...meta.instruments], accountNames: [...meta.accountNames] }, ctl, slots, port: port2 };
    const { url, execArgv } = workerScript(import.meta.url, 'audit-worker');
    this.worker = new Worker(url, { workerData: data, transferList: [port2], execArgv });
    // The output thread does not run its event loop during a run: the worker must not hold the process open.
    this.worker.unref();
  }

  open(): { cols: BlockColumns; lines: Buffer } {
    // Wait for the slot to be free: the worker has stored the block AUDIT_SLOTS back.
    for (let waited = 0; ; waited += 100) {
      this.check();
      const tail = Atomics.load(this.ctl, ACTL_TAIL);
      if (this.head - tail < AUDIT_SLOTS) break;
      if (waited >= START_WAIT_MS && Atomics.load(this.ctl, ACTL_STARTED) === 0) this.fail(`audit worker did not start within ${START_WAIT_MS / 1000} s`);
      Atomics.wait(this.ctl, ACTL_TAIL, tail, 100);
    }
    const s = this.slots[this.head % AUDIT_SLOTS]!;
    return { cols: s.cols, lines: s.lines };
  }

  publish(h: BlockHeader): void {
    const header = this.slots[this.head % AUDIT_SLOTS]!.header;
    header[0] = h.id;
    header[1] = h.firstSeq;
    header[2] = h.lastSeq;
    header[3] = h.minTs;
    header[4] = h.maxTs;
    header[5] = h.rows;
    header[6] = h.linesLen;
    Atomics.store(this.ctl, ACTL_HEAD, ++this.head);
    Atomics.notify(this.ctl, ACTL_HEAD);
  }

  close(tsMonotonic: boolean): AuditResult {
    this.check();
    Atomics.store(this.ctl, ACTL_TS_MONOTONIC, tsMonotonic ? 1 : 0);
    Atomics.store(this.ctl, ACTL_CLOSE, 1);
    Atomics.notify(this.ctl, ACTL_HEAD);
    const reply = this.awaitReply(Infinity);
    void this.worker.terminate();
    if (reply.type === 'done') return reply.result;
    throw new Error(`audit log: ${reply.type === 'error' ? reply.message : 'abandoned'}`);
  }

  abandon(): void {
    if (!this.finished) {
      Atomics.store(this.ctl, ACTL_CLOSE, 2);
      Atomics.notify(this.ctl, ACTL_HEAD);
      try {
        this.awaitReply(10_000);
      } catch {
        // it is being thrown away; the caller deletes the files either way
      }
    }
    void this.worker.terminate();
  }

  /** The worker's one reply: waits for the done word, then takes the message off the port. */
  private awaitReply(maxMs: number): AuditWorkerReply {
    for (let waited = 0; Atomics.load(this.ctl, ACTL_DONE) === 0; waited += 100) {
      if (waited >= maxMs) throw new Error('audit worker did not answer');
      if (waited >= START_WAIT_MS && Atomics.load(this.ctl, ACTL_STARTED) === 0) throw new Error(`audit worker did not start within ${START_WAIT_MS / 1000} s`);
      Atomics.wait(this.ctl, ACTL_DONE, 0, 100);
    }
    this.finished = true;
    const m = receiveMessageOnPort(this.port);
    if (m === undefined) throw new InvariantError('audit worker finished without a reply');
    return m.message as AuditWorkerReply;
  }

  /** Throws the worker's failure, if it has stopped early. */
  private check(): void {
    if (this.failure !== null) throw new Error(`audit log: ${this.failure}`);
    if (Atomics.load(this.ctl, ACTL_DONE) === 0) return;
    const reply = this.awaitReply(0);
    this.fail(reply.type === 'error' ? reply.message : 'audit worker stopped');
  }

  private fail(why: string): never {
    this.failure = why;
    throw new Error(`audit log: ${why}`);
  }
}
