import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SLOTS, EventRecord, EventType, decodeEvent } from '../../engine/event.js';
import { AUDIT_BLOCK_ROWS, AuditWriter, verifyAudit } from './audit.js';
import { blockRowHashes, blockWords, crc32Bytes, crc32Line, crc32LineJs, rowHash } from './audit-chain.js';
import { readAuditRows, writeAuditRows, type AuditRow } from './audit-block.js';
import { createEventFormatter } from './event-format.js';
import { SAMPLE_ACCOUNTS, SAMPLE_INSTRUMENTS, sampleEvents } from './sample-events.js';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';

const dir = mkdtempSync(join(tmpdir(), 'exsim-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 2 * AUDIT_BLOCK_ROWS + 300; // two full blocks and a partial one
let n = 0;

function writeLog(rows = ROWS): { path: string; lines: string[]; headHash: string } {
  const path = join(dir, `a${n++}.sqlite`);
  const w = new AuditWriter(path, { scenario: 'test', seed: 42, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS });
  const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
  const buf = sampleEvents(rows, 'audit-test');
  const e = new EventRecord();
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    decodeEvent(buf, i * EVENT_SLOTS, e);
    const line = fmt(e);
    lines.push(line);
    w.append(e, line);
  }
  const r = w.close();
  expect(r.rows).toBe(rows);
  return { path, lines, headHash: r.headHash };
}

function tamper(path: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  db.prepare(sql).run(...params);
  db.close();
}

type Row = AuditRow & { block_hash: string | null };

/** Edits the log as rows (one per event) and writes the blocks back as a forger would: no row or block hash recomputed unless `rehash`. */
function tamperRows(path: string, edit: (rows: Row[]) => Row[] | void, rehash = false): void {
  const db = new Database(path);
  const rows = readAuditRows(db);
  writeAuditRows(db, edit(rows) ?? rows, { rehash });
  db.close();
}

const bySeq = (rows: Row[], seq: number): Row => rows.find((r) => r.seq === seq)!;

function bodies(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const b = readAuditRows(db).map((r) => r.body);
  db.close();
  return b;
}

/** rowHash as its comment defines it, with every word assembled from bytes: the reference for the word-reading one. */
function referenceRowHash(block: Uint8Array, start: number, end: number, seed: number): number {
  const P1 = 0x9e3779b1;
  const P2 = 0x85ebca77;
  const word = (j: number): number => block[4 * j]! | (block[4 * j + 1]! << 8) | (block[4 * j + 2]! << 16) | (block[4 * j + 3]! << 24);
  const lanes = [(seed ^ Math.imul(end - start, P2)) | 0, 0x243f6a88, 0x85a308d3 | 0, 0x13198a2e];
  const first = Math.ceil(start / 4);
  const last = Math.floor(end / 4);
  const mix = (l: number, w: number): void => {
    let a = Math.imul(lanes[l]! ^ w, P1);
    a ^= a >>> 15;
    lanes[l] = a;
  };
  if (first < last) {
    const whole = last - first;
    const quads = whole - (whole % 4);
    for (let j = 0; j < quads; j++) mix(j % 4, word(first + j));
    for (let j = quads; j < whole; j++) mix(0, word(first + j));
  }
  const [a0, a1, a2, a3] = lanes as [number, number, number, number];
  let h = a0 ^ Math.imul(a1, P2) ^ Math.imul(a2 ^ (a2 >>> 7), P1) ^ Math.imul(a3 ^ (a3 >>> 11), P2);
  const bytewise = first < last ? [...range(start, first * 4), ...range(last * 4, end)] : range(start, end);
  for (const i of bytewise) h = Math.imul(h ^ block[i]!, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P1);
  h ^= h >>> 16;
  return h >>> 0;
}
const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, k) => a + k);

