import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar, dayOfTs, formatDate, NS_PER_DAY, parseDate, tsOfDay } from './calendar.js';
import { Clearing, type ClearingConfig } from './clearing.js';
import { JobScheduler } from './jobs.js';
import { TransferCode } from './ledger.js';
import { equityTerms, futureTerms, Margin } from './margin.js';
import { MinorAmount, notionalRule } from './money.js';
import { Risk } from './risk.js';
import { Side } from './types.js';

const USD = { code: 'USD', minorExponent: 2 };

function config(accounts: number, holidays: string[] = []): ClearingConfig {
  const r1 = notionalRule('0.01', '1', 2);
  const r2 = notionalRule('0.1', '0.001', 2); // inexact: notional rounds
  return {
    currencies: [USD],
    instruments: [
      { symbol: 'AAPL', currency: 0, num: r1.num, den: r1.den, isFuture: false, makerBps: -0.2, takerBps: 0.5 },
      { symbol: 'BTC', currency: 0, num: r2.num, den: r2.den, isFuture: false, makerBps: 1, takerBps: 2 },
    ],
    accounts: Array.from({ length: accounts }, (_, a) => ({ name: `acct${a}`, currency: 0, firm: a % 3 })),
    calendar: new BusinessCalendar(holidays),
    scenarioDay: parseDate('2024-07-03'), // a Wednesday before a holiday
  };
}

