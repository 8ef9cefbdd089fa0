import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { assert } from '../../engine/assert.js';
import { EVENT_SLOTS, encodeEvent, type EventRecord, type EventSink } from '../../engine/event.js';
import type { Instrument } from '../../engine/instrument.js';
import { Ring, RingAbandonedError } from '../ring.js';
import { workerScript } from '../worker-url.js';
import { AuditWriter } from './audit.js';
import { CanonicalLineWriter, LINE_BYTES_MAX } from './event-format.js';

export interface OutputOptions {
  outDir: string;
  instruments: readonly Instrument[];
  accountNames: readonly string[];
  /** Minor-unit digits of each account's currency, for money in account events (default 2). */
  moneyExponents?: readonly number[];
  scenario: string;
  seed: number | string;
  audit: boolean;
  /** 'worker': formatting, hashing and writing on a worker thread fed by a ring; 'inline': all on the caller's thread. */
  thread: 'worker' | 'inline';
  /**
   * Where the audit log's chain and SQLite writes run: 'worker', a thread of
   * their own; 'inline', the output thread. Default: 'worker' when `thread` is.
   */
  auditThread?: 'worker' | 'inline';
  /** The audit log's journal during the run (see RunOptions.auditJournal). */
  auditJournal?: 'off' | 'wal';
}

export interface OutputResult {
  events: number;
  /** SHA-256 (hex) of events.ndjson. */
  eventsSha256: string;
  auditRows: number;
  /** Last block hash of the audit chain, or null without audit. */
  auditHeadHash: string | null;
  writerBusyMs?: number;
}

export interface OutputSink extends EventSink {
  emit(e: EventRecord): void;
  /** Finish writing and move the files to their final names. Rejects (never hangs) if writing failed. */
  close(): Promise<OutputResult>;
  /** Stop and delete the partial files. */
  abort(): Promise<void>;
}

export const EVENTS_FILE = 'events.ndjson';
export const AUDIT_FILE = 'audit.sqlite';
const partialName = (f: string): string => `.${f}.partial`;
const SQLITE_SIDE_FILES = ['', '-wal', '-shm', '-journal'];

/** Bytes per write(2) of events.ndjson. */
const CHUNK_BYTES = 1 << 20;
/** Ring records (EVENT_SLOTS float64 each): 16 Ki events = 3.5 MB, enough to ride out an SQLite commit. */
const RING_RECORDS = 1 << 14;
/** Events per ring commit: one atomic store and (maybe) notify per batch, not per event. */
const COMMIT_EVERY = 256;
/** Records the worker takes per ring advance, so the producer gets space back steadily. */
export const DRAIN_BATCH = 1024;
/** How long a producer facing a full ring waits for the worker to start before giving up. */
const WORKER_START_WAIT_MS = 30_000;

/** Control words shared with the output worker. */
export const CTL_STARTED = 0;
export const CTL_ABORT = 1;
export const CTL_WORDS = 2;

/**
 * The writing itself, used on whichever thread does it: canonical lines into
 * 1 MiB chunks, SHA-256 of the file as it is written, audit rows, partial files
 * renamed into place only by finish().
 */
