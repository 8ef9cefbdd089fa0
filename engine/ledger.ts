/**
 * Double-entry journal. Every movement of money or securities is one transfer of
 * postings that sum to zero per asset; balances are kept incrementally and can be
 * recomputed from the journal alone.
 *
 * Vocabulary
 * - An *asset* (a "book") is one thing counted in integers: a currency in minor units
 *   ("USD") or an instrument in lots ("AAPL"). Postings never mix assets: they balance per asset.
 * - A *ledger account* is a small integer id with a name, an asset and a kind
 *   (asset/liability/equity/revenue/expense), which fixes its normal-balance sign.
 * - A posting amount is signed: positive = debit, negative = credit. `balance(id)` is
 *   debits minus credits; `normalBalance(id)` flips the sign for credit-normal kinds
 *   (liability, equity, revenue), so a customer's cash (a liability of the venue) reads positive.
 *
 * API
 * - `addAsset(code)` -> asset id; `openAccount(name, asset, kind)` -> account id.
 * - Hot path, allocation-free: `begin(tsNs, code, ref)` (or set `nowNs`, then `beginNow(code, ref)`), `post(account, amount)` (repeat;
 *   or write `stagedAccount`/`stagedAmount` from index 0, then `postStaged(n)`: no amount crosses a call),
 *   `commit()` -> transfer id. `commit` throws InvariantError when the postings do not
 *   balance per asset (a bug in the caller), and leaves the ledger as it was before `begin`.
 * - Convenience: `transfer(tsNs, code, ref, postings: {account, amount}[])`, `move(tsNs, code, ref, debit, credit, amount)`.
 * - Reading: `balance(id)`, `normalBalance(id)`, `transferCount`, `postingCount`,
 *   `forEachEntry(visit)` (one call per posting, in journal order: for the run's SQLite),
 *   `trialBalance()` (per-asset sum of balances: all zero), `recomputeBalances()`,
 *   `checkConsistency()` (asserts both of the former).
 *
 * Storage is struct-of-arrays (typed arrays, grown by doubling up to named maxima), so a
 * trade's transfer of 4 to 8 postings costs a handful of array writes.
 */
import { assert, InvariantError } from './assert.js';

export enum AccountKind {
  Asset = 0,
  Liability = 1,
  Equity = 2,
  Revenue = 3,
  Expense = 4,
}

export const ACCOUNT_KIND_NAME = ['asset', 'liability', 'equity', 'revenue', 'expense'] as const;

/** Why a transfer happened; stored with it and exported with the journal. */
export enum TransferCode {
  Deposit = 1,
  Withdrawal = 2,
  Trade = 3,
  Fee = 4,
  Settlement = 5,
  VariationMargin = 6,
  Hold = 7,
  Release = 8,
  Adjustment = 9,
}

export const TRANSFER_CODE_NAME: Record<TransferCode, string> = {
  [TransferCode.Deposit]: 'deposit',
  [TransferCode.Withdrawal]: 'withdrawal',
  [TransferCode.Trade]: 'trade',
  [TransferCode.Fee]: 'fee',
  [TransferCode.Settlement]: 'settlement',
  [TransferCode.VariationMargin]: 'variation-margin',
  [TransferCode.Hold]: 'hold',
  [TransferCode.Release]: 'release',
  [TransferCode.Adjustment]: 'adjustment',
};

export const LEDGER_ACCOUNTS_MAX = 1 << 20;
export const LEDGER_ASSETS_MAX = 1 << 16;
export const POSTINGS_PER_TRANSFER_MAX = 64;
export const LEDGER_POSTINGS_MAX = 1 << 27;

export interface Posting {
  readonly account: number;
  readonly amount: number;
}

export type EntryVisitor = (transferId: number, tsNs: number, code: TransferCode, ref: number, account: number, amount: number) => void;

