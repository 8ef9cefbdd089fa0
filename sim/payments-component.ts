import { InvariantError } from '../engine/assert.js';
import type { BackOffice } from '../engine/back-office.js';
import { PaymentsSystem } from './payments.js';
import { writePaymentsOutputs } from './payments-output.js';
import type { RunComponent } from './run.js';
import type { Scenario } from './scenario.js';

/**
 * The payments back office as a run component: owns a PaymentsSystem, schedules requests and
 * daily jobs on the run's virtual clock, publishes through the exchange so seq stays one
 * sequence, and writes payments.sqlite, recon.csv and recon.json into the run directory.
 *
 * One ledger: when the scenario also has a back office (accounts trading on cash), payments
 * post to the back office's Clearing, so deposits fund buying power, a return's deficit is
 * what risk sees, and withdrawals are checked against what open orders and unsettled
 * purchases leave free. Without one, the payments system owns a Clearing of its own.
 */
export function paymentsComponent(sc: Scenario, backOffice: BackOffice | null = null): RunComponent | null {
  const cfg = sc.payments;
  if (cfg === null) return null;
  let system: PaymentsSystem | null = null;
  return {
    name: 'payments',
    start(ctx) {
      const accounts = sc.accounts.map((a) => a.name);
      const schedule = { schedule: (t: number, fire: (t: number) => void) => ctx.schedule(t, fire) };
      system =
        backOffice === null
          ? new PaymentsSystem(cfg, accounts, sc.seed, schedule, ctx.exchange)
          : new PaymentsSystem(cfg, accounts, sc.seed, schedule, ctx.exchange, backOffice.clearing, (a) => backOffice.withdrawableMinor(a));
      system.start();
    },
    finish(_ctx, runDir, extra) {
      if (system === null) throw new InvariantError('payments: finish before start');
      system.clearing.ledger.checkConsistency();
      extra.payments = system.summary();
      writePaymentsOutputs(system, runDir, sc.name, sc.seed);
    },
  };
}