describe('rowHash', () => {
  it('equals its byte-by-byte definition on every start, end and alignment, and sees every byte', () => {
    const block = Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 131 + 7) & 0xff));
    const { bytes, words } = blockWords(block);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= 301; end += 3) {
        const h = rowHash(words, bytes, start, end, 12345);
        expect(h).toBe(referenceRowHash(block, start, end, 12345));
        if (end > start) {
          // One changed byte anywhere in the line changes the hash.
          const k = start + ((end - start) >> 1);
          const edited = Buffer.from(block);
          edited[k] ^= 0x01;
          const e = blockWords(edited);
          expect(rowHash(e.words, e.bytes, start, end, 12345)).not.toBe(h);
        }
      }
    }
    // Chained: the seed matters; a copy at another offset in memory gives the same chain.
    expect(rowHash(words, bytes, 0, 100, 1)).not.toBe(rowHash(words, bytes, 0, 100, 2));
    const shifted = Buffer.alloc(303);
    block.copy(shifted, 2);
    expect(blockRowHashes(shifted.subarray(2), [50, 120, 301], 9)).toEqual(blockRowHashes(block, [50, 120, 301], 9));
  });
});

describe('crc32Line (the per-row check before rowHash, kept as the bench baseline)', () => {
  it('equals zlib CRC-32 of the UTF-8 line plus newline, chained', () => {
    for (const s of ['', 'abc', '{"account":"mm-é"}', 'ü€𝄞 mixed \ud800 lone']) {
      expect(crc32Line(s, 0)).toBe(crc32(Buffer.from(s + '\n', 'utf8')));
      expect(crc32Line(s, crc32Line('x', 0))).toBe(crc32(Buffer.from('x\n' + s + '\n', 'utf8')));
      expect(crc32LineJs(s, 12345)).toBe(crc32Line(s, 12345));
    }
  });
});

describe('crc32Bytes', () => {
  it('equals zlib CRC-32 on every length and offset (the 8-byte steps and the tail)', () => {
    const b = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= 300; end += 7) expect(crc32Bytes(b, start, end, 99)).toBe(crc32(b.subarray(start, end), 99));
    }
  });
});

describe('AuditWriter.appendBytes', () => {
  it('gives the same file as append(line) when the caller reuses its buffer after release()', () => {
    const rows = AUDIT_BLOCK_ROWS + 777;
    const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
    const evs = sampleEvents(rows, 'audit-bytes');
    const e = new EventRecord();
    const viaBytes = join(dir, `bytes${n++}.sqlite`);
    const w = new AuditWriter(viaBytes, { scenario: 'test', seed: 42, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS });
    // A small buffer, refilled with garbage after each release, so any read after release would show.
    const buf = Buffer.alloc(8192);
    let pos = 0;
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      decodeEvent(evs, i * EVENT_SLOTS, e);
      const line = Buffer.from(fmt(e));
      lines.push(fmt(e));
      if (pos + line.length + 1 > buf.length) {
        w.release();
        buf.fill(0x41);
        pos = 0;
      }
      line.copy(buf, pos);
      buf[pos + line.length] = 0x0a;
      w.appendBytes(e, buf, pos, pos + line.length);
      pos += line.length + 1;
    }
    w.release();
    buf.fill(0x41);
    const r = w.close();
    expect(bodies(viaBytes)).toEqual(lines);
    expect(verifyAudit(viaBytes)).toEqual({ ok: true, rows });
    // Same events through append(line): same chain.
    const viaLines = join(dir, `lines${n++}.sqlite`);
    const w2 = new AuditWriter(viaLines, { scenario: 'test', seed: 42, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS });
    for (let i = 0; i < rows; i++) {
      decodeEvent(evs, i * EVENT_SLOTS, e);
      w2.append(e, lines[i]!);
    }
    expect(w2.close()).toEqual(r);
  });
});

