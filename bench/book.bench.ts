/**
 * Order book throughput: our OrderBook against nodejs-order-book on the same
 * synthetic op sequence, measured in the same process and run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/book.bench.js [ops]
 *
 * The sequence is generated once, up front, into typed arrays from a fixed
 * seed, so the timed loops do nothing but feed a book: ~50% limit adds near the
 * touch, ~45% cancels of random resting orders, ~5% market orders, with the
 * book held near RESTING_TARGET resting orders after a warm-up to that level.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import seedrandom from 'seedrandom';
import { Bench } from 'tinybench';
import { OrderBook as PeerBook, Side as PeerSide } from 'nodejs-order-book';
import { OrderBook } from '../engine/book.js';
import { NULL_BOOK_LISTENER, type BookListener } from '../engine/book-listener.js';
import { CancelReason, NO_PRICE, OrderType, Side, StpMode, TimeInForce } from '../engine/types.js';

const SEED = 'exsim-book-bench-1';
const RESTING_TARGET = 20_000;
const MID_START = 1_000_000;
const OP_LIMIT = 0;
const OP_CANCEL = 1;
const OP_MARKET = 2;

/** One op per index; ids are dense from 1 so both books see the same ids. */
interface OpSequence {
  warmupN: number;
  n: number;
  kind: Uint8Array;
  side: Uint8Array;
  price: Int32Array;
  size: Int32Array;
  /** New id for a limit or market, target id for a cancel. */
  id: Int32Array;
  /** The peer wants string ids; made up front so the timed loop does not build them. */
  idText: string[];
  mix: { limits: number; cancels: number; markets: number };
}

/**
 * Generate warm-up plus timed ops. Which orders rest depends on matching, so the
 * generator runs our book with a listener that tracks the resting set; cancels
 * then always target an order that is resting at that moment in either book.
 */
function generate(ops: number): OpSequence {
  const rnd = seedrandom(SEED);
  const total = RESTING_TARGET + ops;
  const seq: OpSequence = {
    warmupN: RESTING_TARGET,
    n: ops,
    kind: new Uint8Array(total),
    side: new Uint8Array(total),
    price: new Int32Array(total),
    size: new Int32Array(total),
    id: new Int32Array(total),
    idText: [''],
    mix: { limits: 0, cancels: 0, markets: 0 },
  };
  // Resting set with O(1) random pick and removal (swap with last).
  const resting = new Int32Array(total + 1);
  const posOf = new Int32Array(total + 2).fill(-1);
  let restingN = 0;
  const drop = (id: number): void => {
    const p = posOf[id];
    if (p < 0) return;
    const last = resting[--restingN];
    resting[p] = last;
    posOf[last] = p;
    posOf[id] = -1;
  };
  const tracker: BookListener = {
    onTrade(_t, makerId, _p, _q, _tl, makerLeaves) {
      if (makerLeaves === 0) drop(makerId);
    },
    onRest(orderId) {
      posOf[orderId] = restingN;
      resting[restingN++] = orderId;
    },
    onCancel(orderId) {
      drop(orderId);
    },
    onLevel() {},
  };
  const book = new OrderBook(tracker, { initialOrders: 1 << 15 });
  let nextId = 1;
  for (let i = 0; i < total; i++) {
    const warm = i < RESTING_TARGET;
    let kind: number;
    if (warm) {
      kind = OP_LIMIT;
    } else {
      // Nudge the add/cancel split to hold the resting count near the target.
      const pCancel = restingN > RESTING_TARGET + 100 ? 0.47 : restingN < RESTING_TARGET - 100 ? 0.43 : 0.45;
      const r = rnd();
      kind = r < 0.05 ? OP_MARKET : r < 0.05 + pCancel ? OP_CANCEL : OP_LIMIT;
      if (kind === OP_CANCEL && restingN === 0) kind = OP_LIMIT;
    }
    const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
    seq.kind[i] = kind;
    seq.side[i] = side;
    if (kind === OP_CANCEL) {
      const id = resting[Math.floor(rnd() * restingN)];
      seq.id[i] = id;
      book.cancel(id, CancelReason.User);
      seq.mix.cancels++;
      continue;
    }
    const id = nextId++;
    seq.id[i] = id;
    if (kind === OP_LIMIT) {
      // Priced off the live touch so the book keeps its shape: mostly within a
      // few ticks of it, a thinning tail out to ~50 ticks, never crossing.
      const bid = book.bestBid();
      const ask = book.bestAsk();
      const mid = bid !== NO_PRICE && ask !== NO_PRICE ? Math.floor((bid + ask) / 2) : bid !== NO_PRICE ? bid + 1 : ask !== NO_PRICE ? ask - 1 : MID_START;
      const r = rnd();
      const offset = Math.floor(r * r * r * 50);
      const price = side === Side.Buy ? Math.min(mid - offset, ask === NO_PRICE ? mid : ask - 1) : Math.max(mid + 1 + offset, bid === NO_PRICE ? mid : bid + 1);
      const size = 1 + Math.floor(rnd() * 10);
      seq.price[i] = price;
      seq.size[i] = size;
      book.submit(id, 1, side, OrderType.Limit, price, size, TimeInForce.GTC, false, StpMode.None);
      if (!warm) seq.mix.limits++;
    } else {
      const size = 1 + Math.floor(rnd() * 8);
      seq.size[i] = size;
      book.submit(id, 1, side, OrderType.Market, 0, size, TimeInForce.IOC, false, StpMode.None);
      seq.mix.markets++;
    }
  }
  for (let id = 1; id < nextId; id++) seq.idText.push(String(id));
  return seq;
}

