/**
 * Fraud and compliance rules on payment requests. Every rule that fires adds its score;
 * the first blocking rule in priority order decides, and the decision names it (audited as a
 * fraud-decision event). An alert is raised when the total score reaches `alertScore`.
 *
 * Rules (priority order):
 * 1. kyc: withdrawals need KYC "verified"; a "rejected" account cannot deposit either.
 * 2. amount-limit: one request above the per-direction limit.
 * 3. velocity: more accepted deposits in one day than `maxDepositsPerDay`.
 * 4. new-account: an account younger than `newAccountDays` cannot withdraw, and its deposits
 *    get no instant credit (decision "hold": allowed, but nothing is available before settlement).
 * 5. insufficient-funds: a withdrawal above cash-available.
 * 6. unsettled-ach: a withdrawal that would spend the instant credit of an ACH deposit that
 *    has not settled yet (return risk): withdrawable = available - unsettled instant credits.
 *
 * Deposits fund buying power: an ACH deposit makes `achInstantMinor` (at most its amount)
 * available at once and the rest at settlement; a wire makes everything available at settlement.
 */
import { Direction, PaymentReason, Rail } from './payment.js';

export enum KycStatus {
  Verified = 0,
  Pending = 1,
  Rejected = 2,
}
export const KYC_NAME = ['verified', 'pending', 'rejected'] as const;

export enum FraudDecisionKind {
  Allow = 0,
  Hold = 1,
  Block = 2,
}
export const FRAUD_DECISION_NAME = ['allow', 'hold', 'block'] as const;

export interface FraudScores {
  readonly kyc: number;
  readonly amountLimit: number;
  readonly velocity: number;
  readonly newAccount: number;
  readonly insufficientFunds: number;
  readonly unsettledAch: number;
}

export interface FraudRules {
  /** 0 = no limit. */
  readonly maxDepositsPerDay: number;
  /** 0 = no limit. */
  readonly depositLimitMinor: number;
  readonly withdrawalLimitMinor: number;
  readonly newAccountDays: number;
  readonly achInstantMinor: number;
  readonly alertScore: number;
  readonly scores: FraudScores;
}

export const DEFAULT_FRAUD_SCORES: FraudScores = { kyc: 100, amountLimit: 60, velocity: 50, newAccount: 30, insufficientFunds: 20, unsettledAch: 40 };

export interface FraudAccount {
  readonly kyc: KycStatus;
  /** Epoch day the account was opened. */
  readonly openedDay: number;
}

export interface FraudRequest {
  readonly account: number;
  readonly direction: Direction;
  readonly rail: Rail;
  readonly amountMinor: number;
  /** Epoch day of the request. */
  readonly day: number;
}

export interface FraudBalances {
  readonly availableMinor: number;
  /** Instant credits of this account's ACH deposits that have not settled. */
  readonly unsettledInstantMinor: number;
}

export interface FraudDecision {
  readonly decision: FraudDecisionKind;
  /** The rule that decided (None when nothing fired). */
  readonly rule: PaymentReason;
  readonly score: number;
  readonly alert: boolean;
  /** For an allowed deposit: the part made available at once. */
  readonly instantMinor: number;
}

export class FraudEngine {
  /** account -> (day -> accepted deposits). */
  private readonly depositsByDay = new Map<number, Map<number, number>>();

  constructor(
    readonly rules: FraudRules,
    private readonly accounts: readonly FraudAccount[],
  ) {}

  depositsOn(account: number, day: number): number {
    return this.depositsByDay.get(account)?.get(day) ?? 0;
  }

  decide(r: FraudRequest, bal: FraudBalances): FraudDecision {
    const R = this.rules;
    const S = R.scores;
    const acct = this.accounts[r.account]!;
    const deposit = r.direction === Direction.Deposit;
    let score = 0;
    let blockRule = PaymentReason.None;
    let hold = false;
    const fire = (rule: PaymentReason, s: number, blocks: boolean): void => {
      score += s;
      if (blocks && blockRule === PaymentReason.None) blockRule = rule;
    };
    if (deposit ? acct.kyc === KycStatus.Rejected : acct.kyc !== KycStatus.Verified) fire(PaymentReason.Kyc, S.kyc, true);
    const limit = deposit ? R.depositLimitMinor : R.withdrawalLimitMinor;
    if (limit > 0 && r.amountMinor > limit) fire(PaymentReason.AmountLimit, S.amountLimit, true);
    if (deposit && R.maxDepositsPerDay > 0 && this.depositsOn(r.account, r.day) >= R.maxDepositsPerDay) fire(PaymentReason.Velocity, S.velocity, true);
    if (r.day - acct.openedDay < R.newAccountDays) {
      fire(PaymentReason.NewAccount, S.newAccount, !deposit);
      hold = deposit;
    }
    if (!deposit) {
      if (r.amountMinor > bal.availableMinor) fire(PaymentReason.InsufficientFunds, S.insufficientFunds, true);
      else if (r.amountMinor > bal.availableMinor - bal.unsettledInstantMinor) fire(PaymentReason.UnsettledAch, S.unsettledAch, true);
    }
    const alert = score > 0 && score >= R.alertScore;
    if (blockRule !== PaymentReason.None) return { decision: FraudDecisionKind.Block, rule: blockRule, score, alert, instantMinor: 0 };
    if (deposit) {
      const m = this.depositsByDay.get(r.account) ?? new Map<number, number>();
      m.set(r.day, (m.get(r.day) ?? 0) + 1);
      this.depositsByDay.set(r.account, m);
    }
    if (hold) return { decision: FraudDecisionKind.Hold, rule: PaymentReason.NewAccount, score, alert, instantMinor: 0 };
    const instantMinor = deposit && r.rail === Rail.Ach ? Math.min(R.achInstantMinor, r.amountMinor) : 0;
    return { decision: FraudDecisionKind.Allow, rule: PaymentReason.None, score, alert, instantMinor };
  }
}
