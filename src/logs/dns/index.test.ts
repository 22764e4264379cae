import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import route53 from '../parsers/route53-resolver/index.js';
import { MAX_LINE_BYTES, parseFile } from '../read.js';
import type { LogProblem } from '../types.js';
import type { AggregateOptions, QueryAggregate, QueryCounts } from './index.js';
import { aggregateQueries, totalsByInstance } from './index.js';
import { addCount } from './scan.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSTANCES = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'];
const NAMES = [
  'security.distro-mirror.example.',
  'api.acme.internal.',
  'Metrics.Example-Vendor.COM.',
  '.',
  'ssm.us-east-1.amazonaws.com.',
];

function record(random: () => number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const roll = random();
  return {
    version: '1.100000',
    account_id: '111122223333',
    region: 'us-east-1',
    vpc_id: 'vpc-0example',
    query_timestamp: '2026-11-27T07:47:12Z',
    query_name: pick(NAMES),
    query_type: pick(['A', 'AAAA']),
    query_class: 'IN',
    rcode: roll < 0.1 ? 'NXDOMAIN' : roll < 0.13 ? 'SERVFAIL' : 'NOERROR',
    answers: roll < 0.13 ? [] : [{ Rdata: '10.0.4.12', Type: 'A', Class: 'IN' }],
    srcaddr: pick(['10.0.1.20', '10.0.1.21']),
    srcport: '40000',
    transport: 'UDP',
    srcids: { instance: pick(INSTANCES) },
    ...overrides,
  };
}

