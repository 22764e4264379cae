import { gunzipSync } from 'node:zlib';
import type { ManifestProblem } from '../types.js';
import { splitLines } from '../agents/read.js';
import { extractSettings } from './settings.js';
import type { CloudInitPart, CloudInitPartType, JsonObject } from './types.js';
import { isObject, parseYaml } from './yaml.js';

/** Decompressed user-data larger than this is not read (a gzip bomb stays a problem, not an outage). */
export const MAX_GUNZIP_BYTES = 1024 * 1024;
const MAX_MIME_DEPTH = 8;

// cloudinit/handlers/__init__.py INCLUSION_TYPES_MAP; matched on the lower-cased, left-stripped
// payload, longest prefix first (type_from_starts_with).
const STARTS_WITH: ReadonlyArray<[string, string]> = (
  [
    ['#include', 'text/x-include-url'],
    ['#include-once', 'text/x-include-once-url'],
    ['#!', 'text/x-shellscript'],
    ['#cloud-config', 'text/cloud-config'],
    ['#upstart-job', 'text/upstart-job'],
    ['#part-handler', 'text/part-handler'],
    ['#cloud-boothook', 'text/cloud-boothook'],
    ['#cloud-config-archive', 'text/cloud-config-archive'],
    ['#cloud-config-jsonp', 'text/cloud-config-jsonp'],
    ['## template: jinja', 'text/jinja2'],
  ] as Array<[string, string]>
).sort((a, b) => b[0].length - a[0].length);

// cloudinit/user_data.py
const TYPE_NEEDED = new Set(['text/plain', 'text/x-not-multipart', 'text/x-shellscript']);
const INCLUDE_TYPES = new Set(['text/x-include-url', 'text/x-include-once-url']);
const ARCHIVE_TYPE = 'text/cloud-config-archive';
const DECOMP_TYPES = new Set([
  'application/gzip',
  'application/gzip-compressed',
  'application/gzipped',
  'application/x-compress',
  'application/x-compressed',
  'application/x-gunzip',
  'application/x-gzip',
  'application/x-gzip-compressed',
]);

/** The content type cloud-init infers from how a payload starts, or undefined. */
export function typeFromStartsWith(payload: string): string | undefined {
  const head = payload.slice(0, 64).toLowerCase().trimStart();
  return STARTS_WITH.find(([prefix]) => head.startsWith(prefix))?.[1];
}

function partTypeOf(contentType: string): CloudInitPartType {
  if (contentType === 'text/cloud-config') return 'cloud-config';
  if (contentType === 'text/x-shellscript' || contentType.startsWith('text/x-shellscript-per-'))
    return 'shell';
  if (contentType === 'text/cloud-boothook') return 'boothook';
  if (INCLUDE_TYPES.has(contentType)) return 'include';
  return 'unknown';
}

function isGzip(data: Buffer): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** A leaf entity of the user-data, before cloud-init's content-type routing. */
interface RawPart {
  contentType: string;
  payload: Buffer;
  startLine: number;
  encoded: boolean;
}

interface Context {
  path: string;
  problems: ManifestProblem[];
  parts: CloudInitPart[];
}

/** The URLs an include part fetches (cloudinit/user_data.py _do_include). */
export function includeUrls(text: string): string[] {
  const urls: string[] = [];
  for (let line of splitLines(text)) {
    const lower = line.toLowerCase();
    if (lower.startsWith('#include-once')) line = line.slice('#include-once'.length).trimStart();
    else if (lower.startsWith('#include')) line = line.slice('#include'.length).trimStart();
    if (line.startsWith('#')) continue;
    const url = line.trim();
    if (url !== '') urls.push(url);
  }
  return urls;
}

function makeCloudConfig(base: CloudInitPart, text: string, firstLine: number, ctx: Context): CloudInitPart {
  const parsed = parseYaml(text);
  const fileLine = (line: number | undefined): number =>
    base.encoded || line === undefined ? base.startLine : firstLine + line - 1;
  let config: JsonObject = {};
  if (parsed.error !== undefined) {
    ctx.problems.push({
      path: ctx.path,
      line: fileLine(parsed.error.line),
      reason: `${base.jinja ? 'unrendered jinja ' : ''}cloud-config is not valid YAML: ${parsed.error.reason}`,
    });
  } else if (isObject(parsed.value)) {
    config = parsed.value;
  } else if (parsed.value !== null) {
    ctx.problems.push({
      path: ctx.path,
      line: base.startLine,
      reason: 'cloud-config is not a mapping; ignored',
    });
  }
  const settings = extractSettings(config, (keyPath) => ({
    path: ctx.path,
    line: fileLine(parsed.lineOf(keyPath)),
  }));
  return { ...base, config, settings };
}