describe('clearing', () => {
  it('posts a trade as one balanced transfer and settles T+1 across a holiday and a weekend', () => {
    const c = new Clearing(config(2, ['2024-07-04']));
    c.deposit(0, 0, 1_000_000);
    c.deposit(0, 1, 1_000_000);
    const before = c.ledger.transferCount;
    // Wednesday: acct0 lifts acct1's offer, 100 lots at 150.00.
    c.onTrade(10, 1, 0, 0, 1, Side.Buy, 15_000, 100);
    expect(c.ledger.transferCount).toBe(before + 1);
    expect(c.lastTakerFeeMinor).toBe(75); // 1_500_000 * 0.5bp
    expect(c.lastMakerFeeMinor).toBe(-30);
    expect(c.unsettledCashMinor(0)).toBe(-1_500_075);
    expect(c.unsettledCashMinor(1)).toBe(1_500_030);
    expect([c.unsettledReceivableMinor(0), c.unsettledPayableMinor(0)]).toEqual([0, 1_500_075]);
    expect([c.unsettledReceivableMinor(1), c.unsettledPayableMinor(1)]).toEqual([1_500_030, 0]);
    expect(c.positionLots(0, 0)).toBe(100);
    expect(c.positionLots(1, 0)).toBe(-100);
    expect(c.ledger.normalBalance(c.feesAccount(0))).toBe(45);
    // Friday: acct1 buys back 40 as taker.
    const fri = tsOfDay(parseDate('2024-07-03'), parseDate('2024-07-05'), 1_000);
    c.onTrade(fri, 2, 0, 1, 0, Side.Buy, 15_100, 40);
    c.ledger.checkConsistency();
    // acct1 now owes for Friday's buy and is owed for Wednesday's sale: the two legs stay
    // apart (the ledger's cash-unsettled holds only their net).
    const friBuy = -c.lastTakerCashMinor;
    const friSale = c.lastMakerCashMinor;
    expect(friBuy).toBe(604_031); // 604_000 + ceil(30.2)
    expect([c.unsettledReceivableMinor(1), c.unsettledPayableMinor(1)]).toEqual([1_500_030, friBuy]);
    expect(c.unsettledCashMinor(1)).toBe(1_500_030 - friBuy);
    expect([c.unsettledReceivableMinor(0), c.unsettledPayableMinor(0)]).toEqual([friSale, 1_500_075]);
    const s = parseDate('2024-07-03');
    expect(c.settle(0, parseDate('2024-07-04'))).toBe(0); // nothing due on the holiday
    expect(c.settle(0, parseDate('2024-07-05'))).toBe(2); // Wednesday's trade: T+1 is Friday
    expect([c.unsettledReceivableMinor(1), c.unsettledPayableMinor(1)]).toEqual([0, friBuy]);
    expect([c.unsettledReceivableMinor(0), c.unsettledPayableMinor(0)]).toEqual([friSale, 0]);
    expect(c.settledCashMinor(0)).toBe(1_000_000 - 1_500_075);
    expect(c.pendingObligations).toBe(2);
    expect(c.settle(0, parseDate('2024-07-06'))).toBe(0); // Friday's trade settles Monday
    expect(c.settle(0, parseDate('2024-07-08'))).toBe(2);
    expect(c.unsettledCashMinor(0)).toBe(0);
    expect(c.unsettledCashMinor(1)).toBe(0);
    expect(dayOfTs(s, fri)).toBe(parseDate('2024-07-05'));
    const codes = new Set<number>();
    c.ledger.forEachEntry((_t, _ts, code) => codes.add(code));
    expect([...codes].sort()).toEqual([TransferCode.Deposit, TransferCode.Trade, TransferCode.Settlement].sort());
    c.ledger.checkConsistency();
    const marks = [15_200, 1];
    for (const a of [0, 1]) expect(c.equityMinor(a, marks)).toBe(c.portfolio.accountEquityMinor(a, marks));
  });

  it('delivers securities on the ledger at T+N: unsettled holding at the trade, settled holding on the day, each trade side visited', () => {
    const c = new Clearing(config(2, ['2024-07-04']));
    c.deposit(0, 0, 10_000_000);
    c.deposit(0, 1, 10_000_000);
    c.onTrade(10, 7, 0, 0, 1, Side.Buy, 15_000, 100, 501, 402); // Wednesday: settles Friday
    expect([c.lastTakerCashMinor, c.lastMakerCashMinor]).toEqual([-1_500_075, 1_500_030]);
    expect(formatDate(c.lastSettleDay)).toBe('2024-07-05');
    const fri = tsOfDay(parseDate('2024-07-03'), parseDate('2024-07-05'), 1_000);
    c.onTrade(fri, 8, 0, 1, 0, Side.Buy, 15_100, 40, 403, 502); // acct1 buys 40 back: settles Monday
    for (const [a, settled, unsettled] of [[0, 0, 60], [1, 0, -60]] as const) {
      expect(c.settledLots(a, 0)).toBe(settled);
      expect(c.unsettledLots(a, 0)).toBe(unsettled);
      expect(c.ledger.normalBalance(c.unsettledSecuritiesAccount(a, 0))).toBe(unsettled);
      expect(c.ledger.normalBalance(c.securitiesAccount(a, 0))).toBe(settled);
    }
    expect(c.ledger.accountName(c.unsettledSecuritiesAccount(0, 0))).toBe('acct0:AAPL:unsettled');
    const seen: string[] = [];
    const visit = (a: number, i: number, trade: number, order: number, side: Side, lots: number, cash: number) => {
      // Visited after the transfer: the ledger already shows the delivery.
      seen.push(`${a}:${i}:${trade}:${order}:${side === Side.Buy ? 'B' : 'S'}:${lots}:${cash}:${c.settledLots(a, i)}`);
    };
    const transfers = c.ledger.transferCount;
    expect(c.settle(99, parseDate('2024-07-05'), visit)).toBe(2);
    expect(seen).toEqual(['0:0:7:501:B:100:-1500075:100', '1:0:7:402:S:-100:1500030:-100']);
    // One settlement transfer per account, cash and securities together.
    expect(c.ledger.transferCount).toBe(transfers + 2);
    expect([c.settledLots(0, 0), c.unsettledLots(0, 0), c.positionLots(0, 0)]).toEqual([100, -40, 60]);
    seen.length = 0;
    expect(c.settle(100, parseDate('2024-07-08'), visit)).toBe(2);
    expect(seen).toEqual(['1:0:8:403:B:40:-604031:-60', '0:0:8:502:S:-40:604012:60']);
    for (const a of [0, 1]) {
      expect(c.unsettledLots(a, 0)).toBe(0);
      expect(c.unsettledCashMinor(a)).toBe(0);
    }
    let securityLegs = 0;
    c.ledger.forEachEntry((_t, _ts, code, _ref, account) => {
      if (code === TransferCode.Settlement && (account === c.securitiesAccount(0, 0) || account === c.unsettledSecuritiesAccount(0, 0))) securityLegs++;
    });
    expect(securityLegs).toBe(4);
    c.ledger.checkConsistency();
  });

  it('never delivers a future: its lots go straight to the position and settle as 0 lots (only the fee is cash)', () => {
    const cfg = config(2);
    const es = notionalRule('0.25', '1', 2, '50');
    const c = new Clearing({ ...cfg, instruments: [{ symbol: 'ES', currency: 0, num: es.num, den: es.den, isFuture: true, makerBps: 0, takerBps: 1 }] });
    c.onTrade(1, 1, 0, 0, 1, Side.Buy, 20_000, 2, 11, 12);
    expect(c.unsettledSecuritiesAccount(0, 0)).toBe(-1);
    expect([c.settledLots(0, 0), c.unsettledLots(0, 0)]).toEqual([2, 0]);
    const seen: number[][] = [];
    c.settle(5, cfg.scenarioDay + 1, (a, _i, _t, o, _s, lots, cash) => seen.push([a, o, lots, cash]));
    expect(seen).toEqual([[0, 11, 0, -c.lastTakerFeeMinor], [1, 12, 0, 0]]);
    expect(c.lastTakerFeeMinor).toBeGreaterThan(0);
  });

  it('pays futures variation margin from clearing to the account', () => {
    const cfg = config(2);
    const es = notionalRule('0.25', '1', 2, '50');
    const c = new Clearing({ ...cfg, instruments: [{ symbol: 'ES', currency: 0, num: es.num, den: es.den, isFuture: true, makerBps: 0, takerBps: 0 }] });
    c.deposit(0, 0, 1_000_000);
    c.deposit(0, 1, 1_000_000);
    c.onTrade(1, 1, 0, 0, 1, Side.Buy, 20_000, 2); // 2 contracts at 5000.00
    expect(c.cashMinor(0)).toBe(1_000_000);
    expect(c.variationMargin(2, 0, 0, 20_004)).toBe(2 * 4 * 1250);
    expect(c.variationMargin(2, 1, 0, 20_004)).toBe(-2 * 4 * 1250);
    expect(c.settledCashMinor(0)).toBe(1_010_000);
    expect(c.ledger.normalBalance(c.clearingCashAccount(0))).toBe(0);
    expect(c.equityMinor(0, [20_004])).toBe(c.portfolio.accountEquityMinor(0, [20_004]));
    // The margin check of a future: a fixed amount a contract, and the variation margin in the cash, not the mark.
    const m = new Margin(c, [futureTerms(600_000, 500_000)]);
    for (const a of [0, 1]) {
      const excess = c.equityMinor(a, [20_004]) - 2 * 600_000;
      expect(m.initialExcessMinor(a, [20_004])).toBe(excess);
      expect([m.initialExcessCovers(a, [20_004], new MinorAmount(excess)), m.initialExcessCovers(a, [20_004], new MinorAmount(excess + 1))]).toEqual([true, false]);
    }
    c.ledger.checkConsistency();
  });
});

