import { workerData } from 'node:worker_threads';
import {
  ACTL_CLOSE,
  ACTL_DONE,
  ACTL_HEAD,
  ACTL_STARTED,
  ACTL_TAIL,
  ACTL_TS_MONOTONIC,
  AUDIT_SLOTS,
  slotViews,
  type AuditWorkerData,
  type AuditWorkerReply,
} from './audit-store-client.js';
import { AuditStore } from './audit-store.js';

/**
 * The audit thread: stores the blocks the output thread fills in the shared
 * slots (CRC chain, SHA-256, SQLite), in order, until told to close or
 * abandon. Replies once, on the port, and raises the done word.
 */
const data = workerData as AuditWorkerData;
const ctl = new Int32Array(data.ctl);
const slots = Array.from({ length: AUDIT_SLOTS }, (_, k) => slotViews(data.slots, k));

function finish(reply: AuditWorkerReply): void {
  data.port.postMessage(reply);
  Atomics.store(ctl, ACTL_DONE, 1);
  Atomics.notify(ctl, ACTL_DONE);
  // A writer waiting for a free slot must wake up and see it.
  Atomics.notify(ctl, ACTL_TAIL);
}

Atomics.store(ctl, ACTL_STARTED, 1);
Atomics.notify(ctl, ACTL_STARTED);
let store: AuditStore | null = null;
try {
  store = new AuditStore(data.path, data.meta);
  let tail = 0;
  for (;;) {
    const head = Atomics.load(ctl, ACTL_HEAD);
    if (tail < head) {
      const s = slots[tail % AUDIT_SLOTS]!;
      const h = s.header;
      store.put({ id: h[0]!, firstSeq: h[1]!, lastSeq: h[2]!, minTs: h[3]!, maxTs: h[4]!, rows: h[5]!, cols: s.cols.buf, lines: s.lines.subarray(0, h[6]!) });
      Atomics.store(ctl, ACTL_TAIL, ++tail);
      Atomics.notify(ctl, ACTL_TAIL);
      continue;
    }
    const close = Atomics.load(ctl, ACTL_CLOSE);
    // Close only once every published block is stored (HEAD is re-read after CLOSE was seen).
    if (close === 1 && Atomics.load(ctl, ACTL_HEAD) === tail) {
      finish({ type: 'done', result: store.close(Atomics.load(ctl, ACTL_TS_MONOTONIC) === 1) });
      break;
    }
    if (close === 2) {
      store.abandon();
      finish({ type: 'abandoned' });
      break;
    }
    if (close === 0) Atomics.wait(ctl, ACTL_HEAD, head, 100);
  }
} catch (err) {
  try {
    store?.abandon();
  } catch {
    // the reason below is what matters
  }
  finish({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