/** Builds the reported part for a payload whose routing type is known. */
function routePart(
  contentType: string,
  text: string,
  startLine: number,
  encoded: boolean,
  ctx: Context,
  jinja = false,
): CloudInitPart {
  if (contentType === 'text/jinja2') {
    // The handler renders the template, drops the header line, then routes by the rest.
    const newline = text.indexOf('\n');
    const rest = newline < 0 ? '' : text.slice(newline + 1);
    const subtype = typeFromStartsWith(rest);
    // Only cloud-config and shell scripts have a sub-handler after rendering.
    if (subtype !== 'text/cloud-config' && subtype !== 'text/x-shellscript') {
      return { type: 'unknown', contentType, startLine, encoded, jinja: true };
    }
    return routePart(subtype, rest, encoded ? startLine : startLine + 1, encoded, ctx, true);
  }
  const type = partTypeOf(contentType);
  const base: CloudInitPart = { type, contentType, startLine, encoded, jinja };
  if (type === 'cloud-config') return makeCloudConfig(base, text, startLine, ctx);
  if (type === 'shell' || type === 'boothook') return { ...base, text };
  if (type === 'include') {
    const urls = includeUrls(text);
    return { ...base, text: urls.join('\n'), urls };
  }
  // A JSON patch the cloud-config handler applies; kept as text for whoever evaluates it.
  if (contentType === 'text/cloud-config-jsonp') return { ...base, text };
  return base;
}

/** cloudinit/user_data.py _explode_archive: a YAML list of parts, attached without further routing. */
function explodeArchive(text: string, startLine: number, encoded: boolean, ctx: Context): void {
  const parsed = parseYaml(text);
  if (parsed.error !== undefined || !Array.isArray(parsed.value)) {
    ctx.problems.push({
      path: ctx.path,
      line: encoded ? startLine : startLine + (parsed.error?.line ?? 1) - 1,
      reason: `cloud-config-archive is not a YAML list${parsed.error ? `: ${parsed.error.reason}` : ''}`,
    });
    return;
  }
  parsed.value.forEach((entry, index) => {
    const item = typeof entry === 'string' ? { content: entry } : entry;
    if (!isObject(item)) return;
    const raw = item['content'] ?? '';
    const content = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const type = item['type'];
    const declared = typeof type === 'string' && type !== '' ? type.toLowerCase() : undefined;
    const contentType = declared ?? typeFromStartsWith(content) ?? 'text/cloud-config';
    // Include and archive types have no handler once attached: cloud-init ignores them here.
    const routed =
      INCLUDE_TYPES.has(contentType) || contentType === ARCHIVE_TYPE ? 'text/x-unhandled' : contentType;
    const line = encoded ? startLine : startLine + (parsed.lineOf([index]) ?? 1) - 1;
    const part = routePart(routed, content, line, true, ctx);
    ctx.parts.push(routed === contentType ? part : { ...part, contentType });
  });
}

/** cloudinit/user_data.py _process_msg for one leaf part. */
function processPart(raw: RawPart, ctx: Context): void {
  let { contentType, payload, encoded } = raw;
  if (DECOMP_TYPES.has(contentType)) {
    try {
      payload = gunzipSync(payload, { maxOutputLength: MAX_GUNZIP_BYTES });
    } catch (error) {
      ctx.problems.push({
        path: ctx.path,
        line: raw.startLine,
        reason: `cannot decompress ${contentType} part: ${(error as Error).message}`,
      });
      return;
    }
    contentType = 'text/plain';
    encoded = true;
  }
  const text = payload.toString('utf8');
  if (TYPE_NEEDED.has(contentType)) contentType = typeFromStartsWith(text) ?? contentType;
  if (contentType === ARCHIVE_TYPE) {
    explodeArchive(text, raw.startLine, encoded, ctx);
    return;
  }
  ctx.parts.push(routePart(contentType, text, raw.startLine, encoded, ctx));
}

interface ParsedHeaders {
  headers: Map<string, string>;
  bodyStart: number;
}

/** RFC 822 headers from `start`: until a blank line (skipped) or a line that is not a header. */
function parseHeaders(lines: string[], start: number, end: number): ParsedHeaders {
  const headers = new Map<string, string>();
  let current: string | undefined;
  let i = start;
  for (; i < end; i++) {
    const line = lines[i]!;
    if (line.trim() === '') return { headers, bodyStart: i + 1 };
    if (/^[ \t]/.test(line) && current !== undefined) {
      headers.set(current, `${headers.get(current)!} ${line.trim()}`);
      continue;
    }
    const match = /^([^\s:]+)[ \t]*:(.*)$/.exec(line);
    if (match === null) break;
    const name = match[1]!.toLowerCase();
    // Python's Message.get returns the first occurrence; later ones (and their continuations) are dropped.
    current = headers.has(name) ? undefined : name;
    if (current !== undefined) headers.set(name, match[2]!.trim());
  }
  return { headers, bodyStart: i };
}

function parseContentType(value: string | undefined): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (value === undefined) return { type: 'text/plain', params };
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const paramRe = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const match of value.matchAll(paramRe)) {
    let param = match[2]!.trim();
    if (param.startsWith('"')) param = param.slice(1, -1).replace(/\\(.)/g, '$1');
    params.set(match[1]!.toLowerCase(), param);
  }
  // email.message: a malformed type falls back to text/plain.
  return { type: /^[^/\s]+\/[^/\s]+$/.test(type) ? type : 'text/plain', params };
}

