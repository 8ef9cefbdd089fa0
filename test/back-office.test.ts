import { describe, expect, it } from 'vitest';
import { BackOffice, LIQUIDATION_CLORDID_BASE, type BackOfficeConfig } from '../engine/back-office.js';
import { BusinessCalendar, NS_PER_DAY, parseDate } from '../engine/calendar.js';
import { CommandRecord, CommandType } from '../engine/command.js';
import { EventRecord, EventType, type EventSink } from '../engine/event.js';
import { Exchange } from '../engine/exchange.js';
import type { Instrument } from '../engine/instrument.js';
import { equityTerms } from '../engine/margin.js';
import { notionalRule } from '../engine/money.js';
import { OrderType, RejectReason, Side, StpMode, TimeInForce } from '../engine/types.js';
import { rngStream } from '../sim/rng.js';
import { limitOrder } from './limit-order.js';

/**
 * The back office driven through the REAL exchange by random order flow from a seed, over
 * several days with end-of-day jobs and intraday liquidation. After every event: the ledger
 * balances per asset; cash + positions at mark = equity from P&L for every account; no cash
 * account is negative, neither in total nor in settled cash (cash-available); customers' positions per instrument sum to zero and the clearing
 * securities account is flat. After every command: ledger = portfolio = risk positions.
 * Clearing lifecycle from the events alone: every trade side is `cleared` once (its trade and
 * order ids), later `trade-settled` once with the same figures on its settle date; the lots
 * cleared and not yet settled are the ledger's `<acct>:SYM:unsettled`, and the net of an
 * account's trade-settled lots of a day is its `securities-settled`.
 */

const USD = { code: 'USD', minorExponent: 2 };
const INSTRUMENTS: Instrument[] = [
  { index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 0 },
  { index: 1, symbol: 'BETA', tickSize: '0.05', lotSize: '1', referencePriceTicks: 1_000, priceBandBps: 0 },
];
const ACCOUNTS = [
  { name: 'mm0', type: 'margin' as const, cash: 50_000_000 },
  { name: 'mm1', type: 'margin' as const, cash: 50_000_000 },
  { name: 'c0', type: 'cash' as const, cash: 2_000_000 },
  { name: 'c1', type: 'cash' as const, cash: 500_000 },
  { name: 'c2', type: 'cash' as const, cash: 1_000_000, unsettledUseBps: 5_000 },
  { name: 'm0', type: 'margin' as const, cash: 300_000 },
  { name: 'm1', type: 'margin' as const, cash: 1_000_000 },
];
const OPEN_NS = 34_200 * 1e9;
const CLOSE_NS = 57_600 * 1e9;

function backOfficeConfig(): BackOfficeConfig {
  return {
    currencies: [USD],
    instruments: INSTRUMENTS.map((ins, i) => {
      const r = notionalRule(ins.tickSize, ins.lotSize, 2);
      return {
        symbol: ins.symbol,
        currency: 0,
        num: r.num,
        den: r.den,
        isFuture: false,
        makerBps: i === 0 ? -0.2 : 0,
        takerBps: i === 0 ? 0.5 : 1,
        referencePriceTicks: ins.referencePriceTicks,
        // BETA at 10x leverage, so the random walk does push margin accounts under maintenance.
        margin: i === 0 ? equityTerms() : equityTerms(1_000, 800),
        markTo: i === 0 ? 'last' : 'mid',
      };
    }),
    accounts: ACCOUNTS.map((a, k) => ({
      name: a.name,
      currency: 0,
      firm: k < 2 ? 0 : 1,
      type: a.type,
      depositMinor: a.cash,
      ...(a.unsettledUseBps !== undefined ? { unsettledUseBps: a.unsettledUseBps } : {}),
      ...(k === 6 ? { limits: { maxOpenOrders: 5, collarBps: 500 } } : {}),
    })),
    firms: [{}, { limits: { maxOrdersPerSecond: 50 } }],
    calendar: new BusinessCalendar(['2026-01-07']),
    scenarioDay: parseDate('2026-01-05'),
    settlementLagDays: 1,
  };
}

