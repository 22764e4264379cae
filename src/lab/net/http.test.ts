import { execFileSync } from 'node:child_process';
import { renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTree } from '../../test-support/tree.js';
import { startRepoServer } from './http.js';
import type { RepoAccessRecord } from './http.js';

const SUFFIX = '.repo.goldgate.internal';
const HOST = `lab${SUFFIX}`;
const MTIME = new Date('2024-03-01T12:00:00Z');
const DEB = 'pool/main/a/acme/acme_1.0_amd64.deb';
// Larger than one read chunk (64 KiB), so a body arrives in several pieces.
const DEB_CONTENT = Array.from({ length: 200_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

const reposDir = makeTree({
  [`lab/${DEB}`]: { content: DEB_CONTENT, mtime: MTIME },
  'lab/snapshots/abc/Release': { content: 'Suite: x\n', mtime: MTIME },
  'lab/snapshots/def/Release': { content: 'Suite: x (new)\n', mtime: MTIME },
  'lab/dists/x': { link: '../snapshots/abc' },
  // As src/repo/repo.ts publishes: dists/<suite> -> .<suite>_<id> beside it.
  'lab/dists/.y_1/main/binary-amd64/Packages': { content: 'Package: acme\n', mtime: MTIME },
  'lab/dists/y': { link: '.y_1' },
  'lab/empty': { content: '', mtime: MTIME },
  // Links leaving the repository: to its parent, to another repository, to the host.
  'lab/dists/escape': { link: '../../secret.txt' },
  'lab/dists/neighbour': { link: '../../other/pool/file' },
  'lab/dists/host': { link: '/etc/passwd' },
  'lab/dists/dangling': { link: 'nowhere' },
  'lab/dists/loop': { link: 'loop' },
  'secret.txt': 'secret',
  'other/pool/file': 'other',
});
execFileSync('mkfifo', [join(reposDir, 'lab/fifo')]);

const records: RepoAccessRecord[] = [];
let server: { port: number; close(): Promise<void> };

beforeAll(async () => {
  server = await startRepoServer('127.0.0.1', 0, {
    reposDir,
    repoForHost: (host) => {
      if (host === `evil${SUFFIX}`) return '..';
      return host.endsWith(SUFFIX) ? host.slice(0, -SUFFIX.length) : undefined;
    },
    log: (record) => records.push(record),
  });
});
afterAll(() => server.close());

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Ask {
  method?: string;
  /** The Host header; null sends none. */
  host?: string | null;
  headers?: Record<string, string>;
  agent?: Agent;
}

/** One request with node's http client, which sends the path as given (no normalisation). */
function ask(path: string, { method = 'GET', host = HOST, headers = {}, agent }: Ask = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method,
        headers: host === null ? headers : { ...headers, host },
        setHost: false,
        agent: agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('latin1'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The log record of the request for `path`, once the server has written it. */
async function recordOf(path: string): Promise<RepoAccessRecord> {
  return vi.waitFor(() => {
    const found = records.filter((record) => record.path === path);
    expect(found).toHaveLength(1);
    return found[0] as RepoAccessRecord;
  });
}

/** Sends raw bytes on one connection and collects everything until the server closes it. */
function raw(text: string, onFirstData?: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      if (chunks.length === 0) onFirstData?.();
      chunks.push(chunk);
    });
    // A reset still ends the exchange: 'close' follows and says what arrived.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.write(text);
  });
}

/** Splits the responses of one connection; `methods` says which had no body (HEAD). */
function splitResponses(data: Buffer, methods: string[]): Reply[] {
  const replies: Reply[] = [];
  let at = 0;
  for (const method of methods) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    const [statusLine = '', ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const headers: IncomingHttpHeaders = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    const length = method === 'HEAD' || status === 304 ? 0 : Number(headers['content-length']);
    const bodyStart = headEnd + 4;
    replies.push({ status, headers, body: data.subarray(bodyStart, bodyStart + length).toString('latin1') });
    at = bodyStart + length;
  }
  expect(at).toBe(data.length);
  return replies;
}

