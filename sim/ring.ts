// Hot paths throw directly: a template-literal message passed to assert() is built on every call.
import { assert, InvariantError } from '../engine/assert.js';

/**
 * Single-producer single-consumer ring of fixed-size float64 records over a
 * SharedArrayBuffer, so a feed (or a sink) can run in another thread without
 * changing the order of anything.
 *
 * Head and tail are free-running Int32 counters that wrap modulo 2^32: the
 * slot is `counter & mask` and the fill level is `(tail - head) | 0`, which is
 * exact across the wrap because the capacity is at most 2^24 < 2^31. A long
 * run can therefore pass any number of records.
 *
 * Each side keeps a cached copy of the other side's counter and reloads it only
 * when the cache says full (producer) or empty (consumer), so the hot path is
 * one plain typed-array write or read per slot. Notifies are only sent when the
 * other side has announced it is waiting (a flag word), because Atomics.notify
 * takes a process-wide lock even when nobody waits.
 */

/** Named limits: a ring is sized once, up front. */
export const RING_CAPACITY_MAX = 1 << 24;
export const RING_RECORD_SLOTS_MAX = 1024;
export const RING_BYTES_MAX = 1 << 30;

const MAGIC = 0x52494e47; // "RING"
// Int32 indices into the header. Words written by different threads sit on
// different 64-byte lines so the two sides do not invalidate each other's cache.
const H_MAGIC = 0;
const H_SLOTS = 1;
const H_CAPACITY = 2;
const H_HEAD = 16; // consumer writes (byte 64)
const H_ABANDONED = 17; // consumer writes: it will read no more
const H_TAIL = 32; // producer writes (byte 128)
const H_CLOSED = 33; // producer writes
const H_PRODUCER_WAITING = 48; // byte 192
const H_CONSUMER_WAITING = 64; // byte 256
const HEADER_BYTES = 320;

/** Thrown by reserve() when the consumer has abandoned the ring: the producer should stop. */
export class RingAbandonedError extends Error {
  override name = 'RingAbandonedError';
}

export interface RingCreateOptions {
  /** Initial value of both counters (testing the 2^31 and 2^32 wrap without passing billions of records). */
  startCount?: number;
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly recordSlots: number;
  readonly capacity: number;
  readonly data: Float64Array;
  private readonly header: Int32Array;
  private readonly mask: number;
  // Producer-side state.
  private tail: number; // reserved, maybe not yet published
  private publishedTail: number;
  private cachedHead: number;
  // Consumer-side state.
  private head: number;
  private cachedTail: number;

  static create(recordSlots: number, capacityRecords: number, opts: RingCreateOptions = {}): Ring {
    assert(Number.isInteger(recordSlots) && recordSlots >= 1 && recordSlots <= RING_RECORD_SLOTS_MAX, `ring recordSlots must be an integer in [1, ${RING_RECORD_SLOTS_MAX}], got ${recordSlots}`);
    assert(
      Number.isInteger(capacityRecords) && capacityRecords >= 1 && capacityRecords <= RING_CAPACITY_MAX && (capacityRecords & (capacityRecords - 1)) === 0,
      `ring capacity must be a power of two in [1, ${RING_CAPACITY_MAX}], got ${capacityRecords}`,
    );
    const dataBytes = recordSlots * capacityRecords * 8;
    assert(dataBytes <= RING_BYTES_MAX, `ring of ${dataBytes} bytes exceeds RING_BYTES_MAX ${RING_BYTES_MAX}`);
    const sab = new SharedArrayBuffer(HEADER_BYTES + dataBytes);
    const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const start = (opts.startCount ?? 0) | 0;
    h[H_MAGIC] = MAGIC;
    h[H_SLOTS] = recordSlots;
    h[H_CAPACITY] = capacityRecords;
    h[H_HEAD] = start;
    h[H_TAIL] = start;
    return new Ring(sab);
  }

