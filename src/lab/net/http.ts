import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { Transform, pipeline } from 'node:stream';

/** One finished request of the repository server, as handed to `log`. */
export interface RepoAccessRecord {
  /** When the request arrived, ISO 8601 UTC. */
  time: string;
  /** The client's address (an IPv4-mapped IPv6 address is given as plain IPv4). */
  srcaddr: string;
  /** The Host header, lower-case without port; empty when there was none. */
  host: string;
  method: string;
  /** The request target as sent, undecoded. */
  path: string;
  status: number;
  /** Body bytes handed to the connection. */
  bytes: number;
  /** Why the server failed the request or cut the body short (a 500, a read error, a closed connection). */
  error?: string;
}

export interface RepoServerOptions {
  /** The directory holding one directory per repository. */
  reposDir: string;
  /** The repository a Host header names (lower-case, port and trailing dot stripped), or undefined. */
  repoForHost(host: string): string | undefined;
  /** Called once per finished request. */
  log?(record: RepoAccessRecord): void;
  /**
   * Called with an error of the listening server itself (EMFILE on accept) after
   * `startRepoServer` has bound; such errors are otherwise dropped, never thrown.
   */
  onError?(error: Error): void;
}

/** What one request has sent so far; read when the response closes. */
interface Exchange {
  bytes: number;
  error: string | undefined;
}

/** A failure the client caused or asked for: answered with a short text body. */
interface Refusal {
  status: number;
  message: string;
}

const ALLOW = 'GET, HEAD';
// apt reads these as text; everything else (debs, compressed indexes, signatures) is opaque.
const TEXT_FILES = new Set(['Release', 'InRelease', 'Packages', 'Sources']);
// Missing or unreachable paths: all are "not found" to the client, whatever the cause.
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EISDIR']);

/** A node:http server (not listening yet) that serves the repositories under `reposDir` read-only. */
export function createRepoServer(options: RepoServerOptions): Server {
  // A request without Host must reach the handler (and be answered 404), not node's own 400.
  return createServer({ requireHostHeader: false }, (req, res) => {
    const time = new Date().toISOString();
    const host = normalizeHost(req.headers.host);
    const exchange: Exchange = { bytes: 0, error: undefined };
    let finished = false;
    res.once('finish', () => (finished = true));
    res.once('close', () => {
      if (!finished) exchange.error ??= 'connection closed before the response was complete';
      if (options.log === undefined) return;
      const record: RepoAccessRecord = {
        time,
        srcaddr: (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, ''),
        host: host ?? '',
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode,
        bytes: exchange.bytes,
      };
      if (exchange.error !== undefined) record.error = exchange.error;
      try {
        options.log(record);
      } catch {
        // A failing logger must not take the server down with it.
      }
    });
    serve(req, res, host, options, exchange).catch((error: unknown) => {
      exchange.error ??= error instanceof Error ? error.message : String(error);
      if (res.writableEnded) return;
      try {
        if (res.headersSent) res.destroy();
        else sendText(res, req, exchange, { status: 500, message: 'internal server error' });
      } catch {
        // Nothing left to tell this client; a rejection here would end the process.
        res.destroy();
      }
    });
  });
}

