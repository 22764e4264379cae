import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, DNSSEC_OK, encode, RECURSION_DESIRED } from 'dns-packet';
import type { DecodedPacket, OptAnswer, Packet, Question, RecordType } from 'dns-packet';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseFile } from '../../logs/read.js';
import route53, { readResolverLine } from '../../logs/parsers/route53-resolver/index.js';
import { prng } from '../../test-support/log-fuzz.js';
import { LabError } from '../errors.js';
import { answerQuery, startResolver } from './dns.js';
import type { LabResolverOptions, QuerySource, ResolverLogRecord } from './dns.js';

const NAMES: Record<string, string> = {
  'web.goldgate.internal': '10.213.0.1',
  'debian.repo.goldgate.internal': '10.213.0.1',
  'i-lab0002.goldgate.internal': '10.213.0.7',
};
const INSTANCES: Record<string, string> = { '10.213.0.5': 'i-lab0001', '127.0.0.1': 'i-local' };
const NOW = new Date(Date.UTC(2026, 10, 27, 7, 47, 12, 345));
const FROM: QuerySource = { address: '10.213.0.5', port: 40000, transport: 'UDP' };

function labOptions(overrides: Partial<LabResolverOptions> = {}) {
  const records: ResolverLogRecord[] = [];
  const asked: string[] = [];
  const options: LabResolverOptions = {
    resolve: (name) => {
      asked.push(name);
      return NAMES[name];
    },
    zones: ['goldgate.internal'],
    attribute: (address) => INSTANCES[address],
    log: (record) => records.push(record),
    now: () => NOW,
    ...overrides,
  };
  return { options, records, asked };
}

function query(questions: Question[], extra: Partial<Packet> = {}): Buffer {
  return encode({ type: 'query', id: 0x1234, flags: RECURSION_DESIRED, questions, ...extra });
}

const opt = (flags = 0, ednsVersion = 0): OptAnswer => ({
  type: 'OPT',
  name: '.',
  udpPayloadSize: 4096,
  extendedRcode: 0,
  ednsVersion,
  flags,
  flag_do: false,
  options: [],
});

/** What dns-packet decodes, with the fields its typings leave out. */
type Decoded = DecodedPacket & { rcode: string; opcode: string };