function decodeQuotedPrintable(lines: string[]): Buffer {
  const bytes: number[] = [];
  lines.forEach((line, index) => {
    let text = line.replace(/[ \t]+$/, '');
    const soft = text.endsWith('=');
    if (soft) text = text.slice(0, -1);
    for (let i = 0; i < text.length; i++) {
      const hex = text.slice(i + 1, i + 3);
      if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(text[i]!, 'utf8'));
      }
    }
    if (!soft && index < lines.length - 1) bytes.push(10);
  });
  return Buffer.from(bytes);
}

/**
 * Walks a MIME entity spanning lines [start, end). `anchor` is set when the whole text was
 * decoded from something else (gzip): every line cited is then that one.
 */
function walkMime(
  lines: string[],
  start: number,
  end: number,
  anchor: number | undefined,
  depth: number,
  out: RawPart[],
  ctx: Context,
): void {
  const lineNo = (index: number): number => anchor ?? index + 1;
  const { headers, bodyStart } = parseHeaders(lines, start, end);
  const { type, params } = parseContentType(headers.get('content-type'));
  if (type.startsWith('multipart/')) {
    const boundary = params.get('boundary');
    if (boundary === undefined || boundary === '') {
      ctx.problems.push({
        path: ctx.path,
        line: lineNo(start),
        reason: `${type} without a boundary: no part is read`,
      });
      return;
    }
    if (depth >= MAX_MIME_DEPTH) {
      ctx.problems.push({ path: ctx.path, line: lineNo(start), reason: 'MIME parts nested too deeply' });
      return;
    }
    const delimiter = `--${boundary}`;
    let partStart: number | undefined;
    for (let i = bodyStart; i < end; i++) {
      const line = lines[i]!.replace(/[ \t]+$/, '');
      if (line !== delimiter && line !== `${delimiter}--`) continue;
      if (partStart !== undefined) walkMime(lines, partStart, i, anchor, depth + 1, out, ctx);
      if (line === `${delimiter}--`) return;
      partStart = i + 1;
    }
    if (partStart !== undefined) {
      ctx.problems.push({ path: ctx.path, line: lineNo(end - 1), reason: `${type} has no closing boundary` });
      walkMime(lines, partStart, end, anchor, depth + 1, out, ctx);
    }
    return;
  }
  const body = lines.slice(bodyStart, end);
  const encoding = headers.get('content-transfer-encoding')?.trim().toLowerCase();
  if (encoding === 'base64') {
    out.push({
      contentType: type,
      payload: Buffer.from(body.join(''), 'base64'),
      startLine: lineNo(start),
      encoded: true,
    });
  } else if (encoding === 'quoted-printable') {
    out.push({
      contentType: type,
      payload: decodeQuotedPrintable(body),
      startLine: lineNo(start),
      encoded: true,
    });
  } else {
    out.push({
      contentType: type,
      payload: Buffer.from(body.join('\n'), 'utf8'),
      startLine: lineNo(bodyStart < end ? bodyStart : start),
      encoded: anchor !== undefined,
    });
  }
}

export interface ParsedUserData {
  gzip: boolean;
  parts: CloudInitPart[];
}

/**
 * Splits a user-data or vendor-data blob into parts the way cloud-init's UserDataProcessor
 * does: gunzip the whole blob when it is gzip, treat it as MIME when `mime-version:` occurs in
 * its first 4096 bytes, otherwise route it by how it starts (`#cloud-config`, `#!`, ...).
 * Nothing is fetched: include parts only list their URLs.
 */
export function parseUserData(data: Buffer, path: string, problems: ManifestProblem[]): ParsedUserData {
  const ctx: Context = { path, problems, parts: [] };
  let bytes = data;
  const gzip = isGzip(data);
  if (gzip) {
    try {
      bytes = gunzipSync(data, { maxOutputLength: MAX_GUNZIP_BYTES });
    } catch (error) {
      problems.push({
        path,
        line: 1,
        reason: `cannot decompress gzip user-data: ${(error as Error).message}`,
      });
      return { gzip, parts: [] };
    }
  }
  const anchor = gzip ? 1 : undefined;
  const text = bytes.toString('utf8');
  const raws: RawPart[] = [];
  if (bytes.subarray(0, 4096).toString('latin1').toLowerCase().includes('mime-version:')) {
    const lines = splitLines(text);
    walkMime(lines, 0, lines.length, anchor, 0, raws, ctx);
  } else {
    raws.push({ contentType: 'text/x-not-multipart', payload: bytes, startLine: 1, encoded: gzip });
  }
  for (const raw of raws) processPart(raw, ctx);
  return { gzip, parts: ctx.parts };
}

/** A boot script run directly by cloud-init (scripts-per-boot and friends): one part. */
export function parseBootScript(data: Buffer): CloudInitPart {
  const text = data.toString('utf8');
  if (text.startsWith('#!') && !text.includes('\u0000')) {
    return {
      type: 'shell',
      contentType: 'text/x-shellscript',
      startLine: 1,
      encoded: false,
      jinja: false,
      text,
    };
  }
  return {
    type: 'unknown',
    contentType: 'application/octet-stream',
    startLine: 1,
    encoded: false,
    jinja: false,
  };
}
