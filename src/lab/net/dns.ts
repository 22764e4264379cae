// The lab's DNS resolver: authoritative for the lab's own names, REFUSED for everything else
// (no recursion), and one Route 53 Resolver query log record per query. The wire format is
// read and written here by hand, bounds-checked byte by byte, so that hostile packets are a
// value (FORMERR or a drop) and the question goes back exactly as asked (0x20 case, odd bytes).
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv4, isIPv6 } from 'node:net';
import type { Server, Socket } from 'node:net';
import { LabError } from '../errors.js';

/** One line of a Route 53 Resolver query log (the fields AWS writes). */
export interface ResolverLogRecord {
  version: '1.100000';
  account_id: string;
  region: string;
  vpc_id: string;
  /** ISO 8601 UTC to the second, as AWS writes it: `2026-11-27T07:47:12Z`. */
  query_timestamp: string;
  /** The name as asked (its case kept), with the trailing dot; odd bytes as `\DDD`. */
  query_name: string;
  /** A, AAAA, MX, ...; `TYPE<n>` (RFC 3597) for types without a mnemonic here. */
  query_type: string;
  /** IN, CH, HS, ANY; `CLASS<n>` otherwise. */
  query_class: string;
  /** NOERROR, NXDOMAIN, REFUSED, FORMERR, NOTIMP, or BADVERS (an EDNS version other than 0). */
  rcode: string;
  answers: { Rdata: string; Type: string; Class: string }[];
  srcaddr: string;
  srcport: string;
  transport: 'UDP' | 'TCP';
  /** `instance` is absent when `attribute` does not know the source. */
  srcids: { instance?: string };
}

/** What the resolver serves and where its log goes. */
export interface LabResolverOptions {
  /** The IPv4 address a lab name resolves to, or undefined when the lab does not serve it. Names arrive lower-case without trailing dot. */
  resolve(name: string): string | undefined;
  /** Names under these suffixes that `resolve` does not know get NXDOMAIN (the lab's own zone); every other name gets REFUSED. e.g. ['goldgate.internal'] */
  zones: readonly string[];
  /** Which instance sent a query, by its source address. */
  attribute(srcaddr: string): string | undefined;
  /** Every query, once, after the answer is sent. */
  log(record: ResolverLogRecord): void;
  /** `account_id` of every record; default `000000000000` (no AWS account has it). */
  accountId?: string;
  /** `region` of every record; default `lab`. */
  region?: string;
  /** `vpc_id` of every record; default `vpc-lab`. */
  vpcId?: string;
  /** TTL of A answers, in seconds; default 60. */
  ttl?: number;
  /** The clock of `query_timestamp`; default the system clock. */
  now?: () => Date;
  /** `startResolver` only: a TCP connection silent this long is closed; default 10 000 ms. */
  tcpIdleMs?: number;
  /**
   * `startResolver` only: socket errors and errors thrown by `resolve`, `attribute` or `log`.
   * None stops the resolver (the query in hand goes unanswered); ignored when absent.
   */
  onError?(error: unknown): void;
}

/** Where a query came from. */
export interface QuerySource {
  address: string;
  port: number;
  transport: 'UDP' | 'TCP';
}

/** A listening resolver. */
export interface RunningResolver {
  /** The port both UDP and TCP listen on (the one chosen when asked for port 0). */
  port: number;
  /** Stops listening and drops open TCP connections; safe to call twice. */
  close(): Promise<void>;
}

const HEADER = 12;
const MAX_NAME_WIRE = 255;
const EDNS_PAYLOAD = 1232;
const TYPE_A = 1;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const QR = 0x8000;
const AA = 0x0400;
const RD = 0x0100;
const CD = 0x0010;
const DO = 0x8000;
const RCODES = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;
type Rcode = keyof typeof RCODES;

// prettier-ignore
const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 17: 'RP',
  18: 'AFSDB', 24: 'SIG', 25: 'KEY', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 36: 'KX',
  37: 'CERT', 39: 'DNAME', 41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY',
  46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA',
  53: 'SMIMEA', 55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD',
  64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR',
  255: 'ANY', 256: 'URI', 257: 'CAA',
};
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

const DEFAULT_ACCOUNT = '000000000000';
const DEFAULT_REGION = 'lab';
const DEFAULT_VPC = 'vpc-lab';
const DEFAULT_TTL = 60;
const DEFAULT_TCP_IDLE_MS = 10_000;

interface Question {
  /** The question's wire bytes (name, type, class), echoed verbatim. */
  wire: Buffer;
  /** Presentation form with the trailing dot, case kept. */
  name: string;
  /** Its labels in presentation form, lower-cased: what `resolve` and the zones compare. */
  labels: string[];
  type: number;
  class: number;
}

interface Edns {
  version: number;
  dnssecOk: boolean;
}