function ask(message: Buffer, options: LabResolverOptions, source: QuerySource = FROM) {
  const { response, record } = answerQuery(message, source, options);
  return { response, record, packet: response === undefined ? undefined : (decode(response) as Decoded) };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('answerQuery', () => {
  it('answers a lab name with its address, authoritatively, and logs it as AWS does', () => {
    const { options } = labOptions();
    const { packet, record } = ask(query([{ type: 'A', name: 'web.goldgate.internal' }]), options);
    expect(packet).toMatchObject({
      id: 0x1234,
      type: 'response',
      rcode: 'NOERROR',
      flag_aa: true,
      flag_rd: true,
      flag_ra: false,
      flag_tc: false,
      questions: [{ name: 'web.goldgate.internal', type: 'A', class: 'IN' }],
      answers: [{ name: 'web.goldgate.internal', type: 'A', class: 'IN', ttl: 60, data: '10.213.0.1' }],
      authorities: [],
      additionals: [],
    });
    expect(record).toEqual<ResolverLogRecord>({
      version: '1.100000',
      account_id: '000000000000',
      region: 'lab',
      vpc_id: 'vpc-lab',
      query_timestamp: '2026-11-27T07:47:12Z',
      query_name: 'web.goldgate.internal.',
      query_type: 'A',
      query_class: 'IN',
      rcode: 'NOERROR',
      answers: [{ Rdata: '10.213.0.1', Type: 'A', Class: 'IN' }],
      srcaddr: '10.213.0.5',
      srcport: '40000',
      transport: 'UDP',
      srcids: { instance: 'i-lab0001' },
    });
  });

  it('takes the account, region, VPC and TTL from the options', () => {
    const { options } = labOptions({
      accountId: '111122223333',
      region: 'eu-west-1',
      vpcId: 'vpc-1',
      ttl: 5,
    });
    const { packet, record } = ask(query([{ type: 'A', name: 'web.goldgate.internal' }]), options);
    expect(packet?.answers?.[0]).toMatchObject({ ttl: 5 });
    expect(record).toMatchObject({ account_id: '111122223333', region: 'eu-west-1', vpc_id: 'vpc-1' });
  });

  it('matches names whatever their case and echoes the question as asked (0x20)', () => {
    const { options, asked } = labOptions();
    const message = query([{ type: 'A', name: 'WeB.GoldGATE.internal' }]);
    const { response, packet, record } = ask(message, options);
    expect(asked).toEqual(['web.goldgate.internal']);
    expect(packet?.questions).toEqual([{ name: 'WeB.GoldGATE.internal', type: 'A', class: 'IN' }]);
    expect(packet?.answers?.[0]).toMatchObject({ name: 'WeB.GoldGATE.internal', data: '10.213.0.1' });
    expect(response?.subarray(12, message.length)).toEqual(message.subarray(12));
    expect(record?.query_name).toBe('WeB.GoldGATE.internal.');
  });

  // dns-packet encodes ANY though its typings leave it out.
  it.each(['AAAA', 'MX', 'TXT', 'ANY' as RecordType, 'SRV'] as const)(
    'answers %s for a lab name with no data',
    (type) => {
      const { options } = labOptions();
      const { packet, record } = ask(query([{ type, name: 'web.goldgate.internal' }]), options);
      expect(packet).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [], questions: [{ type }] });
      expect(record).toMatchObject({ query_type: type, rcode: 'NOERROR', answers: [] });
    },
  );

  it('says the zone apex exists (its subnames do) but has no address', () => {
    const { options } = labOptions();
    const { packet } = ask(query([{ type: 'A', name: 'goldgate.internal' }]), options);
    expect(packet).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
  });

  it('gives NXDOMAIN for an unknown name in the zone, REFUSED outside it, never recursion', () => {
    const { options, records } = labOptions();
    const nx = ask(query([{ type: 'A', name: 'nope.goldgate.internal' }]), options).packet;
    expect(nx).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, flag_ra: false, answers: [] });
    for (const name of ['deb.distro-mirror.example', 'notgoldgate.internal', 'internal', '.']) {
      const { packet, record } = ask(query([{ type: 'A', name }]), options);
      expect(packet, name).toMatchObject({ rcode: 'REFUSED', flag_aa: false, flag_ra: false, answers: [] });
      expect(packet?.questions, name).toHaveLength(1);
      records.push(record as ResolverLogRecord);
    }
    expect(records.map((r) => [r.query_name, r.rcode])).toEqual([
      ['deb.distro-mirror.example.', 'REFUSED'],
      ['notgoldgate.internal.', 'REFUSED'],
      ['internal.', 'REFUSED'],
      ['.', 'REFUSED'],
    ]);
  });

  it('refuses classes other than IN, even for lab names', () => {
    const { options } = labOptions();
    const chaos = ask(query([{ type: 'TXT', name: 'version.bind', class: 'CH' }]), options);
    expect(chaos.packet).toMatchObject({ rcode: 'REFUSED', answers: [] });
    expect(chaos.record).toMatchObject({ query_type: 'TXT', query_class: 'CH', rcode: 'REFUSED' });
    const hesiod = ask(query([{ type: 'A', name: 'web.goldgate.internal', class: 'HS' }]), options);
    expect(hesiod.packet).toMatchObject({ rcode: 'REFUSED', answers: [] });
  });

  it('names types and classes it has no mnemonic for as RFC 3597 does', () => {
    const { options } = labOptions();
    const message = query([{ type: 'A', name: 'web.goldgate.internal' }]);
    const end = message.length - 4;
    message.writeUInt16BE(65, end);
    expect(ask(message, options).record).toMatchObject({ query_type: 'HTTPS', query_class: 'IN' });
    message.writeUInt16BE(4242, end);
    message.writeUInt16BE(77, end + 2);
    expect(ask(message, options).record).toMatchObject({ query_type: 'TYPE4242', query_class: 'CLASS77' });
  });

  it('writes odd bytes of a name in presentation format and echoes them untouched', () => {
    const { options } = labOptions();
    const name = Buffer.from([3, 0x61, 0x2e, 0x62, 2, 0x00, 0x5c, 2, 0x20, 0xff, 0]);
    const message = Buffer.concat([Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]); // prettier-ignore
    const { response, record } = ask(message, options);
    expect(record?.query_name).toBe('a\\.b.\\000\\\\.\\032\\255.');
    expect(record?.rcode).toBe('REFUSED');
    expect(response?.subarray(12)).toEqual(message.subarray(12));

    // One label `x.goldgate` then `internal`: not under goldgate.internal, whatever its text.
    const escaped = Buffer.from([
      10,
      ...Buffer.from('x.goldgate'),
      8,
      ...Buffer.from('internal'),
      0,
      0,
      1,
      0,
      1,
    ]);
    const outside = ask(Buffer.concat([message.subarray(0, 12), escaped]), options).record;
    expect(outside).toMatchObject({ query_name: 'x\\.goldgate.internal.', rcode: 'REFUSED' });
  });

  it('answers EDNS with EDNS (payload 1232, DO copied), and plain DNS without it', () => {
    const { options } = labOptions();
    const plain = ask(query([{ type: 'A', name: 'web.goldgate.internal' }]), options).packet;
    expect(plain?.additionals).toEqual([]);
    const edns = ask(
      query([{ type: 'A', name: 'web.goldgate.internal' }], { additionals: [opt(DNSSEC_OK)] }),
      options,
    );
    expect(edns.packet?.answers).toHaveLength(1);
    expect(edns.packet?.additionals).toEqual([
      expect.objectContaining({
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        ednsVersion: 0,
        flag_do: true,
      }),
    ]);
    const refused = ask(query([{ type: 'A', name: 'example.com' }], { additionals: [opt()] }), options);
    expect(refused.packet?.additionals).toEqual([
      expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232, flag_do: false }),
    ]);
  });

  it('answers an EDNS version it does not speak with BADVERS', () => {
    const { options } = labOptions();
    const message = query([{ type: 'A', name: 'web.goldgate.internal' }], {
      additionals: [opt(0, 1)],
    });
    const { packet, record } = ask(message, options);
    expect(packet?.answers).toEqual([]);
    expect(packet?.additionals).toEqual([expect.objectContaining({ type: 'OPT', extendedRcode: 1 })]);
    expect(record?.rcode).toBe('BADVERS');
  });

  it('gives NOTIMP for opcodes other than QUERY, keeping the opcode', () => {
    const { options } = labOptions();
    const message = query([{ type: 'SOA', name: 'goldgate.internal' }], { flags: 5 << 11 }); // UPDATE
    const { response, packet, record } = ask(message, options);
    expect(packet).toMatchObject({
      id: 0x1234,
      rcode: 'NOTIMP',
      opcode: 'UPDATE',
      questions: [],
      answers: [],
    });
    expect(response).toHaveLength(12);
    expect(record).toMatchObject({ query_name: 'goldgate.internal.', query_type: 'SOA', rcode: 'NOTIMP' });
  });

  it('gives FORMERR for anything but one readable question, logging what it could read', () => {
    const { options } = labOptions();
    const none = ask(query([]), options);
    expect(none.packet).toMatchObject({ id: 0x1234, rcode: 'FORMERR', flag_rd: true, questions: [] });
    expect(none.record).toBeUndefined();

    const two = ask(
      query([
        { type: 'A', name: 'web.goldgate.internal' },
        { type: 'A', name: 'deb.distro-mirror.example' },
      ]),
      options,
    );
    expect(two.packet).toMatchObject({ rcode: 'FORMERR', questions: [], answers: [] });
    expect(two.record).toMatchObject({ query_name: 'web.goldgate.internal.', rcode: 'FORMERR', answers: [] });

    const whole = query([{ type: 'A', name: 'web.goldgate.internal' }]);
    for (let cut = 12; cut < whole.length; cut++) {
      const truncated = ask(whole.subarray(0, cut), options);
      expect(truncated.packet?.rcode, `cut at ${cut}`).toBe('FORMERR');
      expect(truncated.record, `cut at ${cut}`).toBeUndefined();
    }
  });

  it('gives FORMERR for compressed or overlong question names and broken EDNS', () => {
    const { options } = labOptions();
    const header = Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const pointer = Buffer.concat([header, Buffer.from([3, 0x77, 0x65, 0x62, 0xc0, 12, 0, 1, 0, 1])]);
    expect(ask(pointer, options).packet?.rcode).toBe('FORMERR');

    const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
    const name = (labels: number, last: number) =>
      Buffer.concat([...Array<Buffer>(labels).fill(label), Buffer.from([last]), Buffer.alloc(last, 0x62), Buffer.from([0])]); // prettier-ignore
    const longest = Buffer.concat([header, name(3, 61), Buffer.from([0, 1, 0, 1])]); // 255 bytes of name
    const tooLong = Buffer.concat([header, name(3, 62), Buffer.from([0, 1, 0, 1])]);
    expect(ask(longest, options).packet?.rcode).toBe('REFUSED');
    expect(ask(tooLong, options).packet?.rcode).toBe('FORMERR');

    const bigLabel = Buffer.concat([
      header,
      Buffer.from([64]),
      Buffer.alloc(64, 0x61),
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    expect(ask(Buffer.concat([bigLabel, Buffer.alloc(300)]), options).packet?.rcode).toBe('FORMERR');

    const twoOpts = query([{ type: 'A', name: 'web.goldgate.internal' }], { additionals: [opt(), opt()] });
    expect(ask(twoOpts, options).packet?.rcode).toBe('FORMERR');
    // An OPT owned by the question's name (a pointer) instead of the root.
    const withOpt = query([{ type: 'A', name: 'web.goldgate.internal' }], { additionals: [opt()] });
    const at = withOpt.length - 11;
    const ownedOpt = Buffer.concat([
      withOpt.subarray(0, at),
      Buffer.from([0xc0, 12]),
      withOpt.subarray(at + 1),
    ]);
    expect(ask(ownedOpt, options).packet?.rcode).toBe('FORMERR');
    const cutOpt = query([{ type: 'A', name: 'web.goldgate.internal' }], { additionals: [opt()] });
    expect(ask(cutOpt.subarray(0, cutOpt.length - 3), options).packet?.rcode).toBe('FORMERR');
    const padded = query([{ type: 'A', name: 'web.goldgate.internal' }], {
      additionals: [{ ...opt(), options: [{ code: 12, length: 8 }] }],
    });
    expect(ask(padded, options).packet?.rcode).toBe('NOERROR');
    expect(ask(padded.subarray(0, padded.length - 1), options).packet?.rcode).toBe('FORMERR');
  });

  it('keeps every UDP response within 512 bytes, even for the longest name with EDNS', () => {
    const { options } = labOptions({ resolve: () => '10.213.0.9', zones: [] });
    const longest = Array.from({ length: 4 }, (_, i) => 'x'.repeat(i < 3 ? 63 : 61)).join('.');
    const { response, packet } = ask(
      query([{ type: 'A', name: longest }], { additionals: [opt()] }),
      options,
    );
    expect(packet?.answers).toHaveLength(1);
    expect(response?.length).toBeLessThanOrEqual(512);
  });

  it('drops what it cannot answer: short packets and responses', () => {
    const { options } = labOptions();
    expect(answerQuery(Buffer.alloc(0), FROM, options)).toEqual({ response: undefined, record: undefined });
    expect(answerQuery(Buffer.alloc(11), FROM, options)).toEqual({ response: undefined, record: undefined });
    const response = encode({
      type: 'response',
      id: 1,
      questions: [{ type: 'A', name: 'web.goldgate.internal' }],
    });
    expect(answerQuery(response, FROM, options)).toEqual({ response: undefined, record: undefined });
  });

  it('attributes the IPv4 form of a mapped address, and leaves unknown sources unattributed', () => {
    const { options } = labOptions();
    const message = query([{ type: 'A', name: 'web.goldgate.internal' }]);
    const mapped = ask(message, options, { address: '::ffff:10.213.0.5', port: 5353, transport: 'TCP' });
    expect(mapped.record).toMatchObject({
      srcaddr: '10.213.0.5',
      srcport: '5353',
      transport: 'TCP',
      srcids: { instance: 'i-lab0001' },
    });
    const stranger = ask(message, options, { address: '10.213.0.99', port: 1, transport: 'UDP' }).record;
    expect(stranger?.srcids).toEqual({});
    expect(JSON.stringify(stranger)).toContain('"srcids":{}');
  });

  it('throws a LabError when resolve gives something other than an IPv4 address', () => {
    const { options } = labOptions({ resolve: () => 'fd00::1' });
    const message = query([{ type: 'A', name: 'web.goldgate.internal' }]);
    expect(() => answerQuery(message, FROM, options)).toThrow(LabError);
  });

  it('writes records the Route 53 Resolver parser reads back exactly', async () => {
    const { options, records } = labOptions();
    const asked: Array<[string, Question['type'], QuerySource]> = [
      ['web.goldgate.internal', 'A', FROM],
      ['Web.GoldGate.Internal', 'AAAA', FROM],
      ['nope.goldgate.internal', 'A', { ...FROM, address: '127.0.0.1', transport: 'TCP' }],
      ['deb.distro-mirror.example', 'A', { ...FROM, address: '192.168.7.10' }],
    ];
    for (const [name, type, source] of asked) {
      const { record } = answerQuery(query([{ type, name }]), source, options);
      if (record !== undefined) options.log(record);
    }
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-dns-'));
    dirs.push(dir);
    const path = join(dir, 'dns-query.log');
    writeFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    expect(route53.detect('dns-query.log', records.map((r) => JSON.stringify(r)).slice(0, 5))).toBe(true);
    const parsed = await parseFile(path, route53, 'dns-query.log');
    expect(parsed.problems).toEqual([]);
    expect(parsed.records.map((r) => [r.name, r.type, r.rcode, r.instance, r.srcaddr, r.answers])).toEqual([
      ['web.goldgate.internal', 'A', 'NOERROR', 'i-lab0001', '10.213.0.5', ['10.213.0.1']],
      ['web.goldgate.internal', 'AAAA', 'NOERROR', 'i-lab0001', '10.213.0.5', []],
      ['nope.goldgate.internal', 'A', 'NXDOMAIN', 'i-local', '127.0.0.1', []],
      ['deb.distro-mirror.example', 'A', 'REFUSED', null, '192.168.7.10', []],
    ]);
    expect(parsed.records[0]).toMatchObject({
      vpcId: 'vpc-lab',
      time: { text: '2026-11-27T07:47:12Z', epochMs: Date.UTC(2026, 10, 27, 7, 47, 12) },
    });
  });
});

