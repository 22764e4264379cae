import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import {
  CLOUDWATCH_TIMESTAMP,
  normalizeQueryName,
  readResolverLine,
} from '../parsers/route53-resolver/index.js';
import { MAX_LINE_BYTES } from '../read.js';

/** Queries of one (instance, name) pair. */
export interface QueryCount {
  queries: number;
  /** Per rcode as the log writes it (NOERROR, NXDOMAIN, SERVFAIL, ...). */
  rcodes: Record<string, number>;
}

/** Instance (or source address) → query name → counts. */
export type QueryCounts = Map<string, Map<string, QueryCount>>;

/** A part of one file to count: a byte range of an uncompressed file, or a whole gzip file. */
export interface ScanTask {
  path: string;
  start: number;
  /** Exclusive; ignored for gzip. */
  end: number;
  gzip: boolean;
}

export interface ScanResult {
  counts: QueryCounts;
  records: number;
  /** Lines in the range, to number the lines of the ranges after it. */
  lines: number;
  /** Line numbers are counted from the start of the range (1-based). */
  problems: Array<{ line: number; reason: string }>;
  /** Lines that went through the full parser. */
  slowLines: number;
}

// ---------------------------------------------------------------------------------------------
// The fast path: a validating JSON scanner over the bytes of one line. It accepts only what
// JSON.parse accepts (no escapes, no control characters in strings), and returns false for
// anything else, so that the full parser decides: the counts are the parser's, exactly.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MAX_DEPTH = 256;

const KEY_NONE = 0;
const KEY_NAME = 1;
const KEY_RCODE = 2;
const KEY_SRCADDR = 3;
const KEY_SRCIDS = 4;
const KEY_INSTANCE = 5;
const KEY_ENVELOPE = 6;

const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));
const NAME_KEY = bytes('query_name');
const RCODE_KEY = bytes('rcode');
const SRCADDR_KEY = bytes('srcaddr');
const SRCIDS_KEY = bytes('srcids');
const INSTANCE_KEY = bytes('instance');
const ENVELOPE_KEY = bytes('logEvents');
const TRUE = bytes('true');
const FALSE = bytes('false');
const NULL = bytes('null');

// The values found in the last line scanned: byte offsets, -1 absent, -2 not a string.
let nameStart = -1;
let nameEnd = -1;
let rcodeStart = -1;
let rcodeEnd = -1;
let srcStart = -1;
let srcEnd = -1;
let instStart = -1;
let instEnd = -1;
let envelope = false;

// Bytes that end the fast scan of a string: the quote, a backslash, control characters.
const STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STOP[c] = 1;
STOP[QUOTE] = 1;
STOP[BACKSLASH] = 1;

// The buffer and the line's end are passed down as arguments: locals stay in registers.
function skipWs(b: Buffer, i: number, lim: number): number {
  while (i < lim) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/** `i` at an opening quote: the index of the closing quote, or -1. */
function stringEnd(b: Buffer, i: number, lim: number): number {
  i++;
  while (i < lim && STOP[b[i]!] === 0) i++;
  return i < lim && b[i] === QUOTE ? i : -1;
}

function same(b: Buffer, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key[k]) return false;
  return true;
}

function keyOf(b: Buffer, start: number, end: number, inSrcids: boolean): number {
  if (inSrcids) return same(b, start, end, INSTANCE_KEY) ? KEY_INSTANCE : KEY_NONE;
  switch (end - start) {
    case 10:
      return same(b, start, end, NAME_KEY) ? KEY_NAME : KEY_NONE;
    case 5:
      return same(b, start, end, RCODE_KEY) ? KEY_RCODE : KEY_NONE;
    case 7:
      return same(b, start, end, SRCADDR_KEY) ? KEY_SRCADDR : KEY_NONE;
    case 6:
      return same(b, start, end, SRCIDS_KEY) ? KEY_SRCIDS : KEY_NONE;
    case 9:
      return same(b, start, end, ENVELOPE_KEY) ? KEY_ENVELOPE : KEY_NONE;
    default:
      return KEY_NONE;
  }
}