function grow<T extends Float64Array | Int32Array>(a: T, min: number, max: number, what: string): T {
  if (min <= a.length) return a;
  assert(min <= max, `${what}: limit of ${max} reached`);
  let n = a.length * 2;
  while (n < min) n *= 2;
  n = Math.min(n, max);
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class Ledger {
  // Accounts.
  private names: string[] = [];
  private acctAsset = new Int32Array(64);
  private acctKind = new Int32Array(64);
  private bal = new Float64Array(64);
  /** Per account: 1 when its normal side is the debit (asset, expense), else -1. */
  private normalSign = new Float64Array(64);
  /** Per account: the balance on its normal side (bal * normalSign), kept with bal by commit (see normalBalance). */
  private normalBal = new Float64Array(64);
  private nAccounts = 0;
  // Assets.
  private assetCodes: string[] = [];
  /** Scratch per asset for commit's balance check; all zero between commits. */
  private assetSum = new Float64Array(8);
  // Transfers.
  private tTs = new Float64Array(1024);
  private tRef = new Float64Array(1024);
  private tCode = new Int32Array(1024);
  private tFirst = new Int32Array(1025);
  private nTransfers = 0;
  // Postings.
  private pAccount = new Int32Array(4096);
  private pAmount = new Float64Array(4096);
  private nPostings = 0;
  // Open transfer (between begin and commit).
  private open = false;
  private openTs = 0.5;
  private openRef = 0;
  private openCode = 0;

  get accountCount(): number {
    return this.nAccounts;
  }
  get assetCount(): number {
    return this.assetCodes.length;
  }
  get transferCount(): number {
    return this.nTransfers;
  }
  get postingCount(): number {
    return this.nPostings;
  }

  addAsset(code: string): number {
    assert(this.assetCodes.length < LEDGER_ASSETS_MAX, 'too many assets');
    assert(!this.assetCodes.includes(code), `asset ${code} already exists`);
    this.assetCodes.push(code);
    if (this.assetCodes.length > this.assetSum.length) this.assetSum = new Float64Array(this.assetSum.length * 2);
    return this.assetCodes.length - 1;
  }

  assetCode(asset: number): string {
    const c = this.assetCodes[asset];
    assert(c !== undefined, `unknown asset ${asset}`);
    return c;
  }

  openAccount(name: string, asset: number, kind: AccountKind): number {
    assert(asset >= 0 && asset < this.assetCodes.length, `unknown asset ${asset}`);
    const id = this.nAccounts;
    this.acctAsset = grow(this.acctAsset, id + 1, LEDGER_ACCOUNTS_MAX, 'ledger accounts');
    this.acctKind = grow(this.acctKind, id + 1, LEDGER_ACCOUNTS_MAX, 'ledger accounts');
    this.bal = grow(this.bal, id + 1, LEDGER_ACCOUNTS_MAX, 'ledger accounts');
    this.normalSign = grow(this.normalSign, id + 1, LEDGER_ACCOUNTS_MAX, 'ledger accounts');
    this.normalBal = grow(this.normalBal, id + 1, LEDGER_ACCOUNTS_MAX, 'ledger accounts');
    this.acctAsset[id] = asset;
    this.acctKind[id] = kind;
    this.bal[id] = 0;
    this.normalBal[id] = 0;
    this.normalSign[id] = kind === AccountKind.Asset || kind === AccountKind.Expense ? 1 : -1;
    this.names.push(name);
    this.nAccounts = id + 1;
    return id;
  }

  accountName(id: number): string {
    this.checkAccount(id);
    return this.names[id]!;
  }
  accountAsset(id: number): number {
    this.checkAccount(id);
    return this.acctAsset[id]!;
  }
  accountKind(id: number): AccountKind {
    this.checkAccount(id);
    return this.acctKind[id] as AccountKind;
  }

  /** Debits minus credits. */
  balance(id: number): number {
    return this.bal[id]!;
  }

  /**
   * Balance with the sign of the account's normal side: credit-normal kinds are negated. Kept
   * by commit beside the balance, so that this is one read: V8 inlines a function of under 27
   * bytes of bytecode whatever its caller's inlining budget, and a balance returned from a call
   * it does not inline is boxed in a new heap number whenever it is no small integer.
   */
  normalBalance(id: number): number {
    return this.normalBal[id]!;
  }

  /**
   * Virtual time (ns) of the transfer `beginNow` opens, set by the caller first. A field rather
   * than an argument, for a trade's transfer: a trading day's timestamp is no small integer, and
   * passed to a call V8 does not inline it is boxed in a new heap number (see Clearing.nowNs).
   * Starts as a fraction so that the field is a double from the start.
   */
  nowNs = 0.5;

  begin(tsNs: number, code: TransferCode, ref: number): void {
    this.nowNs = tsNs;
    this.beginNow(code, ref);
  }

  /** `begin` at virtual time `nowNs` (set it first). */
  beginNow(code: TransferCode, ref: number): void {
    const tsNs = this.nowNs;
    assert(!this.open, 'ledger: begin inside an open transfer');
    assert(Number.isSafeInteger(tsNs) && Number.isSafeInteger(ref), 'ledger: tsNs and ref must be safe integers');
    this.open = true;
    this.openTs = tsNs;
    this.openRef = ref;
    this.openCode = code;
    const t = this.nTransfers;
    // Typed arrays drop out-of-range writes silently, so capacity is ensured before any write.
    if (t + 2 > this.tFirst.length || t + 1 > this.tTs.length) {
      this.tTs = grow(this.tTs, t + 1, LEDGER_POSTINGS_MAX, 'ledger transfers');
      this.tRef = grow(this.tRef, t + 1, LEDGER_POSTINGS_MAX, 'ledger transfers');
      this.tCode = grow(this.tCode, t + 1, LEDGER_POSTINGS_MAX, 'ledger transfers');
      this.tFirst = grow(this.tFirst, t + 2, LEDGER_POSTINGS_MAX + 1, 'ledger transfers');
    }
    this.tFirst[t] = this.nPostings;
  }

  /** Zero amounts are dropped: they move nothing. */
  post(account: number, amount: number): void {
    assert(this.open, 'ledger: post outside a transfer');
    // Checked before it is staged: an Int32Array would turn a bad id (NaN, 2.5) into a valid one.
    if (!(account >= 0 && account < this.nAccounts)) this.abort(`unknown ledger account ${account}`);
    this.stagedAccount[0] = account;
    this.stagedAmount[0] = amount;
    this.postStaged(1);
  }

  /**
   * Postings staged by the caller: a hot caller writes a transfer's accounts and amounts here,
   * from index 0, then calls `postStaged(n)`, where `post` would be one call per posting. An
   * amount passed to a call V8 does not inline is boxed in a new heap number whenever it is no
   * small integer, and a trade's cash rarely is; an element of these arrays is written in place.
   * `post` stages into slot 0 itself: nothing may call it between staging and `postStaged`.
   */
  readonly stagedAccount = new Int32Array(POSTINGS_PER_TRANSFER_MAX);
  readonly stagedAmount = new Float64Array(POSTINGS_PER_TRANSFER_MAX);

  /** Posts the first `n` staged postings, in order, as `post` would each. */
  postStaged(n: number): void {
    assert(this.open, 'ledger: post outside a transfer');
    for (let k = 0; k < n; k++) {
      const account = this.stagedAccount[k]!;
      const amount = this.stagedAmount[k]!;
      if (!(account >= 0 && account < this.nAccounts)) this.abort(`unknown ledger account ${account}`);
      if (!Number.isSafeInteger(amount)) this.abort(`posting amount must be a safe integer, got ${amount}`);
      if (amount === 0) continue;
      const i = this.nPostings;
      if (i - this.tFirst[this.nTransfers]! >= POSTINGS_PER_TRANSFER_MAX) this.abort('too many postings in one transfer');
      if (i >= this.pAccount.length) {
        this.pAccount = grow(this.pAccount, i + 1, LEDGER_POSTINGS_MAX, 'ledger postings');
        this.pAmount = grow(this.pAmount, i + 1, LEDGER_POSTINGS_MAX, 'ledger postings');
      }
      this.pAccount[i] = account;
      this.pAmount[i] = amount;
      this.nPostings = i + 1;
    }
  }

  commit(): number {
    assert(this.open, 'ledger: commit without begin');
    const first = this.tFirst[this.nTransfers]!;
    const end = this.nPostings;
    // Per-asset sums in a scratch array indexed by asset: O(postings), no allocation. The
    // asset reported is the first one, in posting order, whose postings do not sum to zero.
    const sums = this.assetSum;
    for (let i = first; i < end; i++) sums[this.acctAsset[this.pAccount[i]!]!] += this.pAmount[i]!;
    let bad = -1;
    for (let i = first; i < end; i++) {
      const asset = this.acctAsset[this.pAccount[i]!]!;
      if (bad < 0 && sums[asset] !== 0) bad = asset;
    }
    const badSum = bad >= 0 ? sums[bad]! : 0;
    for (let i = first; i < end; i++) sums[this.acctAsset[this.pAccount[i]!]!] = 0;
    if (bad >= 0) this.abort(`unbalanced transfer (code ${this.openCode}, ref ${this.openRef}): ${this.assetCodes[bad]} postings sum to ${badSum}`);
    for (let i = first; i < end; i++) {
      const a = this.pAccount[i]!;
      const b = this.bal[a]! + this.pAmount[i]!;
      if (!Number.isSafeInteger(b)) this.abort(`balance of ${this.names[a]} overflows`);
    }
    for (let i = first; i < end; i++) {
      const a = this.pAccount[i]!;
      const x = this.pAmount[i]!;
      this.bal[a] += x;
      // x is never 0 (post drops zeros), so this sum never becomes -0.
      this.normalBal[a] += x * this.normalSign[a]!;
    }
    const t = this.nTransfers;
    this.tTs[t] = this.openTs;
    this.tRef[t] = this.openRef;
    this.tCode[t] = this.openCode;
    this.nTransfers = t + 1;
    this.tFirst[t + 1] = end;
    this.open = false;
    return t;
  }

  /** Drops the open transfer's postings and throws: the ledger is left as before `begin`. */
  private abort(msg: string): never {
    this.nPostings = this.tFirst[this.nTransfers]!;
    this.open = false;
    throw new InvariantError(`ledger: ${msg}`);
  }

  transfer(tsNs: number, code: TransferCode, ref: number, postings: readonly Posting[]): number {
    this.begin(tsNs, code, ref);
    for (const p of postings) this.post(p.account, p.amount);
    return this.commit();
  }

  /** Two-legged transfer: debit one account, credit another, same asset. */
  move(tsNs: number, code: TransferCode, ref: number, debitAccount: number, creditAccount: number, amount: number): number {
    this.begin(tsNs, code, ref);
    this.post(debitAccount, amount);
    this.post(creditAccount, -amount);
    return this.commit();
  }

  forEachEntry(visit: EntryVisitor): void {
    for (let t = 0; t < this.nTransfers; t++) {
      const ts = this.tTs[t]!;
      const code = this.tCode[t] as TransferCode;
      const ref = this.tRef[t]!;
      for (let i = this.tFirst[t]!, end = this.tFirst[t + 1]!; i < end; i++) visit(t, ts, code, ref, this.pAccount[i]!, this.pAmount[i]!);
    }
  }

  /** Per-asset sum of all account balances; every entry is 0 in a sound ledger. */
  trialBalance(): number[] {
    const sums = new Array<number>(this.assetCodes.length).fill(0);
    for (let a = 0; a < this.nAccounts; a++) sums[this.acctAsset[a]!]! += this.bal[a]!;
    return sums;
  }

  /** Balances rebuilt from the journal alone. */
  recomputeBalances(): Float64Array {
    const out = new Float64Array(this.nAccounts);
    for (let i = 0; i < this.nPostings; i++) out[this.pAccount[i]!] += this.pAmount[i]!;
    return out;
  }

  checkConsistency(): void {
    assert(!this.open, 'ledger: check inside an open transfer');
    const tb = this.trialBalance();
    for (let a = 0; a < tb.length; a++) if (tb[a] !== 0) throw new InvariantError(`ledger: trial balance of ${this.assetCodes[a]} is ${tb[a]}`);
    const re = this.recomputeBalances();
    for (let a = 0; a < this.nAccounts; a++) {
      if (re[a] !== this.bal[a]) throw new InvariantError(`ledger: ${this.names[a]} balance ${this.bal[a]} but journal says ${re[a]}`);
      if (this.normalBal[a] !== re[a]! * this.normalSign[a]!) throw new InvariantError(`ledger: ${this.names[a]} normal balance ${this.normalBal[a]} but journal says ${re[a]! * this.normalSign[a]!}`);
    }
  }

  private checkAccount(id: number): void {
    assert(Number.isInteger(id) && id >= 0 && id < this.nAccounts, `unknown ledger account ${id}`);
  }
}