/**
 * The end of an uncompressed name starting at `at` and its labels (presentation form), or undefined
 * when the name is truncated, too long, compressed, or uses the obsolete label types. With one
 * question a compression pointer can only point into the header or forward, so it is malformed.
 */
function readName(buf: Buffer, at: number): { end: number; labels: string[] } | undefined {
  const labels: string[] = [];
  let p = at;
  for (;;) {
    const length = buf[p];
    if (length === undefined || length > 63) return undefined;
    if (p + 1 + length - at > MAX_NAME_WIRE) return undefined;
    if (length === 0) return { end: p + 1, labels };
    // A label cut short by the end of the message makes the next read undefined.
    labels.push(labelText(buf.subarray(p + 1, p + 1 + length)));
    p += 1 + length;
  }
}

// Presentation format (RFC 1035 §5.1): `.` and `\` escaped, bytes outside printable ASCII as \DDD.
function labelText(label: Buffer): string {
  let text = '';
  for (const byte of label) {
    if (byte === 0x2e || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte > 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${String(byte).padStart(3, '0')}`;
  }
  return text;
}

/** The end of a possibly compressed name (not followed: only skipped), or undefined. */
function skipName(buf: Buffer, at: number): number | undefined {
  let p = at;
  for (;;) {
    const length = buf[p];
    if (length === undefined) return undefined;
    if (length === 0) return p + 1;
    if ((length & 0xc0) === 0xc0) return p + 2; // the caller checks what follows
    if (length > 63) return undefined;
    p += 1 + length;
  }
}

function readQuestion(buf: Buffer): Question | undefined {
  const name = readName(buf, HEADER);
  if (name === undefined || name.end + 4 > buf.length) return undefined;
  return {
    wire: buf.subarray(HEADER, name.end + 4),
    name: name.labels.length === 0 ? '.' : `${name.labels.join('.')}.`,
    labels: name.labels.map((label) => label.toLowerCase()),
    type: buf.readUInt16BE(name.end),
    class: buf.readUInt16BE(name.end + 2),
  };
}

/**
 * Walks the answer, authority and additional sections after the question for an OPT record:
 * its EDNS fields, undefined when there is none, or 'malformed' (a truncated record, two OPTs,
 * an OPT not owned by the root). Each record takes at least 11 bytes, so huge counts end soon.
 */
function readEdns(buf: Buffer, at: number, counts: number[]): Edns | undefined | 'malformed' {
  const [ancount = 0, nscount = 0, arcount = 0] = counts;
  let edns: Edns | undefined;
  let p = at;
  for (let i = 0; i < ancount + nscount + arcount; i++) {
    const nameEnd = skipName(buf, p);
    if (nameEnd === undefined || nameEnd + 10 > buf.length) return 'malformed';
    const end = nameEnd + 10 + buf.readUInt16BE(nameEnd + 8);
    if (end > buf.length) return 'malformed';
    if (i >= ancount + nscount && buf.readUInt16BE(nameEnd) === TYPE_OPT) {
      if (edns !== undefined || nameEnd !== p + 1) return 'malformed';
      edns = { version: buf[nameEnd + 5] ?? 0, dnssecOk: (buf.readUInt16BE(nameEnd + 6) & DO) !== 0 };
    }
    p = end;
  }
  return edns;
}

function optRecord(rcode: Rcode, edns: Edns): Buffer {
  const opt = Buffer.alloc(11);
  // Owner is the root (byte 0 stays 0); the class carries the payload size, the TTL the
  // upper bits of the rcode, the version (0) and the flags.
  opt.writeUInt16BE(TYPE_OPT, 1);
  opt.writeUInt16BE(EDNS_PAYLOAD, 3);
  opt[5] = RCODES[rcode] >> 4;
  opt.writeUInt16BE(edns.dnssecOk ? DO : 0, 7);
  return opt;
}

function aRecord(address: string, ttl: number): Buffer {
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc000 | HEADER, 0); // the owner is the question's name
  rr.writeUInt16BE(TYPE_A, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(ttl, 6);
  rr.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => (rr[12 + i] = Number(octet)));
  return rr;
}

/**
 * The response: the query's id, opcode, RD and CD; AA when the lab answers for the name; never
 * RA. FORMERR and NOTIMP are the header alone; every other answer echoes the question.
 */
function response(
  query: Buffer,
  rcode: Rcode,
  parts: { question?: Question; answer?: Buffer; authoritative?: boolean; edns?: Edns },
): Buffer {
  const { question, answer, edns } = parts;
  const header = Buffer.alloc(HEADER);
  const queryFlags = query.readUInt16BE(2);
  const flags =
    QR |
    (queryFlags & 0x7800) |
    (parts.authoritative ? AA : 0) |
    (queryFlags & (RD | CD)) |
    (RCODES[rcode] & 0xf);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(question === undefined ? 0 : 1, 4);
  header.writeUInt16BE(answer === undefined ? 0 : 1, 6);
  header.writeUInt16BE(edns === undefined ? 0 : 1, 10);
  const sections: Buffer[] = [header];
  if (question !== undefined) sections.push(question.wire);
  if (answer !== undefined) sections.push(answer);
  if (edns !== undefined) sections.push(optRecord(rcode, edns));
  // At most 12 + 259 + 16 + 11 bytes: always within the 512 of UDP without EDNS.
  return Buffer.concat(sections);
}

/**
 * Whether lab zones hold a name, compared label by label (a label may hold an escaped dot), and
 * whether it is a zone's apex. A zone of '' or '.' holds every name.
 */
function inZone(labels: readonly string[], zones: readonly string[]): { apex: boolean } | undefined {
  for (const zone of zones) {
    const zoneLabels = zone
      .toLowerCase()
      .split('.')
      .filter((label) => label !== '');
    const offset = labels.length - zoneLabels.length;
    if (offset < 0 || zoneLabels.some((label, i) => labels[offset + i] !== label)) continue;
    return { apex: offset === 0 };
  }
  return undefined;
}

function record(
  question: Question,
  rcode: Rcode,
  address: string | undefined,
  source: QuerySource,
  options: LabResolverOptions,
): ResolverLogRecord {
  const instance = options.attribute(source.address);
  const now = options.now?.() ?? new Date();
  return {
    version: '1.100000',
    account_id: options.accountId ?? DEFAULT_ACCOUNT,
    region: options.region ?? DEFAULT_REGION,
    vpc_id: options.vpcId ?? DEFAULT_VPC,
    query_timestamp: `${now.toISOString().slice(0, 19)}Z`,
    query_name: question.name,
    query_type: TYPE_NAMES[question.type] ?? `TYPE${question.type}`,
    query_class: CLASS_NAMES[question.class] ?? `CLASS${question.class}`,
    rcode,
    answers: address === undefined ? [] : [{ Rdata: address, Type: 'A', Class: 'IN' }],
    srcaddr: source.address,
    srcport: String(source.port),
    transport: source.transport,
    srcids: instance === undefined ? {} : { instance },
  };
}

/**
 * Pure: one query message in, the response message out (undefined when the packet is too broken
 * to answer: shorter than a header, or itself a response) plus the log record (undefined when
 * no question could be read). Never throws on any bytes; throws a LabError when `resolve` gives
 * something that is not an IPv4 address, and whatever the callbacks throw.
 */
export function answerQuery(
  message: Buffer,
  source: QuerySource,
  options: LabResolverOptions,
): { response: Buffer | undefined; record: ResolverLogRecord | undefined } {
  if (message.length < HEADER || (message.readUInt16BE(2) & QR) !== 0)
    return { response: undefined, record: undefined };
  // An IPv4 peer of a dual-stack socket shows as ::ffff:a.b.c.d; AWS and `attribute` want a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(source.address)?.[1];
  const from = mapped === undefined ? source : { ...source, address: mapped };
  const qdcount = message.readUInt16BE(4);
  const question = qdcount > 0 ? readQuestion(message) : undefined;
  const reply = (rcode: Rcode, parts: Parameters<typeof response>[2] = {}, address?: string) => ({
    response: response(message, rcode, parts),
    record: question === undefined ? undefined : record(question, rcode, address, from, options),
  });

  const opcode = (message.readUInt16BE(2) >> 11) & 0xf;
  if (opcode !== 0) return reply('NOTIMP');
  if (qdcount !== 1 || question === undefined) return reply('FORMERR');
  const counts = [message.readUInt16BE(6), message.readUInt16BE(8), message.readUInt16BE(10)];
  const edns = readEdns(message, HEADER + question.wire.length, counts);
  if (edns === 'malformed') return reply('FORMERR');
  if (edns !== undefined && edns.version !== 0) return reply('BADVERS', { edns });

  // What `resolve` sees: lower case, no trailing dot (the root is '').
  const name = question.labels.join('.');
  const zone = inZone(question.labels, options.zones);
  // Only class IN is served; other classes (CH's version.bind, ...) are not the lab's.
  const address = question.class === CLASS_IN ? options.resolve(name) : undefined;
  if (address !== undefined && !isIPv4(address))
    throw new LabError('LAB_DNS_BAD_ADDRESS', `the lab resolved ${name} to ${address}, not an IPv4 address`);
  const authoritative = { question, edns, authoritative: true };
  if (address !== undefined && question.type === TYPE_A)
    return reply(
      'NOERROR',
      { ...authoritative, answer: aRecord(address, options.ttl ?? DEFAULT_TTL) },
      address,
    );
  // The apex exists even when `resolve` does not know it: its subnames do.
  if (address !== undefined || (question.class === CLASS_IN && zone?.apex === true))
    return reply('NOERROR', authoritative);
  if (question.class === CLASS_IN && zone !== undefined) return reply('NXDOMAIN', authoritative);
  return reply('REFUSED', { question, edns });
}

/** Answers one message for a socket: callback errors go to `onError` and leave it unanswered. */
function answerSafely(
  message: Buffer,
  source: QuerySource,
  options: LabResolverOptions,
): ReturnType<typeof answerQuery> {
  try {
    return answerQuery(message, source, options);
  } catch (error) {
    options.onError?.(error);
    return { response: undefined, record: undefined };
  }
}

function emit(record: ResolverLogRecord | undefined, options: LabResolverOptions): void {
  if (record === undefined) return;
  try {
    options.log(record);
  } catch (error) {
    options.onError?.(error);
  }
}

function serveUdp(udp: UdpSocket, options: LabResolverOptions): void {
  udp.on('message', (message, peer) => {
    const source: QuerySource = { address: peer.address, port: peer.port, transport: 'UDP' };
    const { response, record } = answerSafely(message, source, options);
    if (response === undefined) return;
    try {
      udp.send(response, peer.port, peer.address, (error) => {
        if (error) options.onError?.(error);
        emit(record, options);
      });
    } catch (error) {
      // A source port of 0, or a socket closing under us: nothing was sent, the query is logged.
      options.onError?.(error);
      emit(record, options);
    }
  });
}

/** One TCP connection: 2-byte length frames (so never more than 65535 bytes), any number of them. */
function serveTcp(socket: Socket, options: LabResolverOptions): void {
  const source: QuerySource = {
    address: socket.remoteAddress ?? '',
    port: socket.remotePort ?? 0,
    transport: 'TCP',
  };
  let pending = Buffer.alloc(0);
  socket.setTimeout(options.tcpIdleMs ?? DEFAULT_TCP_IDLE_MS, () => socket.destroy());
  // Resets and timeouts are the peer's business, not the resolver's.
  socket.on('error', () => {});
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && !socket.destroyed) {
      const size = pending.readUInt16BE(0);
      if (pending.length < 2 + size) break;
      const message = pending.subarray(2, 2 + size);
      pending = pending.subarray(2 + size);
      const { response, record } = answerSafely(message, source, options);
      if (response === undefined) continue;
      const frame = Buffer.alloc(2 + response.length);
      frame.writeUInt16BE(response.length, 0);
      response.copy(frame, 2);
      // A client that sends without reading must not make us buffer without bound.
      if (!socket.write(frame, () => emit(record, options))) socket.pause();
    }
  });
}

function listening<T extends UdpSocket | Server>(
  target: T,
  start: (done: () => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(error);
    target.once('error', fail);
    start(() => {
      target.off('error', fail);
      resolve();
    });
  });
}

function closeUdp(udp: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      udp.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * Binds UDP and TCP (2-byte length framing, several messages per connection) on address:port;
 * resolves once both listen. Port 0 picks a port free for both. Throws a LabError when it
 * cannot listen (a port in use, or below 1024 without the privilege).
 */
export async function startResolver(
  address: string,
  port: number,
  options: LabResolverOptions,
): Promise<RunningResolver> {
  const connections = new Set<Socket>();
  // With port 0 UDP picks the port and TCP may find it taken: try a few ports.
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const tcp = createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      serveTcp(socket, options);
    });
    let bound = port;
    try {
      await listening(udp, (done) => udp.bind({ address, port }, done));
      bound = udp.address().port;
      await listening(tcp, (done) => tcp.listen({ host: address, port: bound }, done));
    } catch (error) {
      await closeUdp(udp);
      const code = (error as NodeJS.ErrnoException).code;
      if (port === 0 && code === 'EADDRINUSE' && attempt < 8) continue;
      throw new LabError('LAB_DNS_LISTEN_FAILED', `the lab resolver cannot listen on ${address}:${bound}`, {
        fault: 'environment',
        hint:
          code === 'EACCES'
            ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE'
            : 'another DNS server (systemd-resolved, dnsmasq) may hold the port',
        cause: error,
      });
    }
    // After listening, errors are reported, never thrown: an 'error' without a listener would crash.
    udp.on('error', (error) => options.onError?.(error));
    tcp.on('error', (error) => options.onError?.(error));
    serveUdp(udp, options);
    let closing: Promise<void> | undefined;
    return {
      port: bound,
      close() {
        closing ??= Promise.all([
          closeUdp(udp),
          new Promise<void>((resolve) => {
            tcp.close(() => resolve());
            for (const socket of connections) socket.destroy();
          }),
        ]).then(() => undefined);
        return closing;
      },
    };
  }
}