function literal(b: Buffer, i: number, lim: number, word: Uint8Array): number {
  if (i + word.length > lim) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}

function digits(b: Buffer, i: number, lim: number): number {
  const from = i;
  while (i < lim && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  return i === from ? -1 : i;
}

// JSON's number grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
function number(b: Buffer, i: number, lim: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= lim) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i]! >= 0x31 && b[i]! <= 0x39) i = digits(b, i, lim);
  else return -1;
  if (i < lim && b[i] === 0x2e) {
    i = digits(b, i + 1, lim);
    if (i < 0) return -1;
  }
  if (i < lim && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < lim && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    i = digits(b, i, lim);
  }
  return i;
}

function value(b: Buffer, i: number, lim: number, depth: number): number {
  if (i >= lim) return -1;
  const c = b[i]!;
  if (c === QUOTE) {
    const end = stringEnd(b, i, lim);
    return end < 0 ? -1 : end + 1;
  }
  if (c === OPEN_BRACE) return object(b, i, lim, depth + 1, 0);
  if (c === OPEN_BRACKET) return array(b, i, lim, depth + 1);
  if (c === 0x74) return literal(b, i, lim, TRUE);
  if (c === 0x66) return literal(b, i, lim, FALSE);
  if (c === 0x6e) return literal(b, i, lim, NULL);
  return number(b, i, lim);
}

// Whitespace as JSON has it.
const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0d] = WS[0x0a] = 1;

// object() and array() inline the common cases (strings, whitespace) by hand: calls cost more
// than the bytes they look at.
function array(b: Buffer, i: number, lim: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  i++;
  while (i < lim && WS[b[i]!] === 1) i++;
  if (i < lim && b[i] === CLOSE_BRACKET) return i + 1;
  for (;;) {
    if (i >= lim) return -1;
    if (b[i] === QUOTE) {
      i++;
      while (i < lim && STOP[b[i]!] === 0) i++;
      if (i >= lim || b[i] !== QUOTE) return -1;
      i++;
    } else if (b[i] === OPEN_BRACE) i = object(b, i, lim, depth + 1, 0);
    else i = value(b, i, lim, depth);
    if (i < 0) return -1;
    while (i < lim && WS[b[i]!] === 1) i++;
    if (i >= lim) return -1;
    const c = b[i];
    if (c === COMMA) {
      i++;
      while (i < lim && WS[b[i]!] === 1) i++;
    } else if (c === CLOSE_BRACKET) return i + 1;
    else return -1;
  }
}

/**
 * `role` 1 is the top-level object (its keys are looked at), 2 is the object of `srcids`
 * directly in it, 0 any other object. Duplicate keys: the last wins, as with JSON.parse.
 */