function feedOurs(book: OrderBook, seq: OpSequence, from: number, to: number): number {
  const { kind, side, price, size, id } = seq;
  let rejects = 0;
  for (let i = from; i < to; i++) {
    const k = kind[i];
    if (k === OP_LIMIT) {
      rejects += book.submit(id[i], 1, side[i], OrderType.Limit, price[i], size[i], TimeInForce.GTC, false, StpMode.None) === 0 ? 0 : 1;
    } else if (k === OP_CANCEL) {
      rejects += book.cancel(id[i], CancelReason.User) ? 0 : 1;
    } else {
      rejects += book.submit(id[i], 1, side[i], OrderType.Market, 0, size[i], TimeInForce.IOC, false, StpMode.None) === 0 ? 0 : 1;
    }
  }
  return rejects;
}

function feedPeer(book: PeerBook, seq: OpSequence, from: number, to: number): number {
  const { kind, side, price, size, id, idText } = seq;
  let misses = 0;
  for (let i = from; i < to; i++) {
    const k = kind[i];
    const s = side[i] === Side.Buy ? PeerSide.BUY : PeerSide.SELL;
    if (k === OP_LIMIT) {
      book.limit({ side: s, id: idText[id[i]], size: size[i], price: price[i] });
    } else if (k === OP_CANCEL) {
      if (book.cancel(idText[id[i]]) === undefined) misses++;
    } else {
      book.market({ side: s, size: size[i] });
    }
  }
  return misses;
}

function freshOurs(seq: OpSequence): OrderBook {
  // Pool and id map sized for the run up front, as a deployment would configure
  // them, so the timed loop allocates nothing.
  const book = new OrderBook(NULL_BOOK_LISTENER, { initialOrders: 1 << 15, initialIds: seq.warmupN + seq.n + 1 });
  feedOurs(book, seq, 0, seq.warmupN);
  return book;
}

function freshPeer(seq: OpSequence): PeerBook {
  const book = new PeerBook();
  feedPeer(book, seq, 0, seq.warmupN);
  return book;
}

export interface BookBenchResult {
  ops: number;
  restingTarget: number;
  mix: { limits: number; cancels: number; markets: number };
  oursOpsPerSec: number;
  peerOpsPerSec: number;
  ratio: number;
  /** Same figures measured by tinybench (median of its samples). */
  tinybench: { oursOpsPerSec: number; peerOpsPerSec: number; ratio: number };
  /** Cancels that missed or orders rejected: 0 when both books saw a valid sequence. */
  oursRejects: number;
  peerCancelMisses: number;
  finalResting: { ours: number; peer: number };
}