/** Creates the server and listens on address:port (0 picks a free port). */
export async function startRepoServer(
  address: string,
  port: number,
  options: RepoServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createRepoServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      // Unhandled, a server 'error' (a failed accept) would end the process.
      server.on('error', (error) => {
        try {
          options.onError?.(error);
        } catch {
          // as for log: the callback must not end the server
        }
      });
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    port: bound.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // apt holds keep-alive connections open; close() alone would wait for them.
        server.closeAllConnections();
      }),
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  host: string | undefined,
  options: RepoServerOptions,
  exchange: Exchange,
): Promise<void> {
  const refuse = (refusal: Refusal, headers: OutgoingHttpHeaders = {}) =>
    sendText(res, req, exchange, refusal, headers);

  if (req.method !== 'GET' && req.method !== 'HEAD')
    return refuse({ status: 405, message: `method ${req.method ?? ''} not allowed` }, { Allow: ALLOW });
  if (host === undefined) return refuse({ status: 404, message: 'no Host header: name a repository host' });
  const repo = options.repoForHost(host);
  if (repo === undefined) return refuse({ status: 404, message: `no repository for host ${host}` });
  if (!isPlainSegment(repo)) throw new Error(`repoForHost(${host}) gave an unusable name: ${repo}`);

  const segments = decodePath(req.url ?? '');
  if (!Array.isArray(segments)) return refuse(segments);
  const opened = await openInside(join(options.reposDir, repo), segments);
  if ('status' in opened) return refuse(opened);
  const { handle, stats } = opened;

  let streaming = false;
  try {
    const etag = `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${Math.floor(stats.mtimeMs * 1000).toString(16)}"`;
    const headers: OutgoingHttpHeaders = {
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': stats.mtime.toUTCString(),
    };
    if (notModified(req, etag, stats.mtimeMs)) {
      res.writeHead(304, headers).end();
      return;
    }
    const contentType = TEXT_FILES.has(basename(segments.at(-1) ?? ''))
      ? 'text/plain; charset=utf-8'
      : 'application/octet-stream';

    const range =
      req.method === 'GET' && rangeApplies(req, etag, stats.mtimeMs) ? req.headers.range : undefined;
    const wanted = parseRange(range, stats.size);
    if (wanted === 'unsatisfiable')
      return refuse(
        { status: 416, message: `range ${range ?? ''} not satisfiable: the file has ${stats.size} bytes` },
        { ...headers, 'Content-Range': `bytes */${stats.size}` },
      );
    const start = wanted?.start ?? 0;
    const end = wanted?.end ?? stats.size - 1;
    const length = end - start + 1;
    if (wanted !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${stats.size}`;
    res.writeHead(wanted === undefined ? 200 : 206, {
      ...headers,
      'Content-Type': contentType,
      'Content-Length': length,
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    streaming = true;
    sendBody(handle, start, end, res, exchange);
  } finally {
    // Once streaming, the read stream owns the handle and closes it.
    if (!streaming) await handle.close();
  }
}

/**
 * Streams bytes start..end of the file into the response. A read error, or a file that
 * ends early, destroys the connection: a short body behind a Content-Length would leave
 * a keep-alive client waiting, or worse, reading the next response as the rest of this one.
 */
function sendBody(handle: FileHandle, start: number, end: number, res: ServerResponse, exchange: Exchange) {
  const expected = end - start + 1;
  let counted = 0;
  const source = handle.createReadStream({ start, end });
  source.once('error', (error) => (exchange.error ??= `read failed: ${error.message}`));
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counted += chunk.length;
      exchange.bytes = counted;
      callback(null, chunk);
    },
    flush(callback) {
      if (counted === expected) return callback();
      exchange.error ??= `file ended after ${counted} of ${expected} bytes`;
      callback(new Error(exchange.error));
    },
  });
  // The error, if any, is already in `exchange` (or the close handler names it).
  pipeline(source, counter, res, (error) => {
    if (error !== null && error !== undefined) res.destroy();
  });
}

function sendText(
  res: ServerResponse,
  req: IncomingMessage,
  exchange: Exchange,
  refusal: Refusal,
  headers: OutgoingHttpHeaders = {},
): void {
  const body = Buffer.from(`${refusal.message}\n`);
  res.writeHead(refusal.status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
  });
  // node sends no body for HEAD; count only what goes out.
  if (req.method !== 'HEAD') exchange.bytes = body.length;
  res.end(body);
}

/** The Host header lower-cased, without port or trailing dot; undefined when missing or empty. */
function normalizeHost(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1 || undefined);
  else host = host.replace(/:\d*$/, '');
  host = host.replace(/\.$/, '');
  return host === '' ? undefined : host;
}

function isPlainSegment(segment: string): boolean {
  return (
    segment !== '' &&
    segment !== '.' &&
    segment !== '..' &&
    !segment.includes('/') &&
    !segment.includes('\\') &&
    !segment.includes('\0')
  );
}

/** The decoded path segments of an origin-form request target, or why it is refused. */
function decodePath(target: string): string[] | Refusal {
  if (!target.startsWith('/')) return { status: 400, message: 'the request target must be a path' };
  const raw = target.replace(/[?#].*$/s, '');
  if (raw.includes('\\')) return { status: 400, message: 'backslashes are not allowed in paths' };
  const segments: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { status: 400, message: 'malformed percent-encoding in the path' };
    }
    // Checked after decoding, so %2e%2e, %2f and %00 cannot smuggle what the raw path cannot.
    if (!isPlainSegment(segment)) return { status: 400, message: 'path segment not allowed' };
    segments.push(segment);
  }
  return segments;
}

/**
 * Opens a regular file under the repository directory `repoDir`. Symlinks are followed (the
 * suites under dists/ are symlinks swapped on publish) as long as the real path stays inside
 * the repository's real directory; anything else is "not found".
 */
async function openInside(
  repoDir: string,
  segments: string[],
): Promise<{ handle: FileHandle; stats: Stats } | Refusal> {
  const notFound: Refusal = { status: 404, message: 'not found' };
  let handle: FileHandle;
  try {
    const root = await realpath(repoDir);
    const real = await realpath(join(root, ...segments));
    const inside = relative(root, real);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
      return notFound;
    // O_NOFOLLOW: a link swapped in since realpath is not followed. O_NONBLOCK: opening a
    // FIFO would otherwise wait for a writer.
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && NOT_FOUND_CODES.has(code)) return notFound;
    if (code === 'EACCES' || code === 'EPERM') return { status: 403, message: 'forbidden' };
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return notFound;
}

/** HTTP dates have whole seconds; compare modification times at that precision. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function etagMatches(list: string, etag: string): boolean {
  return list
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

function notModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const noneMatch = req.headers['if-none-match'];
  // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.1.3).
  if (noneMatch !== undefined) return etagMatches(noneMatch, etag);
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && seconds(mtimeMs) <= seconds(since);
}

/** Whether If-Range (apt sends the partial file's date) still matches, so a Range may be honoured. */
function rangeApplies(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const header = req.headers['if-range'];
  if (header === undefined) return true;
  const ifRange = (Array.isArray(header) ? header.join(',') : header).trim();
  if (ifRange.startsWith('"')) return ifRange === etag;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && seconds(date) === seconds(mtimeMs);
}

/**
 * One byte range of a file of `size` bytes. Undefined means "send the whole file": no Range,
 * one that is not `bytes=`, malformed, or several ranges (a multipart answer is not worth it).
 */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
