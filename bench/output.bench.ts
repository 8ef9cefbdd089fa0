/**
 * Output side throughput on a seeded stream of sample events (all types,
 * ~176-byte lines), decoded from a typed array so the timed loops only do the
 * output work:
 * - formatting alone (bytes into a buffer, and as strings),
 * - the two audit chain designs on the formatted lines,
 * - format + events.ndjson, and + audit.sqlite, inline,
 * - the same through the worker: events/s seen by the producer (emit loop) and
 *   in total (until close() has renamed the files).
 * Median of repetitions after a warm-up.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/output.bench.js [events]
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { EVENT_SLOTS, EventRecord, decodeEvent } from '../engine/event.js';
import { AUDIT_BLOCK_ROWS } from '../sim/sinks/audit.js';
import { blockRowHashes, crc32Line } from '../sim/sinks/audit-chain.js';
import { CanonicalLineWriter, LINE_BYTES_MAX, createEventFormatter } from '../sim/sinks/event-format.js';
import { openOutput } from '../sim/sinks/output.js';
import { SAMPLE_ACCOUNTS, SAMPLE_INSTRUMENTS, sampleEvents } from '../sim/sinks/sample-events.js';

export interface OutputBenchRow {
  name: string;
  eventsPerSec: number;
  /** For worker rows: events/s of the emit loop alone. */
  producerPerSec?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function runOutputBench(n = 1_000_000, reps = 3): Promise<OutputBenchRow[]> {
  const events = sampleEvents(n, 'exsim-output-bench-1');
  const e = new EventRecord();
  const rows: OutputBenchRow[] = [];
  const time = (fn: () => void): number => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  const rate = (ms: number): number => Math.round(n / (ms / 1000));

  // Formatting alone.
  const w = new CanonicalLineWriter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
  const buf = Buffer.allocUnsafe((1 << 20) + LINE_BYTES_MAX);
  const fmtBytes = (): void => {
    let p = 0;
    for (let i = 0; i < n; i++) {
      decodeEvent(events, i * EVENT_SLOTS, e);
      p = w.write(e, buf, p);
      buf[p++] = 10;
      if (p >= 1 << 20) p = 0;
    }
  };
  fmtBytes();
  rows.push({ name: 'format (bytes into a buffer)', eventsPerSec: rate(median(Array.from({ length: reps }, () => time(fmtBytes)))) });

  const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
  const lines: string[] = new Array<string>(n);
  const fmtStrings = (): void => {
    for (let i = 0; i < n; i++) {
      decodeEvent(events, i * EVENT_SLOTS, e);
      lines[i] = fmt(e);
    }
  };
  fmtStrings();
  rows.push({ name: 'format (strings)', eventsPerSec: rate(median(Array.from({ length: reps }, () => time(fmtStrings)))) });

  // Chain designs over the same lines.
  const crcBlock = (): void => {
    let crc = 0;
    let h = '';
    const prefix = createHash('sha256');
    for (let i = 0; i < n; i++) {
      const l = lines[i]!;
      crc = crc32Line(l, crc);
      prefix.update(l + '\n');
      if ((i + 1) % AUDIT_BLOCK_ROWS === 0) h = prefix.copy().digest('hex');
    }
    if (crc === -1 || h === 'x') throw new Error('unreachable');
  };
  // As the store does it: row hashes over a block's bytes, then the SHA-256 prefix.
  const blocks: Array<{ bytes: Buffer; ends: number[] }> = [];
  for (let i = 0; i < n; i += AUDIT_BLOCK_ROWS) {
    const part = lines.slice(i, i + AUDIT_BLOCK_ROWS).map((l) => l + '\n');
    const ends: number[] = [];
    let end = 0;
    for (const l of part) ends.push((end += Buffer.byteLength(l)));
    blocks.push({ bytes: Buffer.from(part.join('')), ends });
  }
  const rowHashBlock = (): void => {
    let seed = 0;
    const prefix = createHash('sha256');
    for (const b of blocks) {
      const hs = blockRowHashes(b.bytes, b.ends, seed);
      seed = hs[hs.length - 1]!;
      prefix.update(b.bytes).copy().digest('hex');
    }
  };
  rows.push({ name: `chain: row hash per row + SHA-256 prefix per ${AUDIT_BLOCK_ROWS} rows (the store)`, eventsPerSec: rate(median(Array.from({ length: reps }, () => time(rowHashBlock)))) });
  rows.push({ name: `chain: CRC-32 per row + SHA-256 prefix per ${AUDIT_BLOCK_ROWS} rows`, eventsPerSec: rate(median(Array.from({ length: reps }, () => time(crcBlock)))) });
  const perRow = (): void => {
    let h = '';
    for (let i = 0; i < n; i++) h = oneShotHash('sha256', h + lines[i]!);
    if (h === 'x') throw new Error('unreachable');
  };
  rows.push({ name: 'chain: SHA-256 per row (crypto.hash)', eventsPerSec: rate(median(Array.from({ length: reps }, () => time(perRow)))) });

  // The pipeline.
  const root = mkdtempSync(join(tmpdir(), 'exsim-output-bench-'));
  try {
    for (const audit of [false, true]) {
      for (const thread of ['inline', 'worker'] as const) {
        const total: number[] = [];
        const producer: number[] = [];
        for (let r = 0; r < reps + 1; r++) {
          const outDir = mkdtempSync(join(root, 'run-'));
          const t0 = performance.now();
          const sink = openOutput({ outDir, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS, scenario: 'bench', seed: 1, audit, thread });
          for (let i = 0; i < n; i++) {
            decodeEvent(events, i * EVENT_SLOTS, e);
            sink.emit(e);
          }
          const t1 = performance.now();
          await sink.close();
          const t2 = performance.now();
          rmSync(outDir, { recursive: true, force: true });
          if (r === 0) continue; // warm-up
          producer.push(t1 - t0);
          total.push(t2 - t0);
        }
        rows.push({
          name: `format + events.ndjson${audit ? ' + audit.sqlite' : ''}, ${thread}`,
          eventsPerSec: rate(median(total)),
          ...(thread === 'worker' ? { producerPerSec: rate(median(producer)) } : {}),
        });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const rows = await runOutputBench(n);
  console.log(`output bench, ${n} events, node ${process.version}`);
  for (const r of rows) {
    const extra = r.producerPerSec !== undefined ? `   (producer sees ${(r.producerPerSec / 1e6).toFixed(2)} M/s)` : '';
    console.log(`${r.name.padEnd(58)} ${(r.eventsPerSec / 1e6).toFixed(2)} M events/s${extra}`);
  }
}