interface ClearedSide {
  orderId: number;
  instrument: number;
  side: number;
  lots: number;
  cash: number;
  settleDay: number;
  settled: boolean;
}

class CheckingSink implements EventSink {
  bo: BackOffice | null = null;
  events = 0;
  readonly byType = new Map<number, number>();
  readonly rejects = new Map<number, number>();
  /** `${tradeId}:${account}:${orderId}` -> its clearing record, from the events. */
  readonly cleared = new Map<string, ClearedSide>();
  /** Trade sides announced by trade events and not yet cleared: `${tradeId}:${account}:${orderId}`. */
  private readonly expectCleared = new Set<string>();
  /** Per (account, instrument), from the events: lots cleared and not yet settled. */
  private readonly pendingLots = new Float64Array(ACCOUNTS.length * INSTRUMENTS.length);
  /** Per (account, instrument, day) `${a}:${i}:${day}`: net lots of trade-settled events. */
  private readonly settledNet = new Map<string, number>();
  emit(e: EventRecord): void {
    this.events++;
    this.byType.set(e.type, (this.byType.get(e.type) ?? 0) + 1);
    if (e.type === EventType.OrderRejected) this.rejects.set(e.reason, (this.rejects.get(e.reason) ?? 0) + 1);
    this.followClearing(e);
    if (this.bo !== null) checkLedger(this.bo, e);
    // Fees, clearing and settlement records come out one trade side at a time, after the
    // ledger moved for all of them (one transfer per trade, per account per settlement).
    const midGroup = e.type === EventType.Fee || e.type === EventType.Cleared || e.type === EventType.TradeSettled;
    if (this.bo !== null && !midGroup && this.expectCleared.size === 0) this.checkUnsettled(e);
  }

  private followClearing(e: EventRecord): void {
    const nI = INSTRUMENTS.length;
    const where = `seq ${e.seq}`;
    if (e.type === EventType.Trade) {
      this.expectCleared.add(`${e.tradeId}:${e.account}:${e.orderId}`);
      this.expectCleared.add(`${e.tradeId}:${e.makerAccount}:${e.makerOrderId}`);
    } else if (e.type === EventType.Cleared) {
      // With the order id: an account may be on both sides of a trade (no self-trade prevention here).
      const k = `${e.tradeId}:${e.account}:${e.orderId}`;
      if (!this.expectCleared.delete(k)) throw new Error(`${where}: cleared ${k} order ${e.orderId} matches no trade side`);
      if (this.cleared.has(k)) throw new Error(`${where}: trade side ${k} cleared twice`);
      const lots = e.side === Side.Buy ? e.sizeLots : -e.sizeLots;
      this.cleared.set(k, { orderId: e.orderId, instrument: e.instrument, side: e.side, lots, cash: e.amountMinor, settleDay: e.ref, settled: false });
      this.pendingLots[e.account * nI + e.instrument] += lots;
    } else if (e.type === EventType.TradeSettled) {
      const k = `${e.tradeId}:${e.account}:${e.orderId}`;
      const c = this.cleared.get(k);
      if (c === undefined || c.settled) throw new Error(`${where}: trade-settled ${k} was ${c === undefined ? 'never cleared' : 'settled already'}`);
      c.settled = true;
      const lots = e.side === Side.Buy ? e.sizeLots : -e.sizeLots;
      if (c.orderId !== e.orderId || c.side !== e.side || c.lots !== lots || c.cash !== e.amountMinor || c.instrument !== e.instrument) throw new Error(`${where}: trade-settled ${k} differs from its cleared record`);
      // A failed settlement job catches up later: never early, possibly late.
      if (e.ref < c.settleDay) throw new Error(`${where}: ${k} settled on day ${e.ref}, before its settle date ${c.settleDay}`);
      this.pendingLots[e.account * nI + e.instrument] -= lots;
      const nk = `${e.account}:${e.instrument}:${e.ref}`;
      this.settledNet.set(nk, (this.settledNet.get(nk) ?? 0) + lots);
    } else if (e.type === EventType.SecuritiesSettled) {
      const nk = `${e.account}:${e.instrument}:${e.ref}`;
      if (this.settledNet.get(nk) !== e.sizeLots) throw new Error(`${where}: securities-settled ${nk} is ${e.sizeLots}, its trades settled ${this.settledNet.get(nk)}`);
      this.settledNet.delete(nk);
    }
  }