function object(b: Buffer, i: number, lim: number, depth: number, role: number): number {
  if (depth > MAX_DEPTH) return -1;
  i++;
  while (i < lim && WS[b[i]!] === 1) i++;
  if (i < lim && b[i] === CLOSE_BRACE) return i + 1;
  for (;;) {
    if (i >= lim || b[i] !== QUOTE) return -1;
    const keyStart = i + 1;
    i = keyStart;
    while (i < lim && STOP[b[i]!] === 0) i++;
    if (i >= lim || b[i] !== QUOTE) return -1;
    // Only keys whose first letter can match are compared.
    const f = b[keyStart];
    const key =
      role === 0 || (f !== 0x71 && f !== 0x72 && f !== 0x73 && f !== 0x69 && f !== 0x6c)
        ? KEY_NONE
        : keyOf(b, keyStart, i, role === 2);
    i++;
    while (i < lim && WS[b[i]!] === 1) i++;
    if (i >= lim || b[i] !== COLON) return -1;
    i++;
    while (i < lim && WS[b[i]!] === 1) i++;
    if (i >= lim) return -1;
    const start = i;
    if (b[i] === QUOTE) {
      i++;
      while (i < lim && STOP[b[i]!] === 0) i++;
      if (i >= lim || b[i] !== QUOTE) return -1;
      i++;
    } else if (key === KEY_SRCIDS) {
      instStart = instEnd = -1;
      i = b[i] === OPEN_BRACE ? object(b, i, lim, depth + 1, 2) : value(b, i, lim, depth);
    } else i = value(b, i, lim, depth);
    if (i < 0) return -1;
    if (key !== KEY_NONE) {
      const isString = b[start] === QUOTE;
      const s = isString ? start + 1 : -2;
      const e = isString ? i - 1 : -2;
      if (key === KEY_NAME) {
        nameStart = s;
        nameEnd = e;
      } else if (key === KEY_RCODE) {
        rcodeStart = s;
        rcodeEnd = e;
      } else if (key === KEY_SRCADDR) {
        srcStart = s;
        srcEnd = e;
      } else if (key === KEY_INSTANCE) {
        instStart = isString ? s : -1;
        instEnd = isString ? e : -1;
      } else if (key === KEY_SRCIDS) {
        // A string where srcids should be an object: no instance.
        if (isString) instStart = instEnd = -1;
      } else if (key === KEY_ENVELOPE) envelope = true;
    }
    while (i < lim && WS[b[i]!] === 1) i++;
    if (i >= lim) return -1;
    const c = b[i];
    if (c === COMMA) {
      i++;
      while (i < lim && WS[b[i]!] === 1) i++;
    } else if (c === CLOSE_BRACE) return i + 1;
    else return -1;
  }
}

/**
 * Scans one line (`b[start, lim)`, without its line ending). True when it is exactly one
 * query record the fast path can count; its values are then in the variables above.
 */
function scanLine(b: Buffer, start: number, lim: number): boolean {
  nameStart = rcodeStart = srcStart = instStart = -1;
  envelope = false;
  let i = skipWs(b, start, lim);
  if (i >= lim) return false;
  const first = b[i]!;
  if (first >= 0x30 && first <= 0x39) {
    // A CloudWatch Logs export line: `<ISO timestamp> <json>`.
    let space = i;
    while (space < lim && space - i < 48 && b[space] !== 0x20 && b[space] !== 0x09) space++;
    if (space >= lim || (b[space] !== 0x20 && b[space] !== 0x09)) return false;
    if (!CLOUDWATCH_TIMESTAMP.test(b.toString('latin1', i, space))) return false;
    i = skipWs(b, space, lim);
  }
  if (i >= lim || b[i] !== OPEN_BRACE) return false;
  i = object(b, i, lim, 1, 1);
  if (i < 0 || skipWs(b, i, lim) !== lim) return false;
  return nameStart >= 0 && rcodeStart >= 0 && srcStart >= 0 && !envelope;
}

// ---------------------------------------------------------------------------------------------
// Counting by bytes: a log repeats a few thousand (instance, name) pairs millions of times, so
// the fast path counts raw byte pairs in a hash table and decodes each distinct pair once, at
// the end. Decoding and map lookups per line would cost more than the scan.

/** Distinct values (and pairs) kept by bytes; beyond, new ones are counted as strings (hostile input). */
const MAX_ENTRIES = 1 << 20;
/** Distinct rcodes counted by id (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...); others as strings. */
const MAX_RCODES = 8;
const EMPTY = -1;

/** Grows a typed array to hold at least `size` elements. */
function ensure<T extends Int32Array | Uint8Array | Float64Array>(array: T, size: number): T {
  if (size <= array.length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(size, array.length * 2));
  grown.set(array);
  return grown;
}

/**
 * Byte strings → small integer ids, in an open-addressing table over typed arrays (compact
 * and monomorphic: it stays in the CPU cache, which is what makes it fast).
 */