describe('margin', () => {
  it('computes Reg T requirements, calls and a largest-first liquidation plan', () => {
    const c = new Clearing(config(2));
    const m = new Margin(c, [equityTerms(), equityTerms(5_000, 3_000)]);
    c.deposit(0, 0, 1_000_000); // $10,000
    c.deposit(0, 1, 100_000_000);
    c.onTrade(0, 1, 0, 0, 1, Side.Buy, 10_000, 150); // $15,000 of AAPL on $10,000 equity
    c.onTrade(0, 2, 1, 0, 1, Side.Buy, 100_000, 100); // 0.1 BTC at 10000.0: $1,000
    const marks = [10_000, 100_000];
    const eq = c.equityMinor(0, marks);
    expect(eq).toBe(1_000_000 - 75 - 20); // taker fees: 0.5bp of $15,000 and 2bp of $1,000
    expect(m.initialRequirementMinor(0, marks)).toBe(750_000 + 50_000);
    expect(m.maintenanceRequirementMinor(0, marks)).toBe(375_000 + 30_000);
    expect(m.needsLiquidation(0, marks)).toBe(false);
    // AAPL falls to 40.00: equity 1_000_000 - 900_000 - fees; maintenance 25% of 600_000 = 150_000.
    const crash = [4_000, 100_000];
    expect(m.needsLiquidation(0, crash)).toBe(true);
    const equity = c.equityMinor(0, crash);
    expect(m.marginCallMinor(0, crash)).toBe(m.initialRequirementMinor(0, crash) - equity);
    const plan = m.planLiquidation(0, crash);
    expect(plan[0]).toMatchObject({ instrument: 0, side: Side.Sell });
    // Selling the planned lots at the mark brings the account back to maintenance, one lot less would not.
    const lots = plan[0]!.sizeLots;
    const reqAfter = (n: number) => m.requirementOfLots(0, 150 - n, 4_000, false) + m.requirementOfLots(1, 100, 100_000, false);
    expect(equity >= reqAfter(lots)).toBe(true);
    expect(equity >= reqAfter(lots - 1)).toBe(false);
  });
});

