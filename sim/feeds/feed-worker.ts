/**
 * Worker entry: builds the merged feed from plain specs and writes every
 * command into the ring, committing in batches, then closes it. Any failure is
 * written to the shared status words before the ring is closed, so a consumer
 * blocked in Atomics.wait wakes and throws it (see worker-feed.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring, RingAbandonedError } from '../ring.js';
import { FeedWorkerState, STATUS_HEADER_BYTES, STATUS_MESSAGE_BYTES, STATUS_MESSAGE_BYTES_MAX, STATUS_STATE, type FeedWorkerData } from './worker-feed.js';

const wd = workerData as FeedWorkerData;
const ring = Ring.attach(wd.ringSab);
const status = new Int32Array(wd.statusSab, 0, STATUS_HEADER_BYTES / 4);
Atomics.store(status, STATUS_STATE, FeedWorkerState.Running);
parentPort?.postMessage('running');

try {
  // Imported here, not statically, so a failure to load them is reported like any other.
  const { inlineFeed } = await import('./feed.js');
  const { CommandRecord, encodeCommand } = await import('../../engine/command.js');
  const feed = inlineFeed(wd.specs);
  const c = new CommandRecord();
  const data = ring.data;
  const batch = wd.batchRecords;
  let pending = 0;
  while (feed.next(c)) {
    encodeCommand(c, data, ring.reserve());
    if (++pending === batch) {
      ring.commit();
      pending = 0;
    }
  }
  Atomics.store(status, STATUS_STATE, FeedWorkerState.Done);
  ring.close();
} catch (e) {
  if (!(e instanceof RingAbandonedError)) {
    const err = e instanceof Error ? e : new Error(String(e));
    const text = `${err.name}: ${err.message}${err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
    let bytes = new TextEncoder().encode(text);
    if (bytes.length > STATUS_MESSAGE_BYTES_MAX) bytes = bytes.subarray(0, STATUS_MESSAGE_BYTES_MAX);
    new Uint8Array(wd.statusSab, STATUS_HEADER_BYTES, STATUS_MESSAGE_BYTES_MAX).set(bytes);
    Atomics.store(status, STATUS_MESSAGE_BYTES, bytes.length);
    Atomics.store(status, STATUS_STATE, FeedWorkerState.Failed);
    ring.close();
  }
}