class ByteInterner {
  private mask = 1023;
  private slots = new Int32Array(1024).fill(EMPTY);
  size = 0;
  private hashes = new Int32Array(256);
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  private arena = new Uint8Array(16 * 1024);
  private used = 0;

  /** The id of `b[start, end)`; -1 when the table is full and the value is new. */
  id(b: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    // 30 bits: V8 keeps small integers unboxed.
    h &= 0x3fffffff;
    const arena = this.arena;
    let slot = h & this.mask;
    for (;;) {
      const k = this.slots[slot]!;
      if (k === EMPTY) break;
      if (this.hashes[k] === h && this.lengths[k] === length) {
        const at = this.starts[k]! - start;
        let i = start;
        while (i < end && arena[at + i] === b[i]) i++;
        if (i === end) return k;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.size >= MAX_ENTRIES) return -1;
    const k = this.size++;
    this.hashes = ensure(this.hashes, k + 1);
    this.starts = ensure(this.starts, k + 1);
    this.lengths = ensure(this.lengths, k + 1);
    this.arena = ensure(this.arena, this.used + length);
    this.arena.set(b.subarray(start, end), this.used);
    this.hashes[k] = h;
    this.starts[k] = this.used;
    this.lengths[k] = length;
    this.used += length;
    this.slots[slot] = k;
    if (this.size * 2 > this.mask) this.grow();
    return k;
  }

  /** The value of an id, decoded as UTF-8 (as the parser reads it). */
  text(k: number): string {
    const at = this.starts[k]!;
    return Buffer.from(this.arena.buffer, this.arena.byteOffset, this.used).toString(
      'utf8',
      at,
      at + this.lengths[k]!,
    );
  }

  private grow(): void {
    this.mask = this.mask * 2 + 1;
    this.slots = new Int32Array(this.mask + 1).fill(EMPTY);
    for (let k = 0; k < this.size; k++) {
      let slot = this.hashes[k]! & this.mask;
      while (this.slots[slot]! !== EMPTY) slot = (slot + 1) & this.mask;
      this.slots[slot] = k;
    }
  }
}

/** (who id, name id) → counts per rcode id, in one typed array of [who, name] slots. */
class PairCounts {
  private mask = 4095;
  private keys = new Int32Array(2 * 4096).fill(EMPTY);
  private index = new Int32Array(4096);
  size = 0;
  private counts = new Float64Array(1024 * MAX_RCODES);