function randomRun(seed: string) {
  const rng = seedrandom(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const nA = 6;
  const cfg = config(nA, ['2024-07-04', '2024-07-10']);
  const c = new Clearing(cfg);
  const margin = new Margin(c, [equityTerms(), equityTerms()]);
  const marks = [10_000, 200_000];
  const isCash = (a: number) => a < 4;
  const risk = new Risk(
    {
      instruments: [0, 1].map((i) => ({
        num: cfg.instruments[i]!.num,
        den: cfg.instruments[i]!.den,
        referencePriceTicks: marks[i]!,
        feeReserveCentiBps: c.fees.maxRateCentiBps(i),
        initialPerLotMinor: (p: number) => margin.initialPerLotMinor(i, p),
      })),
      accounts: Array.from({ length: nA }, (_, a) => ({ firm: a % 3, type: isCash(a) ? ('cash' as const) : ('margin' as const), unsettledUseBps: a === 1 ? 10_000 : 0, limits: { collarBps: 1_000 } })),
      firms: [{}, {}, {}],
    },
    {
      buyingPowerCovers: (a, useBps, amount) => c.buyingPowerCovers(a, useBps, amount),
      marginExcessCovers: (a, amount) => margin.initialExcessMinor(a, marks) >= amount.minor,
    },
  );
  for (let a = 0; a < nA; a++) c.deposit(0, a, 2_000_000 + int(5_000_000));
  const audit: string[] = [];
  const jobs = new JobScheduler({ baseBackoffNs: 60_000_000_000, onAttempt: (x) => audit.push(`${x.job}:${x.outcome}`) });
  let flaky = 0;
  jobs.register('mark-to-market', [], (day) => void c.portfolio.snapshot(day, marks));
  jobs.register('settlement', ['mark-to-market'], (day, _attempt, now) => {
    if (rng() < 0.3) {
      flaky++;
      return false;
    }
    c.settle(now, day);
    return true;
  }, 10);

  const check = (step: string) => {
    c.ledger.checkConsistency();
    let sumCash = 0;
    for (let a = 0; a < nA; a++) {
      expect(c.equityMinor(a, marks), `${step}: equity of ${a}`).toBe(c.portfolio.accountEquityMinor(a, marks));
      if (isCash(a)) {
        expect(c.ledger.normalBalance(c.cashAvailableAccount(a)), `${step}: available cash of ${a}`).toBeGreaterThanOrEqual(0);
        expect(c.cashMinor(a), `${step}: cash of ${a}`).toBeGreaterThanOrEqual(0);
      }
      sumCash += c.cashMinor(a);
      const recv = c.unsettledReceivableMinor(a);
      const pay = c.unsettledPayableMinor(a);
      expect(recv >= 0 && pay >= 0, `${step}: unsettled legs of ${a}`).toBe(true);
      expect(recv - pay, `${step}: unsettled legs of ${a} net to the ledger's`).toBe(c.unsettledCashMinor(a));
      // Risk's allocation-free margin check answers as the excess it compares with.
      const excess = margin.initialExcessMinor(a, marks);
      expect([margin.initialExcessCovers(a, marks, new MinorAmount(excess)), margin.initialExcessCovers(a, marks, new MinorAmount(excess + 1))], `${step}: margin check of ${a}`).toEqual([true, false]);
    }
    expect(sumCash + c.ledger.normalBalance(c.feesAccount(0))).toBe(c.ledger.balance(c.bankAccount(0)));
    for (let i = 0; i < 2; i++) {
      let sum = 0;
      for (let a = 0; a < nA; a++) {
        expect(c.positionLots(a, i)).toBe(c.portfolio.position(a, i));
        expect(risk.position(a, i)).toBe(c.portfolio.position(a, i));
        sum += c.positionLots(a, i);
      }
      expect(sum, `${step}: customers' ${i} positions`).toBe(0);
      expect(c.ledger.balance(c.clearingSecuritiesAccount(i))).toBe(0);
    }
  };

  let trades = 0;
  let rejects = 0;
  const t0Day = cfg.scenarioDay;
  for (let d = 0; d < 16; d++) {
    const day = t0Day + d;
    if (!cfg.calendar.isBusinessDay(day)) continue;
    const tradesToday = 20 + int(20);
    for (let k = 0; k < tradesToday; k++) {
      const ts = tsOfDay(t0Day, day, 32_400_000_000_000 + Math.floor((25_200_000_000_000 * k) / tradesToday));
      const i = int(2);
      marks[i] = Math.max(10, marks[i]! + int(201) - 100);
      risk.setReferencePrice(i, marks[i]!);
      const taker = int(nA);
      const maker = int(nA);
      const takerSide = int(2) === 0 ? Side.Buy : Side.Sell;
      const makerSide = takerSide === Side.Buy ? Side.Sell : Side.Buy;
      const price = marks[i]! + int(11) - 5;
      const size = 1 + int(i === 0 ? 100 : 5_000);
      const rm = risk.check(maker, i, makerSide, price, size, ts);
      if (rm !== 0) {
        rejects++;
        continue;
      }
      risk.onAccepted(maker, i, makerSide, price, size);
      const rt = risk.check(taker, i, takerSide, price, size, ts);
      if (rt !== 0) {
        risk.onCancelled(maker, i, makerSide, price, size, 0);
        rejects++;
        continue;
      }
      risk.onAccepted(taker, i, takerSide, price, size);
      c.onTrade(ts, ++trades, i, taker, maker, takerSide, price, size);
      risk.onFilled(maker, i, makerSide, price, size, 0);
      risk.onFilled(taker, i, takerSide, price, size, 0);
      check(`${formatDate(day)} trade ${trades}`);
    }
    const run = jobs.begin(day, tsOfDay(t0Day, day, 17 * 3_600_000_000_000));
    while (run.nextWakeNs >= 0) run.advance(run.nextWakeNs);
    check(`${formatDate(day)} end of day`);
  }
  c.settle(tsOfDay(t0Day, t0Day + 30), t0Day + 30);
  check('final');
  for (let a = 0; a < nA; a++) {
    expect(c.unsettledCashMinor(a)).toBe(0);
    expect([c.unsettledReceivableMinor(a), c.unsettledPayableMinor(a)]).toEqual([0, 0]);
  }
  return { trades, rejects, flaky, audit };
}

describe('back office invariants under random trading', () => {
  for (const seed of ['1', '2', '3', 'exsim', 'settle-42']) {
    it(`seed ${seed}`, () => {
      try {
        const r = randomRun(seed);
        expect(r.trades).toBeGreaterThan(40);
        expect(r.rejects).toBeGreaterThan(0);
      } catch (e) {
        console.error(`back-office invariant test failed with seed ${JSON.stringify(seed)}`);
        throw e;
      }
    });
  }
});