/** One seeded mutation of a DNS message: bit flips, cuts, insertions, huge counts, random bytes. */
function mutateMessage(seed: Buffer, random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  let bytes = Buffer.from(seed);
  for (let step = 1 + pick(4); step > 0; step--) {
    const at = pick(bytes.length + 1);
    switch (pick(7)) {
      case 0:
        if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << pick(8));
        break;
      case 1:
        bytes = bytes.subarray(0, at);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), bytes.subarray(at)]); // prettier-ignore
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(4))]);
        break;
      case 4: // a huge count in one of the four sections
        if (bytes.length >= 12) bytes.writeUInt16BE(random() < 0.5 ? 0xffff : pick(0x10000), 4 + 2 * pick(4));
        break;
      case 5: // a compression pointer, often a looping one
        if (at + 1 < bytes.length) bytes.writeUInt16BE(0xc000 | pick(bytes.length), at);
        break;
      default:
        bytes = Buffer.from(Array.from({ length: pick(600) }, () => pick(256)));
    }
  }
  return bytes;
}

describe('answerQuery on hostile input', () => {
  const seeds = [
    query([{ type: 'A', name: 'web.goldgate.internal' }]),
    query([{ type: 'AAAA', name: 'WEB.goldgate.internal' }], { additionals: [opt(DNSSEC_OK)] }),
    query([{ type: 'TXT', name: 'deb.distro-mirror.example' }], { additionals: [opt()] }),
    query([{ type: 'A', name: 'nope.goldgate.internal' }], {
      answers: [{ type: 'A', name: 'nope.goldgate.internal', ttl: 1, data: '1.2.3.4' }],
      authorities: [{ type: 'NS', name: 'goldgate.internal', ttl: 1, data: 'ns.goldgate.internal' }],
    }),
  ];

  it('never throws, and every answer and record it gives is well formed (seeded fuzz)', () => {
    const { options } = labOptions();
    const random = prng(20261127);
    const tally = { inputs: 0, dropped: 0, records: 0, rcodes: new Set<string>() };
    for (let i = 0; i < 4000; i++) {
      const message = mutateMessage(seeds[i % seeds.length] ?? Buffer.alloc(0), random);
      tally.inputs++;
      let result: ReturnType<typeof answerQuery>;
      try {
        result = answerQuery(message, FROM, options);
      } catch (error) {
        throw new Error(`threw on ${message.toString('hex')}: ${String(error)}`);
      }
      const { response, record } = result;
      if (response === undefined) {
        tally.dropped++;
        expect(record).toBeUndefined();
        continue;
      }
      expect(response.length).toBeLessThanOrEqual(512);
      expect(response.readUInt16BE(0)).toBe(message.readUInt16BE(0));
      const packet = decode(response);
      expect(packet.type).toBe('response');
      if (record === undefined) continue;
      tally.records++;
      tally.rcodes.add(record.rcode);
      const read = readResolverLine(JSON.stringify(record));
      expect(read.errors.concat(read.warnings)).toEqual([]);
      expect(read.queries).toHaveLength(1);
    }
    // The fuzz reached every kind of outcome, so it tested something.
    expect(tally.dropped).toBeGreaterThan(0);
    expect(tally.records).toBeGreaterThan(0);
    expect([...tally.rcodes].sort()).toEqual(
      expect.arrayContaining(['FORMERR', 'NOERROR', 'NOTIMP', 'NXDOMAIN', 'REFUSED']),
    );
  });
});

