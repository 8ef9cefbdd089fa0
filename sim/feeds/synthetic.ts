import { assert, assertSafeInt } from '../../engine/assert.js';
import { CommandRecord, CommandType } from '../../engine/command.js';
import { OrderType, Side, TimeInForce } from '../../engine/types.js';
import { rngStream, type Rng } from '../rng.js';
import type { FeedSource } from './feed.js';

export interface SyntheticFeedParams {
  /** Instrument index. */
  instrument: number;
  /** Account index used for all of this feed's orders. */
  account: number;
  /** Session window in virtual ns (ns since midnight of the scenario date). */
  startNs: number;
  endNs: number;
  /**
   * Stop after this many orders submitted (limit and market; cancels do not count),
   * or at endNs, whichever comes first: a scenario's `orders` is a count of orders.
   */
  ordersMax: number;
  /** Poisson arrival rates per second of virtual time (numbers, not money). */
  limitRatePerSec: number;
  cancelRatePerSec: number;
  marketRatePerSec: number;
  /** Start of the reference price random walk. */
  referencePriceTicks: number;
  /** Std-dev of the reference walk in ticks per sqrt(second) of virtual time. */
  tickVolatility: number;
  /** Limit prices sit 0..depthTicks ticks from the reference on the passive side, most near the touch. */
  depthTicks: number;
  sizeMinLots: number;
  sizeMaxLots: number;
  /** First clOrdId; ids increase by one per submit. */
  clOrdIdStart: number;
  /** Fraction of limit orders priced through the reference (marketable); default 0.05. */
  marketableFraction?: number;
  /** Fraction of limit orders sent DAY instead of GTC; default 0. */
  dayOrderFraction?: number;
  /** Named maximum of orders this feed remembers as live (cancel targets); default 65536. */
  liveOrdersMax?: number;
}

export const SYNTHETIC_LIVE_ORDERS_MAX_DEFAULT = 1 << 16;
/** How far a marketable limit reaches through the reference, at most. */
const MARKETABLE_TICKS_MAX = 3;

/**
 * Zero-intelligence order flow for one instrument: limit submits, cancels and
 * market orders arrive as competing Poisson processes (one exponential at the
 * total rate, then a category draw), around a reference price that follows a
 * Gaussian random walk. Everything that lands in a command is an integer;
 * arrival gaps are rounded to whole nanoseconds once each and summed as
 * integers, so no float drift accumulates in timestamps.
 */
export function syntheticFeed(params: SyntheticFeedParams, seed: number | string): FeedSource {
  return new SyntheticFeed(params, seed);
}

class SyntheticFeed implements FeedSource {
  private readonly p: SyntheticFeedParams;
  private readonly rng: Rng;
  private readonly totalRate: number;
  private readonly marketableFraction: number;
  private readonly dayOrderFraction: number;
  private readonly meanDepthTicks: number;
  private nowNs: number;
  private ordersEmitted = 0;
  private nextClOrdId: number;
  private reference: number;
  /** clOrdIds this feed believes are resting; swap-remove keeps it dense. */
  private readonly live: Float64Array;
  private liveCount = 0;
  private done = false;

  constructor(p: SyntheticFeedParams, seed: number | string) {
    for (const k of ['instrument', 'account', 'startNs', 'endNs', 'ordersMax', 'referencePriceTicks', 'depthTicks', 'sizeMinLots', 'sizeMaxLots', 'clOrdIdStart'] as const) {
      assertSafeInt(p[k], `synthetic feed ${k}`);
    }
    assert(p.endNs >= p.startNs, `synthetic feed: endNs ${p.endNs} before startNs ${p.startNs}`);
    assert(p.ordersMax >= 0, 'synthetic feed: ordersMax must be >= 0');
    assert(p.referencePriceTicks >= 1, 'synthetic feed: referencePriceTicks must be >= 1');
    assert(p.depthTicks >= 0, 'synthetic feed: depthTicks must be >= 0');
    assert(p.sizeMinLots >= 1 && p.sizeMaxLots >= p.sizeMinLots, `synthetic feed: need 1 <= sizeMinLots <= sizeMaxLots, got ${p.sizeMinLots}..${p.sizeMaxLots}`);
    for (const k of ['limitRatePerSec', 'cancelRatePerSec', 'marketRatePerSec', 'tickVolatility'] as const) {
      assert(Number.isFinite(p[k]) && p[k] >= 0, `synthetic feed: ${k} must be a finite number >= 0, got ${p[k]}`);
    }
    this.marketableFraction = p.marketableFraction ?? 0.05;
    this.dayOrderFraction = p.dayOrderFraction ?? 0;
    assert(this.marketableFraction >= 0 && this.marketableFraction <= 1, 'synthetic feed: marketableFraction must be in [0, 1]');
    assert(this.dayOrderFraction >= 0 && this.dayOrderFraction <= 1, 'synthetic feed: dayOrderFraction must be in [0, 1]');
    const liveMax = p.liveOrdersMax ?? SYNTHETIC_LIVE_ORDERS_MAX_DEFAULT;
    assert(Number.isInteger(liveMax) && liveMax >= 1 && liveMax <= 1 << 24, 'synthetic feed: liveOrdersMax must be an integer in [1, 2^24]');
    this.p = { ...p };
    // One stream per feed identity, so adding a feed never changes another's flow.
    this.rng = rngStream(seed, `synthetic/i${p.instrument}/a${p.account}/c${p.clOrdIdStart}`);
    this.totalRate = p.limitRatePerSec + p.cancelRatePerSec + p.marketRatePerSec;
    this.meanDepthTicks = Math.max(1, p.depthTicks / 4);
    this.nowNs = p.startNs;
    this.nextClOrdId = p.clOrdIdStart;
    this.reference = p.referencePriceTicks;
    this.live = new Float64Array(Math.max(1, Math.min(liveMax, p.ordersMax)));
    if (this.totalRate === 0 || p.ordersMax === 0) this.done = true;
  }