export class OutputWriter {
  private readonly lines: CanonicalLineWriter;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES + LINE_BYTES_MAX + 1);
  private pos = 0;
  private readonly hash: Hash = createHash('sha256');
  private fd: number;
  private readonly audit: AuditWriter | null;
  private events = 0;
  private done = false;

  constructor(private readonly opts: Omit<OutputOptions, 'thread'>) {
    this.lines = new CanonicalLineWriter(opts.instruments, opts.accountNames, opts.moneyExponents);
    removePartials(opts.outDir);
    this.fd = openSync(join(opts.outDir, partialName(EVENTS_FILE)), 'w');
    try {
      this.audit = opts.audit
        ? new AuditWriter(
            join(opts.outDir, partialName(AUDIT_FILE)),
            { scenario: opts.scenario, seed: opts.seed, instruments: opts.instruments, accountNames: opts.accountNames, journal: opts.auditJournal ?? 'off' },
            { thread: opts.auditThread ?? 'inline' },
          )
        : null;
    } catch (err) {
      closeSync(this.fd);
      removePartials(opts.outDir);
      throw err;
    }
  }

  push(e: EventRecord): void {
    const start = this.pos;
    const end = this.lines.write(e, this.chunk, start);
    this.chunk[end] = 0x0a;
    // The audit reads the line's bytes in place until flush() releases the chunk.
    if (this.audit !== null) this.audit.appendBytes(e, this.chunk, start, end);
    this.pos = end + 1;
    this.events++;
    if (this.pos >= CHUNK_BYTES) this.flush();
  }

  finish(): OutputResult {
    assert(!this.done, 'OutputWriter.finish twice');
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    const a = this.audit?.close() ?? null;
    this.done = true;
    // With the audit on, the audit hashed the same bytes (its chain is the file's running SHA-256).
    const eventsSha256 = a !== null ? a.linesSha256 : this.hash.digest('hex');
    const dir = this.opts.outDir;
    renameSync(join(dir, partialName(EVENTS_FILE)), join(dir, EVENTS_FILE));
    for (const side of SQLITE_SIDE_FILES) rmSync(join(dir, AUDIT_FILE + side), { force: true });
    if (a !== null) renameSync(join(dir, partialName(AUDIT_FILE)), join(dir, AUDIT_FILE));
    return { events: this.events, eventsSha256, auditRows: a?.rows ?? 0, auditHeadHash: a?.headHash ?? null };
  }

  /** Close everything and delete the partial files; safe to call after a failure. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already broken; the file is removed below either way
      }
      this.fd = -1;
    }
    try {
      this.audit?.abandon();
    } catch {
      // same
    }
    removePartials(this.opts.outDir);
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.audit?.release();
    const view = this.chunk.subarray(0, this.pos);
    if (this.audit === null) this.hash.update(view);
    let off = 0;
    while (off < view.length) off += writeSync(this.fd, view, off, view.length - off);
    this.pos = 0;
  }
}

export function removePartials(outDir: string): void {
  rmSync(join(outDir, partialName(EVENTS_FILE)), { force: true });
  for (const side of SQLITE_SIDE_FILES) rmSync(join(outDir, partialName(AUDIT_FILE) + side), { force: true });
}

export function openOutput(opts: OutputOptions): OutputSink {
  return opts.thread === 'inline' ? new InlineOutput(opts) : new WorkerOutput(opts);
}

/**
 * Everything on the caller's thread. An unwritable directory throws here,
 * from openOutput, since there is nothing to defer.
 */
class InlineOutput implements OutputSink {
  private readonly w: OutputWriter;
  private error: unknown = null;

  constructor(opts: OutputOptions) {
    this.w = new OutputWriter(opts);
  }

  emit(e: EventRecord): void {
    if (this.error !== null) return;
    try {
      this.w.push(e);
    } catch (err) {
      // The core must not die mid-match because a disk filled: remember it, report it at close().
      this.error = err;
      this.w.discard();
    }
  }

  close(): Promise<OutputResult> {
    if (this.error !== null) return Promise.reject(outputError(this.error));
    try {
      return Promise.resolve(this.w.finish());
    } catch (err) {
      this.w.discard();
      return Promise.reject(outputError(err));
    }
  }

  abort(): Promise<void> {
    this.w.discard();
    return Promise.resolve();
  }
}

function outputError(err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`writing output failed: ${msg}`, { cause: err });
}

/** What the worker is told at start (structured-cloned). */
export interface OutputWorkerData {
  ringSab: SharedArrayBuffer;
  controlSab: SharedArrayBuffer;
  opts: Omit<OutputOptions, 'thread'>;
}

export type OutputWorkerMessage = { type: 'done'; result: OutputResult } | { type: 'error'; message: string } | { type: 'aborted' };

