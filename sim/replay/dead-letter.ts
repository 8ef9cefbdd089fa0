import { writeFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** One input row that could not be used, with where it was and why. */
export interface DeadLetter {
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly reason: string;
  /** The row's text as it was in the file, without the line ending. */
  readonly raw: string;
}

/** Rows kept in memory; the count goes on beyond it so a summary never lies about how many were bad. */
export const DEAD_LETTERS_KEPT_MAX = 10_000;

/**
 * Collects malformed input rows so a replay can go on past them and report
 * them afterwards. Bad rows are rare, so a plain object per row is fine here.
 */
export class DeadLetters {
  readonly entries: DeadLetter[] = [];
  private total = 0;

  constructor(readonly keptMax = DEAD_LETTERS_KEPT_MAX) {}

  /** All bad rows seen, including those beyond `keptMax`. */
  get count(): number {
    return this.total;
  }

  add(file: string, line: number, reason: string, raw: string): void {
    this.total++;
    if (this.entries.length < this.keptMax) this.entries.push({ file, line, reason, raw });
  }

  toCsv(): string {
    let out = 'file,line,reason,raw\n';
    for (const e of this.entries) out += `${csvField(e.file)},${e.line},${csvField(e.reason)},${csvField(e.raw)}\n`;
    return out;
  }

  toNdjson(): string {
    let out = '';
    for (const e of this.entries) out += JSON.stringify({ file: e.file, line: e.line, reason: e.reason, raw: e.raw }) + '\n';
    return out;
  }

  /** Writes `.ndjson` (or `.jsonl`) as NDJSON, anything else as CSV. */
  write(path: string): void {
    const body = /\.(nd)?jsonl?$/i.test(path) ? this.toNdjson() : this.toCsv();
    try {
      writeFileSync(path, body);
    } catch (e) {
      throw new UserError(`${path}: cannot write the dead-letter file (${(e as Error).message})`);
    }
  }
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
