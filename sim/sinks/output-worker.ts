import { parentPort, workerData } from 'node:worker_threads';
import { EventRecord, decodeEvent } from '../../engine/event.js';
import { Ring } from '../ring.js';
import { CTL_ABORT, CTL_STARTED, DRAIN_BATCH, OutputWriter, removePartials, type OutputWorkerData, type OutputWorkerMessage } from './output.js';

/**
 * The output thread: drains the event ring in order and does the formatting,
 * hashing, file and SQLite writes, so none of it runs on the matching thread.
 * On any failure it abandons the ring first (a producer blocked on a full ring
 * wakes up instead of waiting forever), then reports.
 */
const data = workerData as OutputWorkerData;
const ring = Ring.attach(data.ringSab);
const control = new Int32Array(data.controlSab);
const post = (m: OutputWorkerMessage): void => parentPort!.postMessage(m);

let writer: OutputWriter | null = null;
try {
  Atomics.store(control, CTL_STARTED, 1);
  Atomics.notify(control, CTL_STARTED);
  writer = new OutputWriter(data.opts);
  const e = new EventRecord();
  const slots = ring.recordSlots;
  const end = ring.data.length;
  let aborted = false;
  for (;;) {
    if (Atomics.load(control, CTL_ABORT) !== 0) {
      aborted = true;
      break;
    }
    let off = ring.peek();
    if (off < 0) {
      if (ring.isClosed()) break;
      ring.waitForData(100);
      continue;
    }
    const n = Math.min(ring.available(), DRAIN_BATCH);
    for (let i = 0; i < n; i++) {
      decodeEvent(ring.data, off, e);
      writer.push(e);
      off += slots;
      if (off === end) off = 0;
    }
    ring.advance(n);
  }
  if (aborted) {
    ring.abandon();
    writer.discard();
    post({ type: 'aborted' });
  } else {
    post({ type: 'done', result: writer.finish() });
  }
} catch (err) {
  ring.abandon();
  try {
    if (writer !== null) writer.discard();
    else removePartials(data.opts.outDir);
  } catch {
    // the directory itself is the problem; the report below says what it was
  }
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