describe('AuditWriter on an audit thread', () => {
  it('writes the same log as inline, and reports a failure of the thread at close', () => {
    const rows = 3 * AUDIT_BLOCK_ROWS + 5;
    const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
    const evs = sampleEvents(rows, 'audit-thread');
    const e = new EventRecord();
    const write = (path: string, thread: 'worker' | 'inline'): { rows: number; headHash: string; linesSha256: string } => {
      const w = new AuditWriter(path, { scenario: 'test', seed: 42, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS }, { thread });
      for (let i = 0; i < rows; i++) {
        decodeEvent(evs, i * EVENT_SLOTS, e);
        w.append(e, fmt(e));
      }
      return w.close();
    };
    const a = join(dir, `inline${n++}.sqlite`);
    const b = join(dir, `worker${n++}.sqlite`);
    const ra = write(a, 'inline');
    expect(write(b, 'worker')).toEqual(ra);
    expect(bodies(b)).toEqual(bodies(a));
    expect(verifyAudit(b)).toEqual({ ok: true, rows });
    // The database cannot be created: the thread fails, and the writer says why instead of hanging.
    expect(() => write(join(dir, 'no-such-dir', 'x.sqlite'), 'worker')).toThrow(/audit log: .*directory/);
  });
});

describe('AuditWriter with the WAL journal', () => {
  it('lets another connection read committed blocks while it writes, and ends as the same self-contained file', () => {
    const rows = 20 * AUDIT_BLOCK_ROWS; // more than one commit (16 blocks)
    const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
    const evs = sampleEvents(rows, 'audit-wal');
    const e = new EventRecord();
    const write = (path: string, journal: 'off' | 'wal', during?: () => void): { rows: number; headHash: string; linesSha256: string } => {
      const w = new AuditWriter(path, { scenario: 'test', seed: 42, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS, journal });
      for (let i = 0; i < rows; i++) {
        decodeEvent(evs, i * EVENT_SLOTS, e);
        w.append(e, fmt(e));
        if (i === 18 * AUDIT_BLOCK_ROWS) during?.();
      }
      return w.close();
    };
    const off = join(dir, `off${n++}.sqlite`);
    const wal = join(dir, `wal${n++}.sqlite`);
    const r = write(off, 'off');
    let seen = -1;
    expect(
      write(wal, 'wal', () => {
        const reader = new Database(wal, { readonly: true });
        seen = reader.prepare('SELECT COUNT(*) FROM blocks').pluck().get() as number;
        reader.close();
      }),
    ).toEqual(r);
    expect(seen).toBe(16);
    expect(bodies(wal)).toEqual(bodies(off));
    expect(verifyAudit(wal)).toEqual({ ok: true, rows });
    const db = new Database(wal, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
    expect(existsSync(wal + '-wal')).toBe(false);
  });
});

describe('AuditWriter + verifyAudit', () => {
  const clean = writeLog();

  it('writes every line in seq order with index columns and meta, and verifies clean', () => {
    const db = new Database(clean.path, { readonly: true });
    const rows = readAuditRows(db);
    expect(rows.map((r) => r.body)).toEqual(clean.lines);
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    expect(meta.get('scenario')).toBe('test');
    expect(meta.get('seed')).toBe('42');
    expect(meta.get('rows')).toBe(String(ROWS));
    expect(meta.get('blocks')).toBe('3');
    expect(meta.get('head_hash')).toBe(clean.headHash);
    // The block hashes are the SHA-256 of the lines so far; the last one is the hash of the whole file.
    const file = Buffer.from(clean.lines.map((l) => l + '\n').join(''), 'utf8');
    const upTo = (n: number): string => createHash('sha256').update(clean.lines.slice(0, n).map((l) => l + '\n').join('')).digest('hex');
    expect(rows.filter((r) => r.block_hash !== null).map((r) => [r.seq, r.block_hash])).toEqual([
      [AUDIT_BLOCK_ROWS, upTo(AUDIT_BLOCK_ROWS)],
      [2 * AUDIT_BLOCK_ROWS, upTo(2 * AUDIT_BLOCK_ROWS)],
      [ROWS, createHash('sha256').update(file).digest('hex')],
    ]);
    expect(meta.get('lines_sha256')).toBe(createHash('sha256').update(file).digest('hex'));
    // The row hashes are the chain over each block's bytes, carried from block to block.
    let seed = 0;
    for (let b = 0; b * AUDIT_BLOCK_ROWS < ROWS; b++) {
      const part = clean.lines.slice(b * AUDIT_BLOCK_ROWS, (b + 1) * AUDIT_BLOCK_ROWS).map((l) => l + '\n');
      const ends: number[] = [];
      let end = 0;
      for (const l of part) ends.push((end += Buffer.byteLength(l)));
      const want = blockRowHashes(Buffer.from(part.join('')), ends, seed);
      expect(rows.slice(b * AUDIT_BLOCK_ROWS, (b + 1) * AUDIT_BLOCK_ROWS).map((r) => r.hash)).toEqual(want);
      seed = want[want.length - 1]!;
    }
    const trade = rows.find((r) => r.type === EventType.Trade)!;
    const o = JSON.parse(trade.body) as Record<string, unknown>;
    expect(trade).toMatchObject({
      ts: o.ts,
      instrument: SAMPLE_INSTRUMENTS.findIndex((i) => i.symbol === o.instrument),
      account: SAMPLE_ACCOUNTS.indexOf(o.account as string),
      order_id: o.orderId,
      maker_account: SAMPLE_ACCOUNTS.indexOf(o.makerAccount as string),
      maker_order_id: o.makerOrderId,
    });
    const quote = rows.find((r) => r.type === EventType.Quote)!;
    expect(quote).toMatchObject({ account: null, order_id: null, maker_account: null, maker_order_id: null });
    // The SQL view gives one row per event, names from the line, and the line itself.
    const viewed = db.prepare('SELECT * FROM events WHERE seq = ?').get(trade.seq) as Record<string, unknown>;
    expect(viewed).toMatchObject({ seq: trade.seq, ts: trade.ts, type: 'trade', instrument: o.instrument, account: o.account, order_id: o.orderId, maker_account: o.makerAccount, body: trade.body });
    expect(db.prepare('SELECT body FROM events').pluck().all()).toEqual(clean.lines);
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
    expect(verifyAudit(clean.path)).toEqual({ ok: true, rows: ROWS });
  });

  it('same events give the same head hash', () => {
    expect(writeLog().headHash).toBe(clean.headHash);
  });

  it('names an edited body', () => {
    const { path } = writeLog();
    tamperRows(path, (rows) => void (bySeq(rows, 500).body = bySeq(rows, 500).body.replace('"ts":', '"ts": ')));
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 500 });
  });

  it('names an edited line of the same length', () => {
    const { path } = writeLog();
    const db = new Database(path);
    // Straight in the blob, with no row column touched: a digit of seq 700's ts.
    const b = db.prepare('SELECT lines FROM blocks WHERE id = 0').pluck().get() as Buffer;
    const at = b.indexOf('"seq":700,"ts":') + '"seq":700,"ts":'.length;
    b[at] = b[at] === 0x31 ? 0x32 : 0x31;
    db.prepare('UPDATE blocks SET lines = ? WHERE id = 0').run(b);
    db.close();
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 700 });
  });

  it('names the row after a deleted row', () => {
    const { path } = writeLog();
    tamperRows(path, (rows) => rows.filter((r) => r.seq !== 77));
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 78 });
  });

  it('names an inserted row', () => {
    const { path } = writeLog();
    // Make room at seq 1200 (renumber later rows and their lines' seq), then insert a copy of row 10 there.
    tamperRows(path, (rows) => {
      const src = bySeq(rows, 10);
      const moved = rows.map((r) => (r.seq >= 1200 ? { ...r, seq: r.seq + 1, body: r.body.replace(`"seq":${r.seq},`, `"seq":${r.seq + 1},`) } : r));
      const at = moved.findIndex((r) => r.seq > 1200);
      moved.splice(at, 0, { ...src, seq: 1200, body: src.body.replace('"seq":10,', '"seq":1200,'), block_hash: null });
      return moved;
    });
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 1200 });
  });

  it('names the first of two swapped rows', () => {
    const { path, lines } = writeLog();
    tamperRows(path, (rows) => {
      bySeq(rows, 301).body = lines[300 - 1]!;
      bySeq(rows, 300).body = lines[301 - 1]!;
    });
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 300 });
  });

  it('names a row whose row hash was edited', () => {
    const { path } = writeLog();
    tamperRows(path, (rows) => void (bySeq(rows, 900).hash = (bySeq(rows, 900).hash + 1) % 4294967296));
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 900 });
  });

  it('catches an edited block hash, naming the block', () => {
    const { path } = writeLog();
    tamper(path, "UPDATE blocks SET block_hash = replace(block_hash, substr(block_hash, 1, 1), 'x') WHERE id = 1");
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: AUDIT_BLOCK_ROWS + 1 });
  });

  it('catches a forged row whose row-hash chain was recomputed, naming its block', () => {
    const { path } = writeLog();
    tamperRows(path, (rows) => void (bySeq(rows, 1500).body = bySeq(rows, 1500).body.replace('"ts":', '"ts": ')), true);
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: AUDIT_BLOCK_ROWS + 1 });
    expect(verifyAudit(path).reason).toMatch(/SHA-256 mismatch/);
  });

  it('catches an edited index column and a truncated tail', () => {
    const a = writeLog();
    let edited = 0;
    tamperRows(a.path, (rows) => {
      const r = rows.find((x) => x.account !== null && x.seq > 40)!;
      r.account = (r.account! + 1) % SAMPLE_ACCOUNTS.length;
      edited = r.seq;
    });
    const r = verifyAudit(a.path);
    expect(r).toMatchObject({ ok: false, firstBadSeq: edited });
    expect(r.reason).toMatch(/column account/);
    const b = writeLog();
    tamperRows(b.path, (rows) => rows.filter((x) => x.seq <= 2 * AUDIT_BLOCK_ROWS));
    expect(verifyAudit(b.path)).toMatchObject({ ok: false, firstBadSeq: 2 * AUDIT_BLOCK_ROWS + 1 });
    const c = writeLog();
    tamper(c.path, "UPDATE meta SET value = '43' WHERE key = 'seed'");
    expect(verifyAudit(c.path).reason).toMatch(/genesis/);
    const d = writeLog();
    tamper(d.path, "UPDATE accounts SET name = 'mallory' WHERE id = 0");
    expect(verifyAudit(d.path).reason).toMatch(/accounts table/);
    const f = writeLog();
    tamperRows(f.path, (rows) => void (bySeq(rows, 60).type = EventType.Trade + 100));
    expect(verifyAudit(f.path)).toMatchObject({ ok: false, firstBadSeq: 60 });
    const g = writeLog();
    tamper(g.path, 'DELETE FROM blocks WHERE id = 1');
    expect(verifyAudit(g.path)).toMatchObject({ ok: false, firstBadSeq: 2 * AUDIT_BLOCK_ROWS + 1 });
    expect(verifyAudit(g.path).reason).toMatch(/block 1 is missing/);
    const h = writeLog();
    tamper(h.path, 'UPDATE blocks SET row_ts = substr(row_ts, 1, 100) WHERE id = 0');
    expect(verifyAudit(h.path)).toMatchObject({ ok: false, firstBadSeq: 1 });
    expect(verifyAudit(h.path).reason).toMatch(/row_ts holds 100 bytes/);
  });

  it('refuses events out of seq order', () => {
    const w = new AuditWriter(join(dir, 'order.sqlite'), { scenario: 's', seed: 1, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS });
    const e = new EventRecord();
    e.seq = 5;
    w.append(e, '{"seq":5}');
    expect(() => w.append(e, '{"seq":5}')).toThrow(/increasing seq/);
    w.abandon();
  });
});