  /** Counts one query; false when the table is full and the pair is new. */
  add(who: number, name: number, rcode: number): boolean {
    let slot = (Math.imul(who, 0x9e3779b1) ^ name) & this.mask;
    for (;;) {
      const w = this.keys[2 * slot]!;
      if (w === EMPTY) break;
      if (w === who && this.keys[2 * slot + 1] === name) {
        this.counts[this.index[slot]! * MAX_RCODES + rcode]!++;
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.size >= MAX_ENTRIES) return false;
    const k = this.size++;
    this.counts = ensure(this.counts, (k + 1) * MAX_RCODES);
    this.keys[2 * slot] = who;
    this.keys[2 * slot + 1] = name;
    this.index[slot] = k;
    this.counts[k * MAX_RCODES + rcode]!++;
    if (this.size * 2 > this.mask) this.grow();
    return true;
  }

  /** Calls `each` for every (who id, name id, rcode id, count) counted. */
  forEach(each: (who: number, name: number, rcode: number, n: number) => void): void {
    for (let slot = 0; slot <= this.mask; slot++) {
      const who = this.keys[2 * slot]!;
      if (who === EMPTY) continue;
      const base = this.index[slot]! * MAX_RCODES;
      for (let r = 0; r < MAX_RCODES; r++) {
        const n = this.counts[base + r]!;
        if (n > 0) each(who, this.keys[2 * slot + 1]!, r, n);
      }
    }
  }

  private grow(): void {
    const { keys, index } = this;
    this.mask = this.mask * 2 + 1;
    this.keys = new Int32Array(2 * (this.mask + 1)).fill(EMPTY);
    this.index = new Int32Array(this.mask + 1);
    for (let old = 0; old < index.length; old++) {
      const who = keys[2 * old]!;
      if (who === EMPTY) continue;
      const name = keys[2 * old + 1]!;
      let slot = (Math.imul(who, 0x9e3779b1) ^ name) & this.mask;
      while (this.keys[2 * slot]! !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[2 * slot] = who;
      this.keys[2 * slot + 1] = name;
      this.index[slot] = index[old]!;
    }
  }
}

/** Counts by bytes: instances, names and rcodes as ids, decoded once per distinct value at the end. */
class ByteCounts {
  private whos = new ByteInterner();
  private names = new ByteInterner();
  private rcodes = new ByteInterner();
  private pairs = new PairCounts();

  /** Counts one query; false when it must be counted as strings instead (tables full). */
  add(
    b: Uint8Array,
    whoStart: number,
    whoEnd: number,
    nameStart: number,
    nameEnd: number,
    rcodeStart: number,
    rcodeEnd: number,
  ): boolean {
    const rcode = this.rcodes.id(b, rcodeStart, rcodeEnd);
    if (rcode < 0 || rcode >= MAX_RCODES) return false;
    const who = this.whos.id(b, whoStart, whoEnd);
    const name = this.names.id(b, nameStart, nameEnd);
    return who >= 0 && name >= 0 && this.pairs.add(who, name, rcode);
  }

  /** Adds the counts to `into`, decoded and normalized as the parser does. */
  addTo(into: QueryCounts): void {
    const whos = new Map<number, string>();
    const names = new Map<number, string>();
    const rcodes = new Map<number, string>();
    this.pairs.forEach((who, name, rcode, n) => {
      let whoText = whos.get(who);
      if (whoText === undefined) whos.set(who, (whoText = this.whos.text(who)));
      let nameText = names.get(name);
      if (nameText === undefined) names.set(name, (nameText = normalizeQueryName(this.names.text(name))));
      let rcodeText = rcodes.get(rcode);
      if (rcodeText === undefined) rcodes.set(rcode, (rcodeText = this.rcodes.text(rcode)));
      addCount(into, whoText, nameText, rcodeText, n);
    });
  }
}

/** Adds `n` queries of (`who`, `name`) with `rcode` to `counts`. */
export function addCount(counts: QueryCounts, who: string, name: string, rcode: string, n = 1): void {
  let names = counts.get(who);
  if (names === undefined) {
    names = new Map();
    counts.set(who, names);
  }
  let count = names.get(name);
  if (count === undefined) {
    count = { queries: 0, rcodes: {} };
    names.set(name, count);
  }
  count.queries += n;
  count.rcodes[rcode] = (count.rcodes[rcode] ?? 0) + n;
}

/** Adds every count of `from` into `into`. */
export function mergeCounts(into: QueryCounts, from: QueryCounts): void {
  for (const [who, names] of from) {
    for (const [name, count] of names) {
      for (const [rcode, n] of Object.entries(count.rcodes)) addCount(into, who, name, rcode, n);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: lines exactly as read.ts's forEachLine makes them (`\n` endings, one `\r` removed,
// lines over MAX_LINE_BYTES cut and reported), from a reused buffer: memory stays flat.

const CHUNK = 4 * 1024 * 1024;

/** Counts the queries of one task, with constant memory (plus the distinct pairs). */
export async function scanTask(task: ScanTask): Promise<ScanResult> {
  const counts: QueryCounts = new Map();
  const problems: Array<{ line: number; reason: string }> = [];
  const pairs = new ByteCounts();
  let records = 0;
  let lines = 0;
  let slowLines = 0;

  const slow = (buf: Buffer, start: number, end: number) => {
    slowLines++;
    const read = readResolverLine(buf.toString('utf8', start, end));
    for (const reason of read.errors) problems.push({ line: lines, reason });
    for (const query of read.queries) {
      addCount(counts, query.instance ?? query.srcaddr, query.name, query.rcode);
      records++;
    }
  };

  const onLine = (buf: Buffer, start: number, end: number, cut: boolean) => {
    lines++;
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (cut) {
      problems.push({ line: lines, reason: `line longer than ${MAX_LINE_BYTES} bytes, cut` });
      slow(buf, start, end);
      return;
    }
    if (start === end) return;
    if (!scanLine(buf, start, end)) {
      slow(buf, start, end);
      return;
    }
    const whoStart = instStart >= 0 ? instStart : srcStart;
    const whoEnd = instStart >= 0 ? instEnd : srcEnd;
    if (!pairs.add(buf, whoStart, whoEnd, nameStart, nameEnd, rcodeStart, rcodeEnd)) {
      addCount(
        counts,
        buf.toString('utf8', whoStart, whoEnd),
        normalizeQueryName(buf.toString('utf8', nameStart, nameEnd)),
        buf.toString('utf8', rcodeStart, rcodeEnd),
      );
    }
    records++;
  };

  const splitter = new LineSplitter(onLine);
  if (task.gzip) {
    const handle = await open(task.path, 'r');
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const raw = handle.createReadStream({ highWaterMark: 1024 * 1024 });
    raw.on('error', (error) => gunzip.destroy(error));
    try {
      for await (const chunk of raw.pipe(gunzip) as AsyncIterable<Buffer>) splitter.push(chunk);
    } catch (error) {
      splitter.finish();
      problems.push({ line: lines + 1, reason: `unreadable from here: ${(error as Error).message}` });
      pairs.addTo(counts);
      return { counts, records, lines, problems, slowLines };
    } finally {
      raw.destroy();
    }
  } else {
    const handle = await open(task.path, 'r');
    try {
      let position = task.start;
      while (position < task.end) {
        const space = splitter.space();
        const want = Math.min(space.length, task.end - position);
        const { bytesRead } = await handle.read(space, 0, want, position);
        if (bytesRead === 0) break;
        splitter.commit(bytesRead);
        position += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
  splitter.finish();
  pairs.addTo(counts);
  return { counts, records, lines, problems, slowLines };
}

/** Cuts a byte stream into lines in one reused buffer; a line is `(buf, start, end, cut)`. */
class LineSplitter {
  private buf = Buffer.allocUnsafe(CHUNK + MAX_LINE_BYTES);
  private filled = 0;
  /** The current line is over-long: its first MAX_LINE_BYTES were emitted, skip to its end. */
  private skipping = false;

  constructor(private readonly onLine: (buf: Buffer, start: number, end: number, cut: boolean) => void) {}

  /** Where the next bytes go. */
  space(): Buffer {
    return this.buf.subarray(this.filled);
  }

  commit(n: number): void {
    this.filled += n;
    this.drain();
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = chunk.copy(this.buf, this.filled, offset);
      offset += n;
      this.commit(n);
    }
  }

  finish(): void {
    if (this.filled > 0 && !this.skipping) this.onLine(this.buf, 0, this.filled, false);
    this.filled = 0;
    this.skipping = false;
  }

  private drain(): void {
    const buf = this.buf;
    // A view bounded at `filled`: bytes after it are stale.
    const view = buf.subarray(0, this.filled);
    let start = 0;
    for (;;) {
      const nl = view.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.skipping) this.skipping = false;
      else if (nl - start > MAX_LINE_BYTES) this.onLine(buf, start, start + MAX_LINE_BYTES, true);
      else this.onLine(buf, start, nl, false);
      start = nl + 1;
    }
    if (this.skipping) {
      this.filled = 0;
      return;
    }
    let rest = this.filled - start;
    if (rest > MAX_LINE_BYTES) {
      this.onLine(buf, start, start + MAX_LINE_BYTES, true);
      this.skipping = true;
      rest = 0;
    } else if (start > 0 && rest > 0) buf.copy(buf, 0, start, this.filled);
    this.filled = rest;
  }
}
