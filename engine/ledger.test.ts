import { describe, expect, it } from 'vitest';
import { InvariantError } from './assert.js';
import { AccountKind, Ledger, TransferCode } from './ledger.js';

function setup() {
  const L = new Ledger();
  const usd = L.addAsset('USD');
  const aapl = L.addAsset('AAPL');
  const bank = L.openAccount('bank', usd, AccountKind.Asset);
  const cash = L.openAccount('alice:cash', usd, AccountKind.Liability);
  const fees = L.openAccount('fees', usd, AccountKind.Revenue);
  const sec = L.openAccount('alice:AAPL', aapl, AccountKind.Liability);
  const clr = L.openAccount('clearing:AAPL', aapl, AccountKind.Asset);
  return { L, usd, aapl, bank, cash, fees, sec, clr };
}

describe('ledger', () => {
  it('moves money with balanced transfers and reads normal balances', () => {
    const { L, bank, cash, fees, sec, clr } = setup();
    L.move(1, TransferCode.Deposit, 7, bank, cash, 1_000);
    expect(L.balance(bank)).toBe(1_000);
    expect(L.balance(cash)).toBe(-1_000);
    expect(L.normalBalance(cash)).toBe(1_000);
    L.transfer(2, TransferCode.Trade, 8, [
      { account: cash, amount: 30 },
      { account: fees, amount: -30 },
      { account: sec, amount: -5 },
      { account: clr, amount: 5 },
    ]);
    expect(L.normalBalance(cash)).toBe(970);
    expect(L.normalBalance(fees)).toBe(30);
    expect(L.normalBalance(sec)).toBe(5);
    expect(L.trialBalance()).toEqual([0, 0]);
    expect(L.transferCount).toBe(2);
    expect(L.postingCount).toBe(6);
    L.checkConsistency();
  });

  it('posts staged postings as post() would, zeros dropped, and checks them the same way', () => {
    const journal = (L: Ledger) => {
      const rows: number[][] = [];
      L.forEachEntry((t, ts, code, ref, account, amount) => rows.push([t, ts, code, ref, account, amount]));
      return rows;
    };
    const a = setup();
    const b = setup();
    const big = 2 ** 40 + 3; // no small integer: the amounts the staging is for
    const legs: [number, number][] = [
      [a.bank, big],
      [a.cash, -big + 30],
      [a.fees, 0],
      [a.fees, -30],
      [a.sec, -5],
      [a.clr, 5],
    ];
    a.L.begin(34_200_000_000_000, TransferCode.Trade, 9);
    for (const [acct, amt] of legs) a.L.post(acct, amt);
    a.L.commit();
    b.L.nowNs = 34_200_000_000_000;
    b.L.beginNow(TransferCode.Trade, 9);
    legs.forEach(([acct, amt], k) => {
      b.L.stagedAccount[k] = acct;
      b.L.stagedAmount[k] = amt;
    });
    b.L.postStaged(legs.length);
    b.L.commit();
    expect(journal(b.L)).toEqual(journal(a.L));
    expect(b.L.postingCount).toBe(5);
    b.L.checkConsistency();
    // A bad staged posting aborts the transfer, as post() does.
    for (const [acct, amt] of [[99, 1], [b.bank, 0.5], [b.bank, 2 ** 53]] as const) {
      b.L.begin(1, TransferCode.Adjustment, 1);
      b.L.stagedAccount[0] = acct;
      b.L.stagedAmount[0] = amt;
      expect(() => b.L.postStaged(1), `${acct} ${amt}`).toThrow(InvariantError);
    }
    expect(journal(b.L)).toEqual(journal(a.L));
    expect(() => b.L.postStaged(1)).toThrow(/outside a transfer/);
  });

  it('rejects an unbalanced transfer per asset and leaves the ledger untouched', () => {
    const { L, bank, cash, sec } = setup();
    L.move(1, TransferCode.Deposit, 1, bank, cash, 100);
    // Sums to zero overall but not per asset: cash against securities.
    expect(() =>
      L.transfer(2, TransferCode.Adjustment, 2, [
        { account: cash, amount: 5 },
        { account: sec, amount: -5 },
      ]),
    ).toThrow(InvariantError);
    expect(() => L.transfer(2, TransferCode.Adjustment, 2, [{ account: cash, amount: 0.5 }])).toThrow(InvariantError);
    expect(() => L.transfer(2, TransferCode.Adjustment, 2, [{ account: 99, amount: 1 }])).toThrow(InvariantError);
    expect(L.transferCount).toBe(1);
    expect(L.postingCount).toBe(2);
    expect(L.normalBalance(cash)).toBe(100);
    // Still usable after a rejected transfer.
    L.move(3, TransferCode.Withdrawal, 3, cash, bank, 40);
    expect(L.normalBalance(cash)).toBe(60);
    L.checkConsistency();
  });

  it('exports the journal and rebuilds balances from it', () => {
    const { L, bank, cash, fees } = setup();
    for (let i = 0; i < 5000; i++) L.move(i, TransferCode.Fee, i, cash, fees, i % 7);
    L.move(1, TransferCode.Deposit, 0, bank, cash, 1);
    const rows: number[][] = [];
    L.forEachEntry((t, ts, code, ref, account, amount) => rows.push([t, ts, code, ref, account, amount]));
    expect(rows.length).toBe(L.postingCount);
    const sum = new Map<number, number>();
    for (const r of rows) sum.set(r[4]!, (sum.get(r[4]!) ?? 0) + r[5]!);
    expect(sum.get(fees)).toBe(L.balance(fees));
    expect(Array.from(L.recomputeBalances())).toEqual([L.balance(0), L.balance(1), L.balance(2), 0, 0]);
    expect(rows[rows.length - 1]).toEqual([5000, 1, TransferCode.Deposit, 0, cash, -1]);
    L.checkConsistency();
  });

  it('refuses nested transfers and overflowing balances', () => {
    const { L, bank, cash } = setup();
    L.begin(0, TransferCode.Deposit, 0);
    expect(() => L.begin(0, TransferCode.Deposit, 0)).toThrow(InvariantError);
    L.post(bank, Number.MAX_SAFE_INTEGER);
    L.post(cash, -Number.MAX_SAFE_INTEGER);
    L.commit();
    expect(() => L.move(1, TransferCode.Deposit, 0, bank, cash, 1)).toThrow(/overflows/);
    L.checkConsistency();
  });
});