export async function runBookBench(opts: { ops?: number; peer?: boolean } = {}): Promise<BookBenchResult> {
  // The peer runs at tens of thousands of ops/s on this mix, so the default is
  // sized for it to finish in seconds; ours is timed over many passes instead.
  const ops = opts.ops ?? 300_000;
  const withPeer = opts.peer ?? true;
  const seq = generate(ops);
  const from = seq.warmupN;
  const to = seq.warmupN + seq.n;

  const timeMs = <B>(fresh: () => B, feed: (b: B) => number, reps: number): { bestMs: number; result: number; book: B } => {
    let bestMs = Infinity;
    let result = 0;
    let book = fresh();
    for (let r = 0; r < reps; r++) {
      if (r > 0) book = fresh();
      const t0 = performance.now();
      result = feed(book);
      const ms = performance.now() - t0;
      if (ms < bestMs) bestMs = ms;
    }
    return { bestMs, result, book };
  };

  // Ours first, both ways, so the peer's large heap is not alive while ours is timed.
  const ours = timeMs(() => freshOurs(seq), (b) => feedOurs(b, seq, from, to), 15);
  const oursOpsPerSec = ops / (ours.bestMs / 1000);
  const oursRejects = ours.result;
  const oursResting = ours.book.restingCount();

  // tinybench: each iteration replays the whole sequence; the warm-up of a fresh
  // book happens in beforeEach, outside the timed window.
  let oursBook = freshOurs(seq);
  const bench = new Bench({ iterations: 10, time: 0, warmup: true, warmupIterations: 2, warmupTime: 0 });
  bench.add('exsim OrderBook', () => feedOurs(oursBook, seq, from, to), {
    beforeEach() {
      oursBook = freshOurs(seq);
    },
  });
  await bench.run();

  const peer = withPeer ? timeMs(() => freshPeer(seq), (b) => feedPeer(b, seq, from, to), 1) : null;
  const peerOpsPerSec = peer === null ? 0 : ops / (peer.bestMs / 1000);
  const peerResting = peer === null ? 0 : countPeerOrders(peer.book);
  // Separate bench so the slow peer gets fewer iterations.
  let peerBook: PeerBook | null = null;
  const peerBench = new Bench({ iterations: 2, time: 0, warmup: false });
  if (withPeer) {
    peerBench.add('nodejs-order-book', () => (peerBook === null ? 0 : feedPeer(peerBook, seq, from, to)), {
      beforeEach() {
        peerBook = freshPeer(seq);
      },
    });
    await peerBench.run();
  }
  const tbOps = (name: string): number => {
    const task = [...bench.tasks, ...peerBench.tasks].find((t) => t.name === name);
    const res = task?.result;
    if (res === undefined || !('latency' in res)) return 0;
    return ops / (res.latency.p50 / 1000);
  };
  const tbOurs = tbOps('exsim OrderBook');
  const tbPeer = tbOps('nodejs-order-book');

  return {
    ops,
    restingTarget: RESTING_TARGET,
    mix: seq.mix,
    oursOpsPerSec,
    peerOpsPerSec,
    ratio: oursOpsPerSec / peerOpsPerSec,
    tinybench: { oursOpsPerSec: tbOurs, peerOpsPerSec: tbPeer, ratio: tbPeer > 0 ? tbOurs / tbPeer : 0 },
    oursRejects,
    peerCancelMisses: peer === null ? 0 : peer.result,
    finalResting: { ours: oursResting, peer: peerResting },
  };
}

function countPeerOrders(book: PeerBook): number {
  const snap = book.snapshot();
  let n = 0;
  for (const level of snap.bids) n += level.orders.length;
  for (const level of snap.asks) n += level.orders.length;
  return n;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatBookBench(r: BookBenchResult): string {
  const pct = (x: number): string => `${((100 * x) / r.ops).toFixed(1)}%`;
  return [
    `book bench: ${fmt(r.ops)} ops on a book held near ${fmt(r.restingTarget)} resting orders`,
    `  mix: limit ${pct(r.mix.limits)}, cancel ${pct(r.mix.cancels)}, market ${pct(r.mix.markets)}`,
    `  manual loop (best pass):  ours ${fmt(r.oursOpsPerSec)} ops/s, nodejs-order-book ${fmt(r.peerOpsPerSec)} ops/s, ours/peer ${r.ratio.toFixed(1)}x`,
    `  tinybench (median pass):  ours ${fmt(r.tinybench.oursOpsPerSec)} ops/s, nodejs-order-book ${fmt(r.tinybench.peerOpsPerSec)} ops/s, ours/peer ${r.tinybench.ratio.toFixed(1)}x`,
    `  checks: ours rejects ${r.oursRejects}, peer cancel misses ${r.peerCancelMisses}, final resting ours ${r.finalResting.ours} peer ${r.finalResting.peer}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opsArg = args.find((a) => /^\d+$/.test(a));
  const r = await runBookBench({ ops: opsArg === undefined ? undefined : Number(opsArg), peer: !args.includes('--ours-only') });
  console.log(formatBookBench(r));
}
