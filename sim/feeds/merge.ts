// Hot path throws directly: a template-literal message passed to assert() is built on every call.
import { InvariantError } from '../../engine/assert.js';
import { CommandRecord } from '../../engine/command.js';
import type { FeedSource } from './feed.js';

export function copyCommand(src: CommandRecord, dst: CommandRecord): void {
  dst.type = src.type;
  dst.tsNs = src.tsNs;
  dst.instrument = src.instrument;
  dst.account = src.account;
  dst.clOrdId = src.clOrdId;
  dst.side = src.side;
  dst.orderType = src.orderType;
  dst.tif = src.tif;
  dst.priceTicks = src.priceTicks;
  dst.sizeLots = src.sizeLots;
  dst.stopPriceTicks = src.stopPriceTicks;
  dst.flags = src.flags;
  dst.stp = src.stp;
  dst.actionIndex = src.actionIndex;
}

/**
 * k-way merge by (tsNs, source index): equal timestamps go to the source listed
 * first, so the merged order never depends on which source happened to be
 * read first. A binary heap of source indices over one buffered record per
 * source; nothing is allocated per command.
 */
export function mergeFeeds(sources: readonly FeedSource[]): FeedSource {
  if (sources.length === 1) return sources[0]!;
  return new MergedFeed(sources);
}

class MergedFeed implements FeedSource {
  private readonly heads: CommandRecord[];
  private readonly heap: Int32Array;
  private len = 0;
  private primed = false;

  constructor(private readonly sources: readonly FeedSource[]) {
    this.heads = sources.map(() => new CommandRecord());
    this.heap = new Int32Array(sources.length);
  }

  next(out: CommandRecord): boolean {
    if (!this.primed) this.prime();
    if (this.len === 0) return false;
    const i = this.heap[0]!;
    const head = this.heads[i]!;
    copyCommand(head, out);
    const prevTs = head.tsNs;
    if (this.sources[i]!.next(head)) {
      if (head.tsNs < prevTs) throw new InvariantError(`feed ${i} went back in time: ${head.tsNs} after ${prevTs}`);
    } else {
      this.heap[0] = this.heap[--this.len]!;
    }
    this.siftDown(0);
    return true;
  }

  private prime(): void {
    this.primed = true;
    for (let i = 0; i < this.sources.length; i++) {
      if (!this.sources[i]!.next(this.heads[i]!)) continue;
      let j = this.len++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!this.before(i, this.heap[p]!)) break;
        this.heap[j] = this.heap[p]!;
        j = p;
      }
      this.heap[j] = i;
    }
  }

  private before(a: number, b: number): boolean {
    const ta = this.heads[a]!.tsNs;
    const tb = this.heads[b]!.tsNs;
    return ta < tb || (ta === tb && a < b);
  }

  private siftDown(at: number): void {
    const h = this.heap;
    const n = this.len;
    if (n === 0) return;
    const x = h[at]!;
    let j = at;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, x)) break;
      h[j] = h[c]!;
      j = c;
    }
    h[j] = x;
  }
}