  /** The other thread's view of a ring created elsewhere; the layout is read from the header. */
  static attach(sab: SharedArrayBuffer): Ring {
    return new Ring(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    assert(sab instanceof SharedArrayBuffer && sab.byteLength >= HEADER_BYTES, 'Ring.attach needs the SharedArrayBuffer of a ring');
    this.sab = sab;
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    assert(Atomics.load(this.header, H_MAGIC) === MAGIC, 'Ring.attach: not a ring buffer (bad magic)');
    this.recordSlots = this.header[H_SLOTS]!;
    this.capacity = this.header[H_CAPACITY]!;
    assert(sab.byteLength === HEADER_BYTES + this.recordSlots * this.capacity * 8, 'Ring.attach: buffer size does not match its header');
    this.mask = this.capacity - 1;
    this.data = new Float64Array(sab, HEADER_BYTES, this.recordSlots * this.capacity);
    this.head = Atomics.load(this.header, H_HEAD);
    this.tail = this.publishedTail = this.cachedTail = Atomics.load(this.header, H_TAIL);
    this.cachedHead = this.head;
  }

  // ---- producer side ----

  /** Offset into `data` for the next record, or -1 when the ring is full. */
  tryReserve(): number {
    const t = this.tail;
    if (((t - this.cachedHead) | 0) === this.capacity) {
      this.cachedHead = Atomics.load(this.header, H_HEAD);
      if (((t - this.cachedHead) | 0) === this.capacity) return -1;
    }
    this.tail = (t + 1) | 0;
    return (t & this.mask) * this.recordSlots;
  }

  /**
   * Like tryReserve but waits while the ring is full (back-pressure). Publishes
   * the pending batch before waiting, otherwise the consumer could never drain it.
   */
  reserve(): number {
    const off = this.tryReserve();
    if (off >= 0) return off;
    this.commit();
    const h = this.header;
    for (;;) {
      Atomics.store(h, H_PRODUCER_WAITING, 1);
      const head = Atomics.load(h, H_HEAD);
      if (Atomics.load(h, H_ABANDONED) !== 0) {
        Atomics.store(h, H_PRODUCER_WAITING, 0);
        throw new RingAbandonedError('ring abandoned by its consumer');
      }
      if (((this.tail - head) | 0) < this.capacity) {
        Atomics.store(h, H_PRODUCER_WAITING, 0);
        this.cachedHead = head;
        break;
      }
      // Returns at once if the consumer moved head since the load above.
      Atomics.wait(h, H_HEAD, head);
    }
    const t = this.tail;
    this.tail = (t + 1) | 0;
    return (t & this.mask) * this.recordSlots;
  }

  /** Publish every record reserved since the last commit. */
  commit(): void {
    if (this.tail === this.publishedTail) return;
    this.publishedTail = this.tail;
    Atomics.store(this.header, H_TAIL, this.tail);
    if (Atomics.load(this.header, H_CONSUMER_WAITING) !== 0) Atomics.notify(this.header, H_TAIL);
  }

  /** The producer is done: the consumer sees the end once it has drained what was committed. */
  close(): void {
    this.commit();
    Atomics.store(this.header, H_CLOSED, 1);
    Atomics.notify(this.header, H_TAIL);
  }

  // ---- consumer side ----

  /** Records readable now. */
  available(): number {
    this.cachedTail = Atomics.load(this.header, H_TAIL);
    return (this.cachedTail - this.head) | 0;
  }

  /** Offset of the next readable record, or -1 if none. */
  peek(): number {
    const hd = this.head;
    if (hd === this.cachedTail) {
      this.cachedTail = Atomics.load(this.header, H_TAIL);
      if (hd === this.cachedTail) return -1;
    }
    return (hd & this.mask) * this.recordSlots;
  }

  /** Release n records (their slots may be overwritten from now on). */
  advance(n = 1): void {
    const next = (this.head + n) | 0;
    if (!(n >= 0 && ((this.cachedTail - next) | 0) >= 0)) throw new InvariantError(`ring advance(${n}) past the readable records`);
    this.head = next;
    Atomics.store(this.header, H_HEAD, next);
    if (Atomics.load(this.header, H_PRODUCER_WAITING) !== 0) Atomics.notify(this.header, H_HEAD);
  }

  /** Wait until a record is readable or the producer closed; false on timeout. */
  waitForData(timeoutMs = Infinity): boolean {
    const h = this.header;
    for (;;) {
      if (this.peek() >= 0 || Atomics.load(h, H_CLOSED) !== 0) return true;
      Atomics.store(h, H_CONSUMER_WAITING, 1);
      const tail = Atomics.load(h, H_TAIL);
      if (tail !== this.head || Atomics.load(h, H_CLOSED) !== 0) {
        Atomics.store(h, H_CONSUMER_WAITING, 0);
        continue;
      }
      const r = Atomics.wait(h, H_TAIL, tail, timeoutMs);
      Atomics.store(h, H_CONSUMER_WAITING, 0);
      if (r === 'timed-out') return this.peek() >= 0 || Atomics.load(h, H_CLOSED) !== 0;
    }
  }

  /** Closed by the producer and fully drained. */
  isClosed(): boolean {
    // CLOSED before TAIL: close() stores the final tail first.
    return Atomics.load(this.header, H_CLOSED) !== 0 && Atomics.load(this.header, H_TAIL) === this.head;
  }

  /** Closed by the producer (records may remain to drain). */
  isProducerClosed(): boolean {
    return Atomics.load(this.header, H_CLOSED) !== 0;
  }

  /** The consumer will read no more: a producer blocked in reserve() wakes and gets RingAbandonedError. */
  abandon(): void {
    Atomics.store(this.header, H_ABANDONED, 1);
    Atomics.notify(this.header, H_HEAD);
  }

  isAbandoned(): boolean {
    return Atomics.load(this.header, H_ABANDONED) !== 0;
  }
}
