import { InvariantError } from '../../engine/assert.js';

/**
 * A FIFO of fixed-size numeric records, each with the virtual time it is due.
 * Typed-array ring, grown by doubling, so queuing a market-data event or an
 * order costs no allocation. Due times must not decrease (LatencyChannel
 * guarantees it), so the head is always the next one due.
 */
export class DelayQueue {
  private due: Float64Array;
  private data: Float64Array;
  private head = 0;
  private len = 0;

  constructor(
    readonly slots: number,
    capacity = 1024,
  ) {
    this.due = new Float64Array(capacity);
    this.data = new Float64Array(capacity * slots);
  }

  get length(): number {
    return this.len;
  }

  /** Reserve the tail entry due at dueNs; write its fields into `buffer` at the returned offset. */
  push(dueNs: number): number {
    if (this.len === this.due.length) this.grow();
    const cap = this.due.length;
    if (this.len > 0 && dueNs < this.due[(this.head + this.len - 1) % cap]!) throw new InvariantError('delay queue: due times must not decrease');
    const k = (this.head + this.len) % cap;
    this.due[k] = dueNs;
    this.len++;
    return k * this.slots;
  }

  get buffer(): Float64Array {
    return this.data;
  }

  peekDue(): number {
    return this.len === 0 ? Infinity : this.due[this.head]!;
  }

  /** Offset of the head's fields in `buffer`; valid until the next push. */
  headOffset(): number {
    return this.head * this.slots;
  }

  shift(): void {
    if (this.len === 0) throw new InvariantError('delay queue: shift of an empty queue');
    this.head = (this.head + 1) % this.due.length;
    this.len--;
  }

  private grow(): void {
    const cap = this.due.length;
    const due = new Float64Array(cap * 2);
    const data = new Float64Array(cap * 2 * this.slots);
    for (let i = 0; i < this.len; i++) {
      const k = (this.head + i) % cap;
      due[i] = this.due[k]!;
      data.set(this.data.subarray(k * this.slots, (k + 1) * this.slots), i * this.slots);
    }
    this.due = due;
    this.data = data;
    this.head = 0;
  }
}
