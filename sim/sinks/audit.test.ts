import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SLOTS, EventRecord, EventType, decodeEvent } from '../../engine/event.js';
import { AUDIT_BLOCK_ROWS, AuditWriter, crc32Bytes, crc32Line, crc32LineJs, verifyAudit } from './audit.js';
import { createEventFormatter } from './event-format.js';
import { SAMPLE_ACCOUNTS, SAMPLE_INSTRUMENTS, sampleEvents } from './sample-events.js';
import { crc32 } from 'node:zlib';

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

describe('crc32Line', () => {
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
    const db = new Database(viaBytes, { readonly: true });
    expect(db.prepare('SELECT body FROM events ORDER BY seq').pluck().all()).toEqual(lines);
    db.close();
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

describe('AuditWriter + verifyAudit', () => {
  const clean = writeLog();

  it('writes every line in seq order with index columns and meta, and verifies clean', () => {
    const db = new Database(clean.path, { readonly: true });
    const bodies = db.prepare('SELECT body FROM events ORDER BY seq').pluck().all();
    expect(bodies).toEqual(clean.lines);
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    expect(meta.get('scenario')).toBe('test');
    expect(meta.get('seed')).toBe('42');
    expect(meta.get('rows')).toBe(String(ROWS));
    expect(meta.get('head_hash')).toBe(clean.headHash);
    const hashed = db.prepare('SELECT seq FROM events WHERE block_hash IS NOT NULL ORDER BY seq').pluck().all();
    expect(hashed).toEqual([AUDIT_BLOCK_ROWS, 2 * AUDIT_BLOCK_ROWS, ROWS]);
    const trade = db.prepare('SELECT * FROM events WHERE type = ? LIMIT 1').get(EventType.Trade) as Record<string, unknown>;
    const o = JSON.parse(trade.body as string) as Record<string, unknown>;
    expect(trade).toMatchObject({
      instrument: SAMPLE_INSTRUMENTS.findIndex((i) => i.symbol === o.instrument),
      account: SAMPLE_ACCOUNTS.indexOf(o.account as string),
      order_id: o.orderId,
      maker_account: SAMPLE_ACCOUNTS.indexOf(o.makerAccount as string),
      maker_order_id: o.makerOrderId,
    });
    // The view gives the names back.
    const named = db.prepare('SELECT * FROM events_named WHERE seq = ?').get(trade.seq) as Record<string, unknown>;
    expect(named).toMatchObject({ type: 'trade', instrument: o.instrument, account: o.account, maker_account: o.makerAccount, body: trade.body });
    const idx = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").pluck().all();
    expect(idx).toEqual(expect.arrayContaining(['events_order', 'events_account', 'events_maker_order', 'events_maker_account']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
    expect(verifyAudit(clean.path)).toEqual({ ok: true, rows: ROWS });
  });

  it('same events give the same head hash', () => {
    expect(writeLog().headHash).toBe(clean.headHash);
  });

  it('names an edited body', () => {
    const { path } = writeLog();
    tamper(path, "UPDATE events SET body = replace(body, '\"ts\":', '\"ts\": ') WHERE seq = 500");
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 500 });
  });

  it('names the row after a deleted row', () => {
    const { path } = writeLog();
    tamper(path, 'DELETE FROM events WHERE seq = 77');
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 78 });
  });

  it('names an inserted row', () => {
    const { path } = writeLog();
    const db = new Database(path);
    // Make room at seq 1200 (renumber later rows and their lines' seq), then insert a copy of row 10 there.
    const later = db.prepare('SELECT seq, body FROM events WHERE seq >= 1200 ORDER BY seq DESC').all() as Array<{ seq: number; body: string }>;
    const move = db.prepare('UPDATE events SET seq = ?, body = ? WHERE seq = ?');
    db.transaction(() => {
      for (const r of later) move.run(r.seq + 1, r.body.replace(`"seq":${r.seq},`, `"seq":${r.seq + 1},`), r.seq);
      const src = db.prepare('SELECT * FROM events WHERE seq = 10').get() as Record<string, unknown>;
      db.prepare('INSERT INTO events (seq, ts, type, instrument, account, order_id, maker_account, maker_order_id, body, crc, block_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)').run(
        1200, src.ts, src.type, src.instrument, src.account, src.order_id, src.maker_account, src.maker_order_id, (src.body as string).replace('"seq":10,', '"seq":1200,'), src.crc, null,
      );
    })();
    db.close();
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 1200 });
  });

  it('names the first of two swapped rows', () => {
    const { path, lines } = writeLog();
    const db = new Database(path);
    const set = db.prepare('UPDATE events SET body = ? WHERE seq = ?');
    db.transaction(() => {
      set.run(lines[300 - 1], 301);
      set.run(lines[301 - 1], 300);
    })();
    db.close();
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 300 });
  });

  it('names a row whose crc was edited', () => {
    const { path } = writeLog();
    tamper(path, 'UPDATE events SET crc = (crc + 1) % 4294967296 WHERE seq = 900');
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: 900 });
  });

  it('catches an edited block hash, naming the block', () => {
    const { path } = writeLog();
    tamper(path, "UPDATE events SET block_hash = replace(block_hash, substr(block_hash, 1, 1), 'x') WHERE seq = ?", 2 * AUDIT_BLOCK_ROWS);
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: AUDIT_BLOCK_ROWS + 1 });
  });

  it('catches a forged row whose CRC chain was recomputed, naming its block', () => {
    const { path, lines } = writeLog();
    const forged = lines.slice();
    forged[1500 - 1] = forged[1500 - 1]!.replace('"ts":', '"ts": ');
    const db = new Database(path);
    const set = db.prepare('UPDATE events SET body = ?, crc = ? WHERE seq = ?');
    let crc = 0;
    db.transaction(() => forged.forEach((l, i) => set.run(l, (crc = crc32Line(l, crc)), i + 1)))();
    db.close();
    expect(verifyAudit(path)).toMatchObject({ ok: false, firstBadSeq: AUDIT_BLOCK_ROWS + 1 });
  });

  it('catches an edited index column and a truncated tail', () => {
    const a = writeLog();
    tamper(a.path, 'UPDATE events SET account = (account + 1) % ? WHERE seq = (SELECT MIN(seq) FROM events WHERE account IS NOT NULL AND seq > 40)', SAMPLE_ACCOUNTS.length);
    const r = verifyAudit(a.path);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/column account/);
    const b = writeLog();
    tamper(b.path, 'DELETE FROM events WHERE seq > ?', 2 * AUDIT_BLOCK_ROWS);
    expect(verifyAudit(b.path)).toMatchObject({ ok: false, firstBadSeq: 2 * AUDIT_BLOCK_ROWS + 1 });
    const c = writeLog();
    tamper(c.path, "UPDATE meta SET value = '43' WHERE key = 'seed'");
    expect(verifyAudit(c.path).reason).toMatch(/genesis/);
    const d = writeLog();
    tamper(d.path, "UPDATE accounts SET name = 'mallory' WHERE id = 0");
    expect(verifyAudit(d.path).reason).toMatch(/accounts table/);
    const f = writeLog();
    tamper(f.path, 'UPDATE events SET type = ? WHERE seq = 60', EventType.Trade + 100);
    expect(verifyAudit(f.path)).toMatchObject({ ok: false, firstBadSeq: 60 });
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