  private checkUnsettled(e: EventRecord): void {
    const cl = this.bo!.clearing;
    for (let a = 0; a < ACCOUNTS.length; a++) {
      for (let i = 0; i < INSTRUMENTS.length; i++) {
        const fromEvents = this.pendingLots[a * INSTRUMENTS.length + i]!;
        if (cl.unsettledLots(a, i) !== fromEvents) throw new Error(`after seq ${e.seq} (${EventType[e.type]}): account ${a} instrument ${i}: ledger unsettled ${cl.unsettledLots(a, i)} lots, events ${fromEvents}`);
        if (cl.settledLots(a, i) + cl.unsettledLots(a, i) !== cl.portfolio.position(a, i)) throw new Error(`after seq ${e.seq}: settled + unsettled != position (${a}, ${i})`);
      }
    }
  }
}

function checkLedger(bo: BackOffice, e: EventRecord): void {
  const cl = bo.clearing;
  const L = cl.ledger;
  const where = `after seq ${e.seq} (${EventType[e.type]})`;
  const tb = L.trialBalance();
  if (tb.some((v) => v !== 0)) throw new Error(`ledger out of balance ${where}: ${tb.join(',')}`);
  const marks = bo.updateMarks();
  for (let a = 0; a < bo.accountCount; a++) {
    const equity = cl.equityMinor(a, marks);
    const fromPnl = cl.portfolio.accountEquityMinor(a, marks);
    if (equity !== fromPnl) throw new Error(`account ${a}: cash + positions at mark ${equity} != equity from P&L ${fromPnl} ${where}`);
    if (!bo.isMarginAccount(a) && cl.cashMinor(a) < 0) throw new Error(`cash account ${a} negative: ${cl.cashMinor(a)} ${where}`);
    // Stronger: settled cash alone (cash-available), not only settled + unsettled.
    const available = L.normalBalance(cl.cashAvailableAccount(a));
    if (!bo.isMarginAccount(a) && available < 0) throw new Error(`cash account ${a}: cash-available negative: ${available} ${where}`);
  }
  for (let i = 0; i < bo.instrumentCount; i++) {
    let sum = 0;
    for (let a = 0; a < bo.accountCount; a++) sum += cl.positionLots(a, i);
    if (sum !== 0) throw new Error(`instrument ${i}: customers' positions sum to ${sum} ${where}`);
    if (L.balance(cl.clearingSecuritiesAccount(i)) !== 0) throw new Error(`instrument ${i}: clearing securities account not flat ${where}`);
  }
}

