import { InvariantError } from '../engine/assert.js';
import { PaymentsSystem } from './payments.js';
import { writePaymentsOutputs } from './payments-output.js';
import type { RunComponent } from './run.js';
import type { Scenario } from './scenario.js';

/**
 * The payments back office as a run component: owns a PaymentsSystem (and, until the
 * accounts work is merged, its own Clearing), schedules requests and daily jobs on the
 * run's virtual clock, publishes through the exchange so seq stays one sequence, and writes
 * payments.sqlite, recon.csv and recon.json into the run directory.
 */
export function paymentsComponent(sc: Scenario): RunComponent | null {
  const cfg = sc.payments;
  if (cfg === null) return null;
  let system: PaymentsSystem | null = null;
  return {
    name: 'payments',
    start(ctx) {
      system = new PaymentsSystem(cfg, sc.accounts.map((a) => a.name), sc.seed, { schedule: (t, fire) => ctx.schedule(t, fire) }, ctx.exchange);
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