/** A log with everything the fast path must hand to the parser, among ordinary lines. */
function tricky(random: () => number, lines: number): string {
  const out: string[] = ['\uFEFF' + JSON.stringify(record(random))];
  const specials: Array<() => string> = [
    () => JSON.stringify(record(random)).replace('"query_name":"', '"query_name":"we\\u0069rd.'),
    () => JSON.stringify(record(random, { answers: [{ Rdata: '"v=spf1 -all"', Type: 'TXT', Class: 'IN' }] })),
    () => `2026-11-27T07:47:12.000Z ${JSON.stringify(record(random))}`,
    () => `2026-11-27T07:47:12.000Z\t\t${JSON.stringify(record(random))}`,
    () => `2026-11-27 ${JSON.stringify(record(random))}`,
    () => JSON.stringify(record(random, { srcids: { resolver_endpoint: 'rslvr-in-1' } })),
    () => JSON.stringify({ ...record(random), srcids: undefined }),
    () => JSON.stringify(record(random, { srcids: null })),
    () => JSON.stringify(record(random, { srcids: 'i-0notanobject' })),
    () => JSON.stringify(record(random, { srcids: { instance: null } })),
    () => JSON.stringify(record(random, { srcids: { instance: 7 } })),
    () => JSON.stringify(record(random, { srcids: [{ instance: 'i-0inarray' }] })),
    () => JSON.stringify(record(random, { srcids: { nested: { instance: 'i-0nested' } } })),
    () => JSON.stringify(record(random, { query_name: 7 })),
    () => JSON.stringify(record(random, { rcode: null })),
    () => JSON.stringify({ ...record(random), srcaddr: undefined }),
    () => JSON.stringify({ ...record(random), query_timestamp: 'yesterday' }),
    () => JSON.stringify(record(random, { extra: { query_name: 'nested.example.', rcode: 'X' } })),
    () => JSON.stringify(record(random)).replace('{', '{"query_name":"first.example.",'),
    () => JSON.stringify(record(random)).replace('"srcids"', '"srcids":{"instance":"i-0first"},"srcids"'),
    () => JSON.stringify(record(random)).slice(0, -1) + ',"srcids":"flat"}',
    () => JSON.stringify(record(random)).slice(0, -1) + ',"srcids":5}',
    () => JSON.stringify(record(random, { numbers: [0, -1, 1.5e3, 2e-2, true, false, null, {}, []] })),
    () => JSON.stringify(record(random)).replace('"IN"', '01'),
    () => JSON.stringify(record(random)).replace('"IN"', '-'),
    () => JSON.stringify(record(random)).replace('"IN"', '1.'),
    () => JSON.stringify(record(random)).replace('"IN"', 'tru'),
    () => JSON.stringify(record(random)).replace('"IN"', '"I\tN"'),
    () => JSON.stringify(record(random)).replace('"IN"', '"I\u0000N"'),
    () => JSON.stringify(record(random, { query_name: 'bücher.example.' })),
    () => JSON.stringify(record(random, { query_name: 'b\uFFFDd.example.' })),
    () => JSON.stringify(record(random)).slice(0, 120),
    () => JSON.stringify(record(random)).slice(0, -1),
    () => JSON.stringify(record(random)) + '}',
    () => JSON.stringify(record(random)) + JSON.stringify(record(random)),
    () => JSON.stringify(record(random)) + ' {"query_name"',
    () =>
      `  ${JSON.stringify(record(random, { query_name: 'SPACED.example.' }), null, 1).replace(/\n/g, ' ')}  `,
    () => JSON.stringify(record(random)) + '\r',
    () => JSON.stringify(record(random)) + '\u00a0',
    () =>
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        logEvents: [{ message: JSON.stringify(record(random)) }, { message: 'x' }],
      }),
    () => JSON.stringify([record(random)]),
    () => 'garbage "query_name": "x." "rcode": "NOERROR" "srcaddr": "1"',
    () => '',
    () => '   \t ',
    () => '42',
    () => JSON.stringify(record(random)).replace(/"/g, "'"),
  ];
  for (let k = 1; k < lines; k++) {
    if (random() < 0.25) out.push(specials[Math.floor(random() * specials.length)]!());
    else if (random() < 0.5) out.push(JSON.stringify(record(random)));
    else out.push(JSON.stringify(record(random), null, 0).replace(/":/g, '": ').replace(/,"/g, ', "'));
  }
  return out.join('\n');
}

/** What the parser says, aggregated: the reference the fast path must equal. */
async function reference(path: string): Promise<QueryAggregate> {
  const { records, problems } = await parseFile(path, route53);
  const byInstance: QueryCounts = new Map();
  for (const r of records) addCount(byInstance, r.instance ?? r.srcaddr, r.name, r.rcode);
  // The aggregator reads no timestamps: the parser's warnings about kept records are not its problems.
  const unreadable = problems.filter((p) => !p.reason.startsWith('query of '));
  return { byInstance, records: records.length, problems: unreadable };
}

const sortProblems = (problems: LogProblem[]) =>
  [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.reason.localeCompare(b.reason),
  );

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'goldgate-dns-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aggregateQueries', () => {
  it('counts the sample per instance and name', async () => {
    const sample = fileURLToPath(
      new URL('../parsers/route53-resolver/__fixtures__/resolver-query-log.sample.jsonl', import.meta.url),
    );
    const result = await aggregateQueries([sample], { threads: false });
    expect(result.records).toBe(12);
    expect(result.problems).toEqual([]);
    expect(result.byInstance.get('i-0a1b2c3d4e5f60001')).toEqual(
      new Map([
        ['security.distro-mirror.example', { queries: 2, rcodes: { NOERROR: 2 } }],
        ['archive.distro-mirror.example', { queries: 1, rcodes: { NOERROR: 1 } }],
        ['api.acme.internal', { queries: 1, rcodes: { NOERROR: 1 } }],
        ['metrics.example-vendor.com', { queries: 1, rcodes: { NXDOMAIN: 1 } }],
        ['ssm.us-east-1.amazonaws.com', { queries: 1, rcodes: { NOERROR: 1 } }],
      ]),
    );
    expect(totalsByInstance(result)).toEqual(
      new Map([
        ['i-0a1b2c3d4e5f60001', 6],
        ['i-0a1b2c3d4e5f60002', 6],
      ]),
    );
  });

  it('equals the parser exactly on a log full of traps, whole, split in ranges, and gzipped', async () => {
    const text = tricky(prng(7), 60_000);
    // Bytes that are not UTF-8, inside strings and outside.
    const raw = Buffer.concat([
      Buffer.from(
        '\n{"query_name":"bad-\xff-\xc3.example.","rcode":"NOERROR","srcaddr":"10.0.1.9"}\n',
        'latin1',
      ),
      Buffer.from('{"query_name":"ok.example.","rcode":"NOERROR","srcaddr":"10.0.1.9"}\xff\n', 'latin1'),
      Buffer.from('{"query_name":"tail.example.","rcode":"NOERROR","srcaddr":"10.0.1.9\xe2\x82"}', 'latin1'),
    ]);
    const bytes = Buffer.concat([Buffer.from(text), raw]);
    const plain = join(dir, 'tricky.jsonl');
    writeFileSync(plain, bytes);
    const gz = join(dir, 'tricky.log.1.gz');
    writeFileSync(gz, gzipSync(bytes));
    const expected = await reference(plain);
    // The traps are there: queries, unreadable lines, and lines the parser reads despite the fast path.
    expect(expected.records).toBeGreaterThan(50_000);
    expect(expected.problems.length).toBeGreaterThan(1000);
    expect(expected.byInstance.get('10.0.1.20')?.size).toBeGreaterThan(0);
    expect(
      [...expected.byInstance.values()].some((names) => names.has('weird.security.distro-mirror.example')),
    ).toBe(true);

    const runs: Array<[string, AggregateOptions]> = [
      ['whole', { threads: false, parallelism: 1 }],
      ['2 ranges', { threads: false, parallelism: 2, splitAbove: 1 }],
      ['5 ranges', { threads: false, parallelism: 5, splitAbove: 1 }],
    ];
    for (const [, options] of runs) {
      const actual = await aggregateQueries([plain], options);
      expect(actual.records).toBe(expected.records);
      expect(actual.byInstance).toEqual(expected.byInstance);
      expect(sortProblems(actual.problems)).toEqual(sortProblems(expected.problems));
    }
    const zipped = await aggregateQueries([gz], { threads: false });
    expect(zipped.byInstance).toEqual(expected.byInstance);
    expect(zipped.problems).toEqual(expected.problems.map((p) => ({ ...p, file: gz })));
  });

  it('sums several files, CRLF endings and a last line without one', async () => {
    const random = prng(3);
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    writeFileSync(a, [JSON.stringify(record(random)), JSON.stringify(record(random))].join('\r\n') + '\r\n');
    writeFileSync(b, `not json\n${JSON.stringify(record(random))}`);
    const result = await aggregateQueries([a, b], { threads: false });
    const expected = [await reference(a), await reference(b)];
    expect(result.records).toBe(3);
    expect(result.problems).toEqual([{ file: b, line: 1, reason: expect.stringMatching(/^not JSON: /) }]);
    const merged: QueryCounts = new Map();
    for (const e of expected)
      for (const [who, names] of e.byInstance)
        for (const [name, c] of names)
          for (const [rcode, n] of Object.entries(c.rcodes)) addCount(merged, who, name, rcode, n);
    expect(result.byInstance).toEqual(merged);
  });

  it('cuts an over-long line and reports it, wherever the reads split it', async () => {
    const random = prng(5);
    const long = JSON.stringify(
      record(random, { answers: [{ Rdata: 'x'.repeat(MAX_LINE_BYTES + 10), Type: 'TXT', Class: 'IN' }] }),
    );
    const path = join(dir, 'long.jsonl');
    // The long line straddles the 4 MiB read boundary.
    const filler = Array.from({ length: 9000 }, () => JSON.stringify(record(random))).join('\n');
    writeFileSync(path, `${filler}\n${long}\n${JSON.stringify(record(random))}\n`);
    const result = await aggregateQueries([path], { threads: false });
    expect(result.records).toBe(9001);
    expect(result.problems.map((p) => [p.line, p.reason.slice(0, 30)])).toEqual([
      [9001, `line longer than ${MAX_LINE_BYTES} bytes, cut`.slice(0, 30)],
      [9001, 'not JSON: Unterminated string '],
    ]);
  });

  it('reports a truncated gzip file after the lines it holds', async () => {
    const random = prng(9);
    const text = Array.from({ length: 2000 }, () => JSON.stringify(record(random))).join('\n');
    const zipped = gzipSync(text);
    const path = join(dir, 'cut.gz');
    writeFileSync(path, zipped.subarray(0, Math.floor(zipped.length / 2)));
    const result = await aggregateQueries([path], { threads: false });
    expect(result.records).toBeGreaterThan(0);
    expect(result.records).toBeLessThan(2000);
    expect(result.problems.at(-1)?.reason).toMatch(/^unreadable from here: /);
    const expected = await parseFile(path, route53);
    expect(result.records).toBe(expected.records.length);
  });

  it('throws on a file that does not exist', async () => {
    await expect(aggregateQueries([join(dir, 'missing.jsonl')], { threads: false })).rejects.toThrow(
      /ENOENT/,
    );
  });

  it('gives the same counts from worker threads (compiled copy of the module)', async () => {
    // Worker threads need JavaScript: transpile the aggregator and what it imports.
    const src = fileURLToPath(new URL('../../', import.meta.url));
    const out = join(dir, 'compiled');
    const files = [
      'core/gzip.ts',
      'logs/time.ts',
      'logs/read.ts',
      'logs/types.ts',
      'logs/parsers/route53-resolver/index.ts',
      'logs/dns/index.ts',
      'logs/dns/scan.ts',
      'logs/dns/worker.ts',
    ];
    for (const file of files) {
      const js = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      }).outputText;
      const target = join(out, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, js);
    }
    writeFileSync(join(out, 'package.json'), '{ "type": "module" }');
    const compiled = (await import(pathToFileURL(join(out, 'logs/dns/index.js')).href)) as {
      aggregateQueries: typeof aggregateQueries;
    };

    const text = tricky(prng(11), 20_000);
    const plain = join(dir, 'threads.jsonl');
    writeFileSync(plain, text);
    const expected = await reference(plain);
    const actual = await compiled.aggregateQueries([plain, plain], { parallelism: 2, splitAbove: 1 });
    expect(actual.records).toBe(expected.records * 2);
    const doubled: QueryCounts = new Map();
    for (const [who, names] of expected.byInstance)
      for (const [name, c] of names)
        for (const [rcode, n] of Object.entries(c.rcodes)) addCount(doubled, who, name, rcode, 2 * n);
    expect(actual.byInstance).toEqual(doubled);
    expect(sortProblems(actual.problems)).toEqual(sortProblems([...expected.problems, ...expected.problems]));
  });
});