/** `jumpChance`: per command, the chance of a price jump of up to -1/2^jumpDownShift of the mid (or up to +1/16). */
function runFlow(seed: number, commands: number, days: number, jumpChance = 0.01, jumpDownShift = 3): CheckingSink {
  const rng = rngStream(seed, 'back-office-invariants');
  const sink = new CheckingSink();
  const bo = new BackOffice(backOfficeConfig());
  const ex = new Exchange(
    { instruments: INSTRUMENTS, accounts: ACCOUNTS.map((a) => ({ name: a.name, stp: StpMode.None })), quotes: true, levels: 0, orderHooks: bo },
    sink,
  );
  bo.attach(ex);
  sink.bo = bo;
  bo.fundAccounts(0);
  const cmd = new CommandRecord();
  const liq = new CommandRecord();
  const nextClOrd = new Array<number>(ACCOUNTS.length).fill(0);
  const mid = INSTRUMENTS.map((i) => i.referencePriceTicks);
  let liqSeq = 0;
  const perDay = Math.floor(commands / days);
  const calendar = new BusinessCalendar(['2026-01-07']);
  let day = parseDate('2026-01-05');
  const first = day;
  for (let d = 0; d < days; d++) {
    const base = (day - first) * NS_PER_DAY;
    ex.openSession(base + OPEN_NS);
    let t = base + OPEN_NS + 1_000;
    for (let n = 0; n < perDay; n++) {
      t += rng.int(1, 50_000_000);
      const a = rng.int(0, ACCOUNTS.length - 1);
      const i = rng.int(0, INSTRUMENTS.length - 1);
      // A random walk with occasional jumps, so margin accounts do get into trouble.
      mid[i] = Math.max(50, mid[i]! + rng.int(-3, 3) + (rng.next() < jumpChance ? rng.int(-mid[i]! >> jumpDownShift, mid[i]! >> 4) : 0));
      const u = rng.next();
      cmd.clear();
      cmd.tsNs = t;
      cmd.instrument = i;
      cmd.account = a;
      if (u < 0.55 || nextClOrd[a] === 0) {
        cmd.type = CommandType.Submit;
        cmd.clOrdId = ++nextClOrd[a]!;
        cmd.side = rng.next() < 0.5 ? Side.Buy : Side.Sell;
        const market = u > 0.45 && u < 0.55;
        cmd.orderType = market ? OrderType.Market : OrderType.Limit;
        cmd.tif = market ? TimeInForce.IOC : TimeInForce.GTC;
        cmd.priceTicks = market ? 0 : mid[i]! + (cmd.side === Side.Buy ? -1 : 1) * rng.int(-2, 15);
        cmd.sizeLots = a < 2 ? rng.int(5, 60) : a >= 5 ? rng.int(5, 150) : rng.int(1, 25);
      } else if (u < 0.92) {
        cmd.type = CommandType.Cancel;
        cmd.clOrdId = rng.int(1, nextClOrd[a]!);
      } else {
        cmd.type = CommandType.Modify;
        cmd.clOrdId = rng.int(Math.max(1, nextClOrd[a]! - 5), nextClOrd[a]!);
        cmd.priceTicks = mid[i]! + rng.int(-10, 10);
        cmd.sizeLots = rng.int(1, 10);
      }
      ex.apply(cmd);
      // Intraday liquidation, as the run component does it (bounded rounds).
      for (let round = 0; round < 4; round++) {
        const victims = bo.accountsToLiquidate();
        if (victims.length === 0) break;
        for (const v of victims) {
          const plan = bo.planLiquidation(v);
          if (plan.length === 0) continue;
          bo.announceLiquidation(t, v);
          for (const o of plan) bo.submitLiquidation(t, v, o, LIQUIDATION_CLORDID_BASE + ++liqSeq, (c) => ex.apply(c), liq);
        }
      }
      for (let k = 0; k < ACCOUNTS.length; k++) {
        for (let j = 0; j < INSTRUMENTS.length; j++) {
          const p = bo.clearing.positionLots(k, j);
          if (p !== bo.clearing.portfolio.position(k, j) || p !== bo.risk.position(k, j)) {
            throw new Error(`seed ${seed}: account ${k} instrument ${j}: ledger ${p}, portfolio ${bo.clearing.portfolio.position(k, j)}, risk ${bo.risk.position(k, j)}`);
          }
        }
      }
    }
    ex.closeSession(base + CLOSE_NS);
    const run = bo.jobs.begin(day, base + CLOSE_NS);
    expect(run.done, `seed ${seed}: end-of-day jobs finished`).toBe(true);
    day = calendar.nextBusinessDay(day);
  }
  bo.clearing.ledger.checkConsistency();
  return sink;
}