/** Sends DNS messages over one TCP connection and collects the framed responses. */
function tcpClient(port: number): { socket: Socket; responses: Decoded[] } {
  const socket = connect(port, '127.0.0.1');
  const responses: Decoded[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      responses.push(decode(pending.subarray(2, 2 + pending.readUInt16BE(0))) as Decoded);
      pending = pending.subarray(2 + pending.readUInt16BE(0));
    }
  });
  return { socket, responses };
}

function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

describe('startResolver on real sockets', () => {
  it("answers Node's own resolver over UDP: an address, REFUSED outside, no data for AAAA", async () => {
    const { options, records } = labOptions({ now: undefined });
    const errors: unknown[] = [];
    const resolver = await startResolver('127.0.0.1', 0, { ...options, onError: (e) => errors.push(e) });
    try {
      const { Resolver } = (await import('node:dns')).promises;
      const client = new Resolver({ timeout: 5000, tries: 1 });
      client.setServers([`127.0.0.1:${resolver.port}`]);
      expect(await client.resolve4('web.goldgate.internal')).toEqual(['10.213.0.1']);
      await expect(client.resolve4('deb.distro-mirror.example')).rejects.toMatchObject({ code: 'EREFUSED' });
      await expect(client.resolve6('web.goldgate.internal')).rejects.toMatchObject({ code: 'ENODATA' });
      await expect(client.resolve4('nope.goldgate.internal')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      await vi.waitFor(() => expect(records).toHaveLength(4));

      const dir = mkdtempSync(join(tmpdir(), 'goldgate-dns-'));
      dirs.push(dir);
      const path = join(dir, 'dns-query.log');
      writeFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      const parsed = await parseFile(path, route53, 'dns-query.log');
      expect(parsed.problems).toEqual([]);
      expect(parsed.records.map((r) => [r.name, r.type, r.rcode, r.instance, r.srcaddr, r.answers])).toEqual([
        ['web.goldgate.internal', 'A', 'NOERROR', 'i-local', '127.0.0.1', ['10.213.0.1']],
        ['deb.distro-mirror.example', 'A', 'REFUSED', 'i-local', '127.0.0.1', []],
        ['web.goldgate.internal', 'AAAA', 'NOERROR', 'i-local', '127.0.0.1', []],
        ['nope.goldgate.internal', 'A', 'NXDOMAIN', 'i-local', '127.0.0.1', []],
      ]);
      expect(records.every((r) => r.transport === 'UDP' && /^\d+$/.test(r.srcport))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await resolver.close();
    }
  });

  it('answers several TCP messages per connection, whole, split or together in one chunk', async () => {
    const { options, records } = labOptions();
    const resolver = await startResolver('127.0.0.1', 0, options);
    try {
      const { socket, responses } = tcpClient(resolver.port);
      await once(socket, 'connect');
      const ask = (id: number, name: string) =>
        frame(encode({ type: 'query', id, flags: RECURSION_DESIRED, questions: [{ type: 'A', name }] }));
      socket.write(Buffer.concat([ask(1, 'web.goldgate.internal'), ask(2, 'deb.distro-mirror.example')]));
      const third = ask(3, 'i-lab0002.goldgate.internal');
      socket.write(third.subarray(0, 1)); // half of the length
      await vi.waitFor(() => expect(responses).toHaveLength(2));
      socket.write(third.subarray(1, 9));
      socket.write(Buffer.concat([third.subarray(9), frame(Buffer.alloc(0)), frame(Buffer.from('junk'))]));
      socket.write(ask(4, 'nope.goldgate.internal'));
      await vi.waitFor(() => expect(responses).toHaveLength(4));
      expect(
        responses.map((r) => [r.id, r.rcode, (r.answers?.[0] as { data?: unknown } | undefined)?.data]),
      ).toEqual([
        [1, 'NOERROR', '10.213.0.1'],
        [2, 'REFUSED', undefined],
        [3, 'NOERROR', '10.213.0.7'],
        [4, 'NXDOMAIN', undefined],
      ]);
      await vi.waitFor(() => expect(records).toHaveLength(4));
      expect(records.map((r) => [r.query_name, r.transport, r.srcids.instance])).toEqual([
        ['web.goldgate.internal.', 'TCP', 'i-local'],
        ['deb.distro-mirror.example.', 'TCP', 'i-local'],
        ['i-lab0002.goldgate.internal.', 'TCP', 'i-local'],
        ['nope.goldgate.internal.', 'TCP', 'i-local'],
      ]);
      socket.destroy();
    } finally {
      await resolver.close();
    }
  });

  it('keeps serving after garbage on UDP and TCP, and closes idle TCP connections', async () => {
    const { options, records } = labOptions();
    const errors: unknown[] = [];
    const resolver = await startResolver('127.0.0.1', 0, {
      ...options,
      tcpIdleMs: 200,
      onError: (e) => errors.push(e),
    });
    try {
      const random = prng(7);
      const udp = createSocket('udp4');
      const seed = query([{ type: 'A', name: 'web.goldgate.internal' }]);
      for (let i = 0; i < 200; i++) udp.send(mutateMessage(seed, random), resolver.port, '127.0.0.1');
      const tcp = tcpClient(resolver.port);
      await once(tcp.socket, 'connect');
      for (let i = 0; i < 50; i++) tcp.socket.write(frame(mutateMessage(seed, random)));

      const { Resolver } = (await import('node:dns')).promises;
      const client = new Resolver({ timeout: 5000, tries: 1 });
      client.setServers([`127.0.0.1:${resolver.port}`]);
      expect(await client.resolve4('web.goldgate.internal')).toEqual(['10.213.0.1']);
      udp.close();

      // The idle connection is closed by the resolver, not by us.
      if (!tcp.socket.closed) await once(tcp.socket, 'close');
      expect(records.length).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await resolver.close();
    }
  });

  it('reports what its callbacks throw to onError and keeps serving', async () => {
    const { options, records } = labOptions();
    const errors: unknown[] = [];
    let calls = 0;
    const resolver = await startResolver('127.0.0.1', 0, {
      ...options,
      log: (record) => {
        if (++calls === 1) throw new Error('disk full');
        records.push(record);
      },
      onError: (e) => errors.push(e),
    });
    try {
      const { Resolver } = (await import('node:dns')).promises;
      const client = new Resolver({ timeout: 5000, tries: 1 });
      client.setServers([`127.0.0.1:${resolver.port}`]);
      expect(await client.resolve4('web.goldgate.internal')).toEqual(['10.213.0.1']);
      expect(await client.resolve4('i-lab0002.goldgate.internal')).toEqual(['10.213.0.7']);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(errors).toEqual([new Error('disk full')]);
    } finally {
      await resolver.close();
    }
  });

  it('reports a port it cannot take as a LabError, and closes twice safely', async () => {
    const { options } = labOptions();
    const first = await startResolver('127.0.0.1', 0, options);
    try {
      await expect(startResolver('127.0.0.1', first.port, options)).rejects.toMatchObject({
        code: 'LAB_DNS_LISTEN_FAILED',
        fault: 'environment',
      });
    } finally {
      await first.close();
      await first.close();
    }
  });
});
