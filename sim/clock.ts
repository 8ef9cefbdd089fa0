// Hot paths throw directly: a template-literal message passed to assert() is built on every call.
import { assert, InvariantError } from '../engine/assert.js';

/**
 * Virtual time in integer nanoseconds. The simulation advances it from the
 * data (the next command or timer), never from the wall clock.
 */
export class VirtualClock {
  private now: number;

  constructor(startNs = 0) {
    assert(Number.isSafeInteger(startNs), `clock start must be a safe integer ns, got ${startNs}`);
    this.now = startNs;
  }

  nowNs(): number {
    return this.now;
  }

  advanceTo(tsNs: number): void {
    if (!Number.isSafeInteger(tsNs)) throw new InvariantError(`clock time must be a safe integer ns, got ${tsNs}`);
    if (tsNs < this.now) throw new InvariantError(`clock cannot go backwards: ${tsNs} < ${this.now}`);
    this.now = tsNs;
  }
}

/** Named maximum: a runaway scheduler is a bug, not a reason to grow forever. */
export const TIMERS_MAX = 1 << 22;

/**
 * Timers in a binary min-heap keyed by (timeNs, seq); seq is the insertion
 * counter, so timers due at the same nanosecond fire in the order they were
 * scheduled. Keys live in typed arrays; payloads in a parallel plain array.
 * Cancel is lazy (the entry is marked dead and skipped when it surfaces) so it
 * costs O(1) and needs no index from timer id to heap position; cancelled
 * entries still count against TIMERS_MAX until they surface.
 */
export class TimerQueue<T> {
  private times: Float64Array;
  private seqs: Float64Array;
  private payloads: (T | undefined)[] = [];
  private heapLen = 0;
  private nextSeq = 0;
  private live = 0;
  /** Ids of live timers, so cancel() can tell a pending timer from a fired one. */
  private readonly pending = new Set<number>();
  /** Ids of cancelled timers still in the heap (dropped when they reach the top). */
  private readonly cancelled = new Set<number>();

  constructor(initialCapacity = 1024) {
    assert(Number.isInteger(initialCapacity) && initialCapacity >= 1 && initialCapacity <= TIMERS_MAX, `timer capacity must be in [1, ${TIMERS_MAX}]`);
    this.times = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
  }

  /** Live (not cancelled, not popped) timers. */
  get size(): number {
    return this.live;
  }

  /** Returns the timer id (its seq), usable with cancel(). */
  schedule(timeNs: number, payload: T): number {
    if (!Number.isSafeInteger(timeNs)) throw new InvariantError(`timer time must be a safe integer ns, got ${timeNs}`);
    if (this.heapLen === this.times.length) this.grow();
    const seq = this.nextSeq++;
    let i = this.heapLen++;
    // Sift up, moving parents down into the hole.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(timeNs, seq, p)) break;
      this.move(p, i);
      i = p;
    }
    this.times[i] = timeNs;
    this.seqs[i] = seq;
    this.payloads[i] = payload;
    this.pending.add(seq);
    this.live++;
    return seq;
  }

  /** Cancel a scheduled timer; false if it already fired, was cancelled, or never existed. */
  cancel(id: number): boolean {
    if (!this.pending.delete(id)) return false;
    this.cancelled.add(id);
    this.live--;
    return true;
  }

  /** Time of the earliest live timer, or Infinity when none. */
  peekTime(): number {
    this.dropCancelledTop();
    return this.heapLen === 0 ? Infinity : this.times[0]!;
  }

  /** Remove and return the earliest live timer's payload. */
  pop(): T | undefined {
    this.dropCancelledTop();
    if (this.heapLen === 0) return undefined;
    const payload = this.payloads[0];
    this.pending.delete(this.seqs[0]!);
    this.removeTop();
    this.live--;
    return payload;
  }

  private dropCancelledTop(): void {
    while (this.heapLen > 0 && this.cancelled.size > 0 && this.cancelled.has(this.seqs[0]!)) {
      this.cancelled.delete(this.seqs[0]!);
      this.removeTop();
    }
  }

  private removeTop(): void {
    const last = --this.heapLen;
    const t = this.times[last]!;
    const s = this.seqs[last]!;
    const pl = this.payloads[last];
    this.payloads[last] = undefined;
    if (last === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const c = r < last && this.lessIdx(r, l) ? r : l;
      const tc = this.times[c]!;
      if (!(tc < t || (tc === t && this.seqs[c]! < s))) break;
      this.move(c, i);
      i = c;
    }
    this.times[i] = t;
    this.seqs[i] = s;
    this.payloads[i] = pl;
  }

  /** (time, seq) < key at index j */
  private less(time: number, seq: number, j: number): boolean {
    const tj = this.times[j]!;
    return time < tj || (time === tj && seq < this.seqs[j]!);
  }

  private lessIdx(i: number, j: number): boolean {
    return this.less(this.times[i]!, this.seqs[i]!, j);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.payloads[to] = this.payloads[from];
  }

  private grow(): void {
    const n = this.times.length * 2;
    assert(n <= TIMERS_MAX, `timer queue full: more than ${TIMERS_MAX} pending timers`);
    const t = new Float64Array(n);
    t.set(this.times);
    const s = new Float64Array(n);
    s.set(this.seqs);
    this.times = t;
    this.seqs = s;
  }
}