  next(out: CommandRecord): boolean {
    const p = this.p;
    const rng = this.rng;
    while (!this.done) {
      const gapSec = rng.exponential(this.totalRate);
      const gapNs = Math.round(gapSec * 1e9);
      const ts = this.nowNs + gapNs;
      if (ts > p.endNs || !Number.isSafeInteger(ts)) {
        this.done = true;
        break;
      }
      this.nowNs = ts;
      if (p.tickVolatility > 0) {
        this.reference += p.tickVolatility * Math.sqrt(gapSec) * rng.normal();
        if (this.reference < 1) this.reference = 1;
      }
      const u = rng.next() * this.totalRate;
      out.clear();
      out.tsNs = ts;
      out.instrument = p.instrument;
      out.account = p.account;
      if (u < p.limitRatePerSec) {
        this.limit(out);
      } else if (u < p.limitRatePerSec + p.cancelRatePerSec) {
        // With nothing believed live there is nothing to cancel: the arrival is lost.
        if (this.liveCount === 0) continue;
        const k = Math.floor(rng.next() * this.liveCount);
        out.type = CommandType.Cancel;
        out.clOrdId = this.live[k]!;
        this.live[k] = this.live[--this.liveCount]!;
      } else {
        out.type = CommandType.Submit;
        out.clOrdId = this.nextClOrdId++;
        out.side = rng.next() < 0.5 ? Side.Buy : Side.Sell;
        out.orderType = OrderType.Market;
        out.tif = TimeInForce.IOC;
        out.sizeLots = rng.int(p.sizeMinLots, p.sizeMaxLots);
      }
      if (out.type === CommandType.Submit && ++this.ordersEmitted >= p.ordersMax) this.done = true;
      return true;
    }
    return false;
  }

  private limit(out: CommandRecord): void {
    const p = this.p;
    const rng = this.rng;
    const side = rng.next() < 0.5 ? Side.Buy : Side.Sell;
    const dir = side === Side.Buy ? -1 : 1;
    const ref = Math.round(this.reference);
    let price: number;
    if (rng.next() < this.marketableFraction) {
      price = ref - dir * rng.int(1, MARKETABLE_TICKS_MAX);
    } else {
      // Geometric-ish distance: exponential with mean depth/4, folded into 0..depth.
      const k = Math.floor(rng.exponential(1) * this.meanDepthTicks) % (p.depthTicks + 1);
      price = ref + dir * k;
    }
    if (price < 1) price = 1;
    const id = this.nextClOrdId++;
    out.type = CommandType.Submit;
    out.clOrdId = id;
    out.side = side;
    out.orderType = OrderType.Limit;
    out.tif = rng.next() < this.dayOrderFraction ? TimeInForce.DAY : TimeInForce.GTC;
    out.priceTicks = price;
    out.sizeLots = rng.int(p.sizeMinLots, p.sizeMaxLots);
    if (this.liveCount < this.live.length) {
      this.live[this.liveCount++] = id;
    } else {
      // At the limit the feed forgets a random order (it keeps resting) to remember the new one.
      this.live[Math.floor(rng.next() * this.liveCount)] = id;
    }
  }
}