describe('repository server: files', () => {
  it('serves a pool file whole, with the headers apt relies on', async () => {
    const reply = await ask(`/${DEB}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(DEB_CONTENT);
    expect(reply.headers['content-length']).toBe(String(DEB_CONTENT.length));
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    expect(reply.headers['accept-ranges']).toBe('bytes');
    expect(reply.headers['last-modified']).toBe(MTIME.toUTCString());
    expect(reply.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  });

  it('follows relative symlinks that stay inside the repository', async () => {
    const release = await ask('/dists/x/Release');
    expect(release).toMatchObject({ status: 200, body: 'Suite: x\n' });
    expect(release.headers['content-type']).toBe('text/plain; charset=utf-8');
    const packages = await ask('/dists/y/main/binary-amd64/Packages');
    expect(packages).toMatchObject({ status: 200, body: 'Package: acme\n' });
  });

  it('sees a suite switched by renaming its symlink, as a publish does', async () => {
    const dists = join(reposDir, 'lab/dists');
    symlinkSync('../snapshots/def', join(dists, '.x.new'));
    renameSync(join(dists, '.x.new'), join(dists, 'x'));
    try {
      expect(await ask('/dists/x/Release')).toMatchObject({ status: 200, body: 'Suite: x (new)\n' });
    } finally {
      symlinkSync('../snapshots/abc', join(dists, '.x.old'));
      renameSync(join(dists, '.x.old'), join(dists, 'x'));
    }
  });

  it('decodes percent-encoded paths', async () => {
    const reply = await ask('/pool/main/a/acme/acme%5f1.0%5Famd64.deb');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(DEB_CONTENT);
    expect((await ask('/dists/x/Release?x=1')).status).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const reply = await ask(`/${DEB}`, { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
    expect(reply.headers['content-length']).toBe(String(DEB_CONTENT.length));
  });

  it('serves an empty file', async () => {
    const reply = await ask('/empty');
    expect(reply).toMatchObject({ status: 200, body: '' });
    expect(reply.headers['content-length']).toBe('0');
  });
});

describe('repository server: conditional requests', () => {
  it('answers 304 when If-Modified-Since is not older than the file', async () => {
    for (const since of [MTIME, new Date(MTIME.getTime() + 86_400_000)]) {
      const reply = await ask('/dists/x/Release', { headers: { 'If-Modified-Since': since.toUTCString() } });
      expect(reply).toMatchObject({ status: 304, body: '' });
      expect(reply.headers['last-modified']).toBe(MTIME.toUTCString());
    }
  });

  it('sends the file when it changed since If-Modified-Since, or the date is not a date', async () => {
    const older = new Date(MTIME.getTime() - 1000).toUTCString();
    expect(await ask('/dists/x/Release', { headers: { 'If-Modified-Since': older } })).toMatchObject({
      status: 200,
      body: 'Suite: x\n',
    });
    expect((await ask('/dists/x/Release', { headers: { 'If-Modified-Since': 'yesterday' } })).status).toBe(
      200,
    );
  });

  it('answers 304 to a matching If-None-Match, which wins over If-Modified-Since', async () => {
    const { headers } = await ask('/dists/x/Release', { method: 'HEAD' });
    const etag = headers.etag ?? '';
    expect((await ask('/dists/x/Release', { headers: { 'If-None-Match': `"other", ${etag}` } })).status).toBe(
      304,
    );
    const stale = { 'If-None-Match': '"other"', 'If-Modified-Since': MTIME.toUTCString() };
    expect((await ask('/dists/x/Release', { headers: stale })).status).toBe(200);
  });
});

describe('repository server: ranges', () => {
  const size = DEB_CONTENT.length;
  const path = `/${DEB}`;

  it.each([
    ['bytes=100-', 100, size - 1],
    ['bytes=10-19', 10, 19],
    ['bytes=-50', size - 50, size - 1],
    ['bytes=0-999999999', 0, size - 1],
    ['bytes=-999999999', 0, size - 1],
  ])('%s answers 206 with the range', async (range, start, end) => {
    const reply = await ask(path, { headers: { Range: range } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
    expect(reply.headers['content-length']).toBe(String(end - start + 1));
    expect(reply.body).toBe(DEB_CONTENT.slice(start, end + 1));
  });

  it.each([`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0'])(
    '%s answers 416',
    async (range) => {
      const reply = await ask(path, { headers: { Range: range } });
      expect(reply.status).toBe(416);
      expect(reply.headers['content-range']).toBe(`bytes */${size}`);
    },
  );

  it('answers 416 to any range of an empty file', async () => {
    expect((await ask('/empty', { headers: { Range: 'bytes=0-' } })).status).toBe(416);
  });

  it.each(['bytes=0-1,5-6', 'bytes=5-2', 'items=0-1', 'bytes=abc'])(
    '%s serves the whole file',
    async (range) => {
      const reply = await ask(path, { headers: { Range: range } });
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(DEB_CONTENT);
    },
  );

  it('honours a range only while If-Range still matches, as apt sends it to resume', async () => {
    const headers = (ifRange: string) => ({ Range: 'bytes=100-', 'If-Range': ifRange });
    expect((await ask(path, { headers: headers(MTIME.toUTCString()) })).status).toBe(206);
    const etag = (await ask(path, { method: 'HEAD' })).headers.etag ?? '';
    expect((await ask(path, { headers: headers(etag) })).status).toBe(206);
    const changed = await ask(path, { headers: headers(new Date(MTIME.getTime() - 1000).toUTCString()) });
    expect(changed.status).toBe(200);
    expect(changed.body).toBe(DEB_CONTENT);
    expect((await ask(path, { headers: headers('"other"') })).status).toBe(200);
  });

  it('ignores Range on HEAD', async () => {
    const reply = await ask(path, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe(String(size));
  });
});

describe('repository server: refusals', () => {
  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('%s answers 405 with Allow', async (method) => {
    const reply = await ask('/dists/x/Release', { method });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, HEAD');
  });

  it('answers 404 naming the problem for an unknown or missing Host', async () => {
    const unknown = await ask('/dists/x/Release', { host: 'example.org' });
    expect(unknown).toMatchObject({ status: 404, body: 'no repository for host example.org\n' });
    const missing = await ask('/dists/x/Release', { host: null });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(/no Host header/);
    expect((await ask('/dists/x/Release', { host: `ghost${SUFFIX}` })).status).toBe(404);
  });

  it('reads the Host header case-insensitively, without port or trailing dot', async () => {
    for (const host of [`LAB${SUFFIX.toUpperCase()}:8080`, `${HOST}.`])
      expect((await ask('/dists/x/Release', { host })).status).toBe(200);
  });

  it.each([
    ['/../secret.txt', 400],
    ['/dists/../../secret.txt', 400],
    ['/%2e%2e/secret.txt', 400],
    ['/dists/%2E%2E/%2e%2e/secret.txt', 400],
    ['/..%2fsecret.txt', 400],
    ['/dists%2fx%2fRelease', 400],
    ['/dists/x%5cRelease', 400],
    ['/dists\\x\\Release', 400],
    ['/dists/x/Release%00', 400],
    ['/./dists/x/Release', 400],
    ['/dists/%zz', 400],
    ['http://lab.repo.goldgate.internal/dists/x/Release', 400],
  ])('refuses the traversal %s', async (path, status) => {
    const reply = await ask(path);
    expect(reply.status).toBe(status);
    expect(reply.body).not.toContain('secret');
  });

  it.each([
    '/dists/escape',
    '/dists//escape',
    '/dists/neighbour',
    '/dists/host',
    '/dists/dangling',
    '/dists/loop',
    '/dists/x/Missing',
    '/dists/x/Release/more',
    '/',
    '/dists',
    '/dists/x/',
    '/fifo',
  ])('answers 404 for %s (outside the repository, missing, or not a regular file)', async (path) => {
    const reply = await ask(path);
    expect(reply.status).toBe(404);
    expect(reply.body).toBe('not found\n');
  });

  it('answers 500 when the host names an unusable repository, and says why in the log', async () => {
    const reply = await ask('/secret.txt', { host: `evil${SUFFIX}` });
    expect(reply).toMatchObject({ status: 500, body: 'internal server error\n' });
    await vi.waitFor(() =>
      expect(records.find((record) => record.host === `evil${SUFFIX}`)?.error).toMatch(/unusable name/),
    );
  });
});

describe('repository server: connections', () => {
  it('keeps a connection alive across requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      agent.on('free', (socket) => sockets.add(socket));
      for (let i = 0; i < 3; i += 1) expect((await ask('/dists/x/Release', { agent })).status).toBe(200);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order', async () => {
    const head = (method: string, path: string, last = false) =>
      `${method} ${path} HTTP/1.1\r\nHost: ${HOST}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    // The big file first: its answer takes longest, yet must come first.
    const data = await raw(
      head('GET', `/${DEB}`) +
        head('HEAD', '/dists/x/Release') +
        head('GET', '/nothing') +
        head('GET', '/dists/y/main/binary-amd64/Packages', true),
    );
    const replies = splitResponses(data, ['GET', 'HEAD', 'GET', 'GET']);
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 404, 200]);
    expect(replies[0]?.body).toBe(DEB_CONTENT);
    expect(replies[1]?.headers['content-length']).toBe('9');
    expect(replies[3]?.body).toBe('Package: acme\n');
  });

  it('logs each request with its source address, status and bytes', async () => {
    await ask('/dists/y/main/binary-amd64/Packages?log', { headers: { Range: 'bytes=0-6' } });
    expect(await recordOf('/dists/y/main/binary-amd64/Packages?log')).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      srcaddr: '127.0.0.1',
      host: HOST,
      method: 'GET',
      path: '/dists/y/main/binary-amd64/Packages?log',
      status: 206,
      bytes: 7,
    });
    await ask('/logged-404', { method: 'HEAD' });
    expect(await recordOf('/logged-404')).toMatchObject({ method: 'HEAD', status: 404, bytes: 0 });
  });

  it('cuts the connection when the file ends early, and goes on serving', async () => {
    const size = 32 * 1024 * 1024;
    const file = join(reposDir, 'lab/pool/shrinking.deb');
    writeFileSync(file, '');
    truncateSync(file, size); // sparse: no disk used
    // The server runs in this process: while the first bytes are handled here, it reads no more.
    const data = await raw(`GET /pool/shrinking.deb HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, () =>
      truncateSync(file, 0),
    );
    const head = data.subarray(0, data.indexOf('\r\n\r\n')).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toContain(`Content-Length: ${size}`);
    expect(data.length).toBeLessThan(size);
    const record = await recordOf('/pool/shrinking.deb');
    expect(record.status).toBe(200);
    expect(record.bytes).toBeLessThan(size);
    expect(record.error).toMatch(/file ended after \d+ of \d+ bytes/);
    expect((await ask('/dists/x/Release')).status).toBe(200);
  });

  it('logs a download the client abandoned', async () => {
    const file = join(reposDir, 'lab/pool/abandoned.deb');
    writeFileSync(file, '');
    truncateSync(file, 32 * 1024 * 1024);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/pool/abandoned.deb', headers: { host: HOST } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error);
      });
      req.end();
    });
    const record = await recordOf('/pool/abandoned.deb');
    expect(record.status).toBe(200);
    expect(record.bytes).toBeLessThan(32 * 1024 * 1024);
    expect(record.error).toBeDefined();
    expect((await ask('/dists/x/Release')).status).toBe(200);
  });
});
