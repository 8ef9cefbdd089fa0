import { createHash } from 'node:crypto';

/**
 * The tamper-evident chain of the audit log: the per-row hash and the block
 * hashes (see audit.ts for the design). The CRC-32 functions are the per-row
 * check rowHash replaced, kept as the baseline bench/output.bench.ts compares with.
 */

export const AUDIT_FORMAT = 'exsim-audit';
/** 3: one SQLite row per block of events, with per-event index columns as blobs (audit-block.ts). */
export const AUDIT_FORMAT_VERSION = 3;

/**
 * CRC-32 tables for slicing-by-8. In JS, 8 bytes per step beat both the
 * byte-wise table loop (~0.57 us per 190-byte line) and zlib.crc32 on a view of
 * the line (~0.36 us, mostly call and view overhead): ~0.26 us (crc.mjs
 * micro-bench, node 20.20, 525k lines of events.ndjson). Works on every Node.
 */
const CRC_T8 = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** CRC-32 (IEEE) of b[start, end), continuing from `crc`; unsigned. */
export function crc32Bytes(b: Uint8Array, start: number, end: number, crc: number): number {
  const t = CRC_T8;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const x = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c =
      t[1792 + (x & 0xff)]! ^
      t[1536 + ((x >>> 8) & 0xff)]! ^
      t[1280 + ((x >>> 16) & 0xff)]! ^
      t[1024 + (x >>> 24)]! ^
      t[768 + b[i + 4]!]! ^
      t[512 + b[i + 5]!]! ^
      t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const NEWLINE = Buffer.from('\n');

/** CRC-32 (IEEE) of `s` as UTF-8 followed by "\n", continuing from `crc`; unsigned. */
export function crc32Line(s: string, crc: number): number {
  const b = Buffer.from(s, 'utf8');
  return crc32Bytes(NEWLINE, 0, 1, crc32Bytes(b, 0, b.length, crc));
}

/** The byte-wise reference, exported so a test can hold the sliced one to it. */
export const crc32LineJs = (s: string, crc: number): number => {
  const b = Buffer.from(s + '\n', 'utf8');
  let c = ~crc;
  for (let i = 0; i < b.length; i++) c = CRC_T8[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** The hash the first block chains to: it covers the run's identity. */
export function genesisHash(m: { scenario: string; seed: string; instruments: readonly string[]; accounts: readonly string[] }): string {
  return sha256Hex(`${AUDIT_FORMAT} v${AUDIT_FORMAT_VERSION} ${JSON.stringify([m.scenario, m.seed, m.instruments, m.accounts])}\n`);
}


/** The anchor of a log: SHA-256 over the genesis hash (the run's identity) and the SHA-256 of all its lines. */
export function headHashOf(genesisHex: string, linesSha256Hex: string): string {
  return sha256Hex(`${genesisHex}\n${linesSha256Hex}\n`);
}


const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The per-row check of the audit chain: a 32-bit hash of a line's bytes,
 * seeded with the previous row's value (so a deleted, inserted or moved row
 * breaks the rows after it too). `block` holds the block's lines from byte 0
 * and `words` is an Int32Array over the same memory (4-byte aligned): the
 * line's bytes are read a little-endian word at a time on the block's 4-byte
 * grid, in four independent lanes, the partial words at its ends byte by byte.
 *
 * Why not CRC-32 (audit format v3 as first written): a table CRC in JS is
 * ~0.16 us per 190-byte line, 0.55-0.7 s of a 3.3 M-event day on the audit
 * thread; zlib.crc32 per line is slower still (0.33 us, the call and the view
 * per line). This is ~0.07 us (measured on the same lines, node 20.20). It is
 * a diagnostic, naming the first altered row for a tamperer who did not
 * recompute it; the SHA-256 of the blocks is what a forger cannot get past.
 */
export function rowHash(words: Int32Array, block: Uint8Array, start: number, end: number, seed: number): number {
  let a0 = (seed ^ Math.imul(end - start, P2)) | 0;
  let a1 = 0x243f6a88;
  let a2 = 0x85a308d3 | 0;
  let a3 = 0x13198a2e;
  const first = (start + 3) >> 2; // first whole word in the line
  const last = end >> 2; // one past the last whole word
  if (first < last) {
    let k = first;
    if (LITTLE_ENDIAN) {
      for (; k + 4 <= last; k += 4) {
        a0 = Math.imul(a0 ^ words[k]!, P1);
        a1 = Math.imul(a1 ^ words[k + 1]!, P1);
        a2 = Math.imul(a2 ^ words[k + 2]!, P1);
        a3 = Math.imul(a3 ^ words[k + 3]!, P1);
        a0 ^= a0 >>> 15;
        a1 ^= a1 >>> 15;
        a2 ^= a2 >>> 15;
        a3 ^= a3 >>> 15;
      }
      for (; k < last; k++) {
        a0 = Math.imul(a0 ^ words[k]!, P1);
        a0 ^= a0 >>> 15;
      }
    } else {
      const w = (j: number): number => block[4 * j]! | (block[4 * j + 1]! << 8) | (block[4 * j + 2]! << 16) | (block[4 * j + 3]! << 24);
      for (; k + 4 <= last; k += 4) {
        a0 = Math.imul(a0 ^ w(k), P1);
        a1 = Math.imul(a1 ^ w(k + 1), P1);
        a2 = Math.imul(a2 ^ w(k + 2), P1);
        a3 = Math.imul(a3 ^ w(k + 3), P1);
        a0 ^= a0 >>> 15;
        a1 ^= a1 >>> 15;
        a2 ^= a2 >>> 15;
        a3 ^= a3 >>> 15;
      }
      for (; k < last; k++) {
        a0 = Math.imul(a0 ^ w(k), P1);
        a0 ^= a0 >>> 15;
      }
    }
  }
  let h = a0 ^ Math.imul(a1, P2) ^ Math.imul(a2 ^ (a2 >>> 7), P1) ^ Math.imul(a3 ^ (a3 >>> 11), P2);
  if (first < last) {
    for (let i = start; i < first * 4; i++) h = Math.imul(h ^ block[i]!, P2);
    for (let i = last * 4; i < end; i++) h = Math.imul(h ^ block[i]!, P2);
  } else {
    for (let i = start; i < end; i++) h = Math.imul(h ^ block[i]!, P2);
  }
  h ^= h >>> 13;
  h = Math.imul(h, P1);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The word view rowHash needs over a block's bytes; copies them to aligned memory if they are not. */
export function blockWords(block: Uint8Array): { bytes: Uint8Array; words: Int32Array } {
  let bytes = block;
  if (block.byteOffset % 4 !== 0) {
    bytes = new Uint8Array(new ArrayBuffer(block.length));
    bytes.set(block);
  }
  return { bytes, words: new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) };
}

/** The row hashes of a block whose rows end at `ends` (offsets just past each "\n"), chained from `seed`. */
export function blockRowHashes(block: Uint8Array, ends: readonly number[], seed: number): number[] {
  const { bytes, words } = blockWords(block);
  const out: number[] = [];
  let h = seed;
  let start = 0;
  for (const end of ends) {
    h = rowHash(words, bytes, start, end, h);
    out.push(h);
    start = end;
  }
  return out;
}
