import { BackOffice, LIQUIDATION_CLORDID_BASE } from '../engine/back-office.js';
import { BusinessCalendar } from '../engine/calendar.js';
import { CommandRecord, CommandType } from '../engine/command.js';
import { EventType, type EventRecord } from '../engine/event.js';
import type { RunComponent, RunContext } from './run.js';
import type { Scenario } from './scenario.js';
import { accountsReport, writeAccountsFiles } from './sinks/accounts-report.js';

/**
 * The back office in a run: builds engine/back-office.ts from the scenario, hands it to the
 * exchange as its order hooks, and drives it on the virtual clock:
 * - the initial deposits at time 0 (before the first open);
 * - the scenario's kill switches and mark-feed prices, each audited as an action;
 * - after each session close, the end-of-day jobs (mark to market -> margin calls ->
 *   settlement -> statements), with retries on the virtual clock;
 * - intraday, after any trade, a check of every margin account: equity below maintenance
 *   starts a liquidation whose IOC market orders go through the book from a timer (never from
 *   inside the exchange's emit), every step an event. A feed mark moves equity without a
 *   trade, so it is followed by the same check.
 * At the end it writes positions.json, pnl.json and ledger.sqlite, and adds the accounts'
 * figures to summary.json.
 */

/** Liquidation rounds per account per day: a market with no bids must not loop forever. */
export const LIQUIDATION_ROUNDS_MAX = 8;

export interface BackOfficeComponent extends RunComponent {
  readonly backOffice: BackOffice;
}

export function buildBackOffice(sc: Scenario): BackOffice {
  const spec = sc.backOffice;
  if (spec === null) throw new Error(`${sc.name}: the scenario has no back office`);
  // Own fills on a replayed instrument have the recorded market as counterparty: the street accounts.
  const replayed = new Set(sc.feeds.filter((f) => f.kind !== 'synthetic').map((f) => f.instrument));
  return new BackOffice({
    currencies: spec.currencies,
    instruments: spec.instruments.map((ins, i) => (replayed.has(i) ? { ...ins, street: true } : ins)),
    accounts: spec.accounts,
    firms: spec.firms,
    calendar: new BusinessCalendar(spec.holidays),
    scenarioDay: spec.scenarioDay,
    settlementLagDays: spec.settlementDays,
    jobRetryNs: spec.jobRetryNs,
    jobMaxAttempts: spec.jobMaxAttempts,
    jobFaults: spec.jobFaults,
  });
}

export function backOfficeComponent(sc: Scenario): BackOfficeComponent {
  const bo = buildBackOffice(sc);
  const spec = sc.backOffice!;
  let ctx: RunContext | null = null;
  let checkPending = false;
  let liquidationSeq = 0;
  const rounds = new Int32Array(bo.accountCount);
  const cmd = new CommandRecord();

  const runEod = (day: number, t: number): void => {
    rounds.fill(0);
    const run = bo.jobs.begin(day, t);
    const again = (at: number): void => {
      if (at < 0) return;
      ctx!.schedule(at, (now) => again(run.advance(now)));
    };
    again(run.nextWakeNs);
  };

  const checkMargin = (t: number): void => {
    checkPending = false;
    const c = ctx!;
    if (!c.exchange.isOpen) return;
    for (const a of bo.accountsToLiquidate()) {
      if (rounds[a]! >= LIQUIDATION_ROUNDS_MAX) continue;
      const plan = bo.planLiquidation(a);
      if (plan.length === 0) continue;
      rounds[a]!++;
      bo.announceLiquidation(t, a);
      for (const o of plan) bo.submitLiquidation(t, a, o, LIQUIDATION_CLORDID_BASE + ++liquidationSeq, (x) => c.apply(x), cmd);
    }
  };

  /** A kill switch also pulls the accounts' open orders (resting and pending stops), oldest first. */
  const cancelOpenOrders = (c: RunContext, t: number, hit: (account: number) => boolean): void => {
    const ex = c.exchange;
    for (let i = 0; i < sc.instruments.length; i++) {
      const l3 = ex.snapshotL3(i);
      const ids = [...l3.bids, ...l3.asks].filter((o) => hit(o.account)).map((o) => ({ id: o.orderId, account: o.account }));
      for (const id of ex.pendingStops(i)) {
        const a = ex.accountOf(id);
        if (hit(a)) ids.push({ id, account: a });
      }
      ids.sort((x, y) => x.id - y.id);
      for (const o of ids) {
        cmd.clear();
        cmd.type = CommandType.Cancel;
        cmd.tsNs = t;
        cmd.instrument = i;
        cmd.account = o.account;
        cmd.clOrdId = ex.clOrdIdOf(o.id);
        c.apply(cmd);
      }
    }
  };

  return {
    name: 'accounts',
    backOffice: bo,
    orderHooks: bo,
    start(c) {
      ctx = c;
      bo.attach(c.exchange);
      c.schedule(0, (t) => bo.fundAccounts(t));
      for (const k of spec.killSwitches) {
        c.schedule(k.atNs, (t) => {
          c.exchange.noteAction(t, k.index, k.account, 0);
          if (k.firm >= 0) bo.setFirmKillSwitch(t, k.firm, k.on);
          else bo.setAccountKillSwitch(t, k.account, k.on);
          if (k.on) cancelOpenOrders(c, t, k.firm >= 0 ? (a) => spec.accounts[a]!.firm === k.firm : (a) => a === k.account);
        });
      }
      for (const m of spec.marks) {
        c.schedule(m.atNs, (t) => {
          c.exchange.noteAction(t, m.index, -1, 0);
          bo.setFeedMark(t, m.instrument, m.priceTicks);
          if (checkPending || !bo.anyMarginAccount) return;
          checkPending = true;
          c.schedule(t, checkMargin);
        });
      }
      for (const s of sc.sessions) c.schedule(s.closeNs, (t) => runEod(s.day, t));
    },
    onEvent(e: EventRecord) {
      // Equity moves with trades, own fills and prints of a recorded market, and payments (an ACH return).
      const moves = e.type === EventType.Trade || e.type === EventType.Fill || e.type === EventType.MarketTrade || e.type === EventType.PaymentState;
      if (!moves || checkPending || !bo.anyMarginAccount) return;
      checkPending = true;
      ctx!.schedule(e.tsNs, checkMargin);
    },
    finish(_c, runDir, extra) {
      bo.clearing.ledger.checkConsistency();
      const report = accountsReport(sc, bo);
      writeAccountsFiles(runDir, sc, bo, report);
      extra['accounts'] = report.summary;
    },
  };
}
