import { Worker } from 'node:worker_threads';
import { assert } from '../../engine/assert.js';
import { COMMAND_SLOTS, CommandRecord, decodeCommand } from '../../engine/command.js';
import { Ring } from '../ring.js';
import { workerScript } from '../worker-url.js';
import type { FeedSource, FeedSpec } from './feed.js';

/**
 * The worker's status words, shared with feed-worker.ts. The consumer blocks
 * in Atomics.wait and so cannot receive the worker's 'error' event; a failure
 * has to reach it through shared memory: the worker writes its message here,
 * sets FAILED, then closes the ring, which wakes the consumer.
 */
export const STATUS_STATE = 0;
export const STATUS_MESSAGE_BYTES = 1;
export const STATUS_HEADER_BYTES = 8;
export const STATUS_MESSAGE_BYTES_MAX = 4096;
export enum FeedWorkerState {
  Starting = 0,
  Running = 1,
  Done = 2,
  Failed = 3,
}

/** What feed-worker.ts receives as workerData. */
export interface FeedWorkerData {
  ringSab: SharedArrayBuffer;
  statusSab: SharedArrayBuffer;
  specs: FeedSpec[];
  batchRecords: number;
}

export interface WorkerFeedOptions {
  /** Ring capacity in commands (power of two); default 16384. */
  capacityRecords?: number;
  /** Commands per ring commit; default 256. */
  batchRecords?: number;
  /** Give up if the worker has not started (e.g. its script failed to load) within this long; default 20000. */
  startTimeoutMs?: number;
  /** Give up if a started worker produces nothing for this long; default 600000. */
  stallTimeoutMs?: number;
  /** Worker script base name beside this file; only tests change it. */
  scriptBaseName?: string;
}

export type WorkerFeed = FeedSource & {
  /** Resolves once the worker runs; rejects with the worker's error if it failed to start. Optional: next() works without it. */
  ready(): Promise<void>;
  /** Stop the worker (it may be blocked on a full ring) and wait for it to exit. */
  close(): Promise<void>;
};

/** Length of one wait on an empty ring; the timeouts are counted in these. */
const WAIT_SLICE_MS = 50;

/**
 * The merged feed of `specs`, generated in a worker thread and read here from a
 * ring. Yields exactly the commands inlineFeed(specs) yields, in the same order.
 */
export function workerFeed(specs: FeedSpec[], opts: WorkerFeedOptions = {}): WorkerFeed {
  const capacity = opts.capacityRecords ?? 1 << 14;
  const batchRecords = opts.batchRecords ?? 256;
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 600_000;
  assert(Number.isInteger(batchRecords) && batchRecords >= 1 && batchRecords <= capacity, `batchRecords must be in [1, capacity], got ${batchRecords}`);
  const ring = Ring.create(COMMAND_SLOTS, capacity);
  const statusSab = new SharedArrayBuffer(STATUS_HEADER_BYTES + STATUS_MESSAGE_BYTES_MAX);
  const status = new Int32Array(statusSab, 0, STATUS_HEADER_BYTES / 4);
  const { url, execArgv } = workerScript(import.meta.url, opts.scriptBaseName ?? 'feed-worker');
  const workerData: FeedWorkerData = { ringSab: ring.sab, statusSab, specs, batchRecords };
  const worker = new Worker(url, { workerData, execArgv });
  // A reader that stops early must not keep the process alive through a blocked worker.
  worker.unref();

  let eventError: Error | undefined;
  let failure: Error | undefined;
  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: unknown) => {
      if (m === 'running') resolve();
    });
    worker.on('error', (e: Error) => {
      eventError ??= e;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (code !== 0) reject(eventError ?? new Error(`feed worker exited with code ${code}`));
      else resolve();
    });
  });
  // ready() is optional; an unobserved rejection must not crash the process.
  started.catch(() => {});

  const fail = (why: string): never => {
    failure = new Error(why);
    ring.abandon();
    throw failure;
  };

  const workerFailure = (): void => {
    if (Atomics.load(status, STATUS_STATE) !== FeedWorkerState.Failed) return;
    const len = Atomics.load(status, STATUS_MESSAGE_BYTES);
    const msg = new TextDecoder().decode(new Uint8Array(statusSab, STATUS_HEADER_BYTES, len).slice());
    fail(`feed worker failed: ${msg}`);
  };

  let waitedMs = 0;
  const feed: WorkerFeed = {
    next(out: CommandRecord): boolean {
      if (failure) throw failure;
      for (;;) {
        const o = ring.peek();
        if (o >= 0) {
          decodeCommand(ring.data, o, out);
          ring.advance();
          waitedMs = 0;
          return true;
        }
        if (ring.isClosed()) {
          workerFailure();
          return false;
        }
        if (ring.waitForData(WAIT_SLICE_MS)) continue;
        waitedMs += WAIT_SLICE_MS;
        if (eventError) fail(`feed worker failed: ${eventError.message}`);
        const state = Atomics.load(status, STATUS_STATE);
        if (state === FeedWorkerState.Starting && waitedMs >= startTimeoutMs) {
          fail(`feed worker did not start within ${startTimeoutMs} ms (its script failed to load or the thread died; await ready() to see the error)`);
        }
        if (waitedMs >= stallTimeoutMs) fail(`feed worker produced nothing for ${stallTimeoutMs} ms`);
      }
    },
    ready: () => started,
    async close(): Promise<void> {
      ring.abandon();
      await worker.terminate();
    },
  };
  return feed;
}