/**
 * The producer side: each event is encoded into the ring (no allocation) and
 * committed in batches; a worker thread formats, hashes and writes. Ring order
 * is emit order, so the bytes equal the inline mode's.
 *
 * Failure never hangs the producer: a worker that fails abandons the ring, which
 * wakes a producer blocked on a full ring; a worker that never starts is given
 * up on after WORKER_START_WAIT_MS; from then on emit() drops events and
 * close() rejects with the worker's reason.
 */
class WorkerOutput implements OutputSink {
  private readonly ring: Ring;
  private readonly control: Int32Array;
  private readonly worker: Worker;
  private readonly finished: Promise<OutputWorkerMessage>;
  private pending = 0;
  private failed: string | null = null;
  private closing = false;

  constructor(private readonly opts: OutputOptions) {
    this.ring = Ring.create(EVENT_SLOTS, RING_RECORDS);
    const controlSab = new SharedArrayBuffer(CTL_WORDS * 4);
    this.control = new Int32Array(controlSab);
    const { thread: _thread, ...rest } = opts;
    const data: OutputWorkerData = { ringSab: this.ring.sab, controlSab, opts: { ...rest, auditThread: rest.auditThread ?? 'worker', instruments: [...rest.instruments], accountNames: [...rest.accountNames] } };
    const { url, execArgv } = workerScript(import.meta.url, 'output-worker');
    this.worker = new Worker(url, { workerData: data, execArgv });
    this.finished = new Promise<OutputWorkerMessage>((resolve) => {
      let settled = false;
      const settle = (m: OutputWorkerMessage): void => {
        if (settled) return;
        settled = true;
        resolve(m);
      };
      this.worker.on('message', (m: OutputWorkerMessage) => settle(m));
      this.worker.on('error', (err) => settle({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
      this.worker.on('exit', (code) => settle({ type: 'error', message: `output worker exited with code ${code} before finishing` }));
    });
  }

  emit(e: EventRecord): void {
    if (this.failed !== null) return;
    const ring = this.ring;
    let off = ring.tryReserve();
    if (off < 0) off = this.reserveSlow();
    if (off < 0) return;
    encodeEvent(e, ring.data, off);
    if (++this.pending === COMMIT_EVERY) {
      ring.commit();
      this.pending = 0;
      if (ring.isAbandoned()) this.failed = 'output worker stopped';
    }
  }

  /** The ring is full: wait for the worker, or give up if it has failed or never started. */
  private reserveSlow(): number {
    const started = (): boolean => Atomics.load(this.control, CTL_STARTED) !== 0;
    if (!started()) {
      this.ring.commit();
      for (let waitedMs = 0; !started() && waitedMs < WORKER_START_WAIT_MS; waitedMs += 50) Atomics.wait(this.control, CTL_STARTED, 0, 50);
      if (!started()) {
        // If it starts after all, it must not publish a result missing these events.
        Atomics.store(this.control, CTL_ABORT, 1);
        this.failed = `output worker did not start within ${WORKER_START_WAIT_MS / 1000} s`;
        return -1;
      }
    }
    try {
      return this.ring.reserve();
    } catch (err) {
      if (!(err instanceof RingAbandonedError)) throw err;
      this.failed = 'output worker stopped';
      return -1;
    }
  }

  async close(): Promise<OutputResult> {
    assert(!this.closing, 'output closed twice');
    this.closing = true;
    this.ring.close();
    const m = await this.finished;
    await this.worker.terminate();
    if (m.type === 'done' && this.failed === null) return m.result;
    removePartials(this.opts.outDir);
    throw new Error(`writing output failed: ${m.type === 'error' ? m.message : (this.failed ?? 'aborted')}`);
  }

  async abort(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      Atomics.store(this.control, CTL_ABORT, 1);
      this.ring.close();
      // The worker deletes its partial files and says so; if it does not answer, stop it and delete them here.
      await Promise.race([this.finished, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    await this.worker.terminate();
    removePartials(this.opts.outDir);
  }
}