describe('back office through the real exchange', () => {
  for (const seed of [1, 2, 3]) {
    it(`keeps the ledger, equity, cash and positions invariants after every event (seed ${seed})`, () => {
      let sink: CheckingSink;
      try {
        sink = runFlow(seed, 2_400, 3);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
      // The flow must exercise what it claims to check.
      expect(sink.byType.get(EventType.Trade) ?? 0, `seed ${seed}`).toBeGreaterThan(200);
      expect(sink.byType.get(EventType.Fee) ?? 0, `seed ${seed}`).toBeGreaterThan(100);
      expect(sink.byType.get(EventType.CashSettled) ?? 0, `seed ${seed}`).toBeGreaterThan(0);
      // Every trade side cleared once; the days' trades (all but the last day's) settled.
      expect(sink.byType.get(EventType.Cleared), `seed ${seed}`).toBe(2 * sink.byType.get(EventType.Trade)!);
      expect(sink.byType.get(EventType.TradeSettled) ?? 0, `seed ${seed}`).toBeGreaterThan(100);
      expect(sink.byType.get(EventType.SecuritiesSettled) ?? 0, `seed ${seed}`).toBeGreaterThan(0);
      const unsettled = [...sink.cleared.values()].filter((c) => !c.settled);
      expect(unsettled.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(new Set(unsettled.map((c) => c.settleDay)).size, `seed ${seed}: only the last day's trades wait`).toBe(1);
      expect(sink.rejects.get(RejectReason.ShortPositionLimit) ?? 0, `seed ${seed}`).toBeGreaterThan(0);
      const riskRejects = [...sink.rejects.entries()].filter(([r]) => r >= RejectReason.KillSwitch).reduce((s, [, n]) => s + n, 0);
      expect(riskRejects, `seed ${seed}`).toBeGreaterThan(10);
    });
  }

  it('liquidates a margin account whose equity falls below maintenance, through the book', () => {
    let liquidations = 0;
    // Margin accounts can always close (pre-trade risk asks no margin of closing orders), so
    // they seldom drift under maintenance on small moves: crashes of up to 1/4 make them.
    for (const seed of [1, 2, 3, 4, 5, 6]) liquidations += runFlow(seed, 1_200, 2, 0.02, 2).byType.get(EventType.LiquidationOrder) ?? 0;
    expect(liquidations).toBeGreaterThan(0);
  });

  it('counts an unsettled purchase in full against withdrawals and buying power, not netted against a later sale', () => {
    // c2 (cash, half of unsettled proceeds usable) buys 50 ACME on Monday (pays Tuesday) and
    // sells them on Tuesday (paid Thursday: Wednesday is a holiday). On Tuesday the purchase
    // is owed before the sale pays, so neither a withdrawal nor a buy may use the sale's
    // proceeds to cover it; the ledger's net unsettled cash (+, a receivable) would hide it.
    const cfg = backOfficeConfig();
    const bo = new BackOffice(cfg);
    const events: EventRecord[] = [];
    const ex = new Exchange({ instruments: INSTRUMENTS, accounts: ACCOUNTS.map((a) => ({ name: a.name, stp: StpMode.None })), quotes: false, levels: 0, orderHooks: bo }, { emit: (e) => void events.push(e) });
    bo.attach(ex);
    bo.fundAccounts(0);
    const C2 = 4;
    const c = new CommandRecord();
    const order = (ts: number, account: number, clOrdId: number, side: Side, price: number, lots: number): void => ex.apply(limitOrder(c, ts, account, clOrdId, side, price, lots));
    const mon = cfg.scenarioDay;
    const endOfDay = (d: number): void => {
      const t = (d - mon) * NS_PER_DAY + CLOSE_NS;
      ex.closeSession(t);
      expect(bo.jobs.begin(d, t).done).toBe(true);
    };
    ex.openSession(OPEN_NS);
    order(OPEN_NS + 1, 0, 1, Side.Sell, 10_000, 50);
    order(OPEN_NS + 2, C2, 1, Side.Buy, 10_000, 50);
    endOfDay(mon);
    const tue = NS_PER_DAY;
    ex.openSession(tue + OPEN_NS);
    order(tue + OPEN_NS + 1, 1, 1, Side.Buy, 10_200, 50);
    order(tue + OPEN_NS + 2, C2, 2, Side.Sell, 10_200, 50);
    const cl = bo.clearing;
    const pay = cl.unsettledPayableMinor(C2);
    const recv = cl.unsettledReceivableMinor(C2);
    expect(pay).toBe(500_025); // 50 x 100.00 and the 0.5 bp taker fee
    expect(recv).toBe(509_974); // 50 x 102.00 less the 0.5 bp taker fee (25.50, rounded up)
    expect(cl.unsettledCashMinor(C2)).toBe(recv - pay);
    const available = 1_000_000;
    expect(cl.settledCashMinor(C2)).toBe(available);
    expect(bo.withdrawableMinor(C2)).toBe(available - pay);
    // Buying power: settled + half the receivable - the payable, at 10_001 a lot (100.00 and the fee reserve).
    const bp = available + Math.floor(recv / 2) - pay;
    const lots = Math.floor(bp / 10_001);
    expect(lots).toBe(75); // netted, it would have been floor((available + (recv - pay) / 2) / 10_001) = 100
    const ts = tue + OPEN_NS + 3;
    expect(bo.risk.check(C2, 0, Side.Buy, 10_000, lots, ts)).toBe(0);
    expect(bo.risk.check(C2, 0, Side.Buy, 10_000, lots + 1, ts)).toBe(RejectReason.InsufficientBuyingPower);
    // Tuesday's settlement pays the purchase from settled cash: what was withdrawable is left.
    endOfDay(mon + 1);
    expect(cl.unsettledPayableMinor(C2)).toBe(0);
    expect(cl.settledCashMinor(C2)).toBe(available - pay);
    expect(bo.withdrawableMinor(C2)).toBe(available - pay);
  });

  it('with no hooks the exchange produces the same events as before (risk absent)', () => {
    const run = (hooks: boolean): string[] => {
      const lines: string[] = [];
      const base = backOfficeConfig();
      const bo = new BackOffice({ ...base, firms: [{}, {}], accounts: base.accounts.map((a) => ({ name: a.name, currency: 0, firm: a.firm, type: 'margin' as const, depositMinor: 1e12 })) });
      const ex = new Exchange(
        { instruments: INSTRUMENTS, accounts: ACCOUNTS.map((a) => ({ name: a.name, stp: StpMode.None })), quotes: true, levels: 0, ...(hooks ? { orderHooks: bo } : {}) },
        { emit: (e) => { if (e.type < 20) lines.push(`${e.type}:${e.orderId}:${e.priceTicks}:${e.sizeLots}:${e.leavesLots}:${e.reason}`); } },
      );
      bo.attach(ex);
      if (hooks) bo.fundAccounts(0);
      ex.openSession(OPEN_NS);
      const rng = rngStream(9, 'same-events');
      const c = new CommandRecord();
      for (let n = 1; n <= 500; n++) {
        // Drawn in this order (account, side, price, size), as before the helper.
        const account = rng.int(0, ACCOUNTS.length - 1);
        const side = rng.int(0, 1) as Side;
        const price = 10_000 + rng.int(-5, 5);
        ex.apply(limitOrder(c, OPEN_NS + n, account, n, side, price, rng.int(1, 5)));
      }
      return lines;
    };
    // Rich margin accounts without limits pass every check, so the venue's own events are identical.
    expect(run(true)).toEqual(run(false));
  });
});
