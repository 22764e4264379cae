import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogProblem } from '../types.js';
import type { QueryCount, QueryCounts, ScanResult, ScanTask } from './scan.js';
import { mergeCounts, scanTask } from './scan.js';
import { isGzipFile } from '../../core/gzip.js';

export type { QueryCount, QueryCounts } from './scan.js';

export interface AggregateOptions {
  /**
   * Byte ranges a large uncompressed file is split into, and worker threads used; default
   * the available cores, at most 2. 1 reads each file in one piece.
   */
  parallelism?: number;
  /** Uncompressed files at least this big are split; default 64 MiB. */
  splitAbove?: number;
  /**
   * Count in worker threads (default), keeping the caller's event loop free; false counts in
   * this thread, one task after the other. Threads need the compiled worker: when goldgate
   * runs from its TypeScript sources (tests), counting happens in this thread.
   */
  threads?: boolean;
}

/** Query counts of Route 53 Resolver query logs, per instance and name. */
export interface QueryAggregate {
  /** `srcids.instance`, or `srcaddr` for queries from elsewhere → name (normalized) → counts. */
  byInstance: QueryCounts;
  /** Queries counted. */
  records: number;
  /** Lines that gave no query, with the route53-resolver parser's reasons (in file and line order). */
  problems: LogProblem[];
}

const DEFAULT_SPLIT_ABOVE = 64 * 1024 * 1024;
const WORKER = new URL('./worker.js', import.meta.url);

/** Offsets that cut `[0, size)` into `parts` ranges, each starting at a line start. */
async function lineBoundaries(path: string, size: number, parts: number): Promise<number[]> {
  const cuts = [0];
  const handle = await open(path, 'r');
  const window = Buffer.allocUnsafe(64 * 1024);
  try {
    for (let k = 1; k < parts; k++) {
      let position = Math.max(Math.floor((size * k) / parts), cuts.at(-1)!);
      let cut = size;
      // The range starts after the first newline at or after position - 1.
      position = Math.max(position - 1, 0);
      while (position < size) {
        const { bytesRead } = await handle.read(window, 0, window.length, position);
        if (bytesRead === 0) break;
        const nl = window.subarray(0, bytesRead).indexOf(0x0a);
        if (nl >= 0) {
          cut = position + nl + 1;
          break;
        }
        position += bytesRead;
      }
      if (cut > cuts.at(-1)! && cut < size) cuts.push(cut);
    }
  } finally {
    await handle.close();
  }
  cuts.push(size);
  return cuts;
}

/** Runs tasks on a pool of worker threads, results in task order. */
async function runInWorkers(tasks: ScanTask[], threads: number): Promise<ScanResult[]> {
  const results: ScanResult[] = new Array<ScanResult>(tasks.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(threads, tasks.length) }, () => new Worker(WORKER));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const give = () => {
              if (next >= tasks.length) {
                resolve();
                return;
              }
              current = next++;
              worker.postMessage(tasks[current]);
            };
            worker.on(
              'message',
              (message: { ok: true; result: ScanResult } | { ok: false; error: string }) => {
                if (!message.ok) {
                  reject(new Error(message.error));
                  return;
                }
                results[current] = message.result;
                give();
              },
            );
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (next < tasks.length || results[current] === undefined)
                reject(new Error(`worker exited with ${code}`));
            });
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}

/**
 * Counts the queries of Route 53 Resolver query logs per (instance, name) and rcode, with the
 * same result as reading every line with the route53-resolver parser, but by scanning bytes:
 * lines the fast path cannot vouch for (escapes, missing keys, anything unusual) go through
 * the parser. Gzip files are read transparently; memory stays flat (the maps hold only the
 * distinct pairs); large uncompressed files are split on line boundaries across threads.
 * I/O errors throw; unreadable lines are problems.
 */
export async function aggregateQueries(
  paths: string[],
  options: AggregateOptions = {},
): Promise<QueryAggregate> {
  const parallelism = Math.max(1, Math.floor(options.parallelism ?? Math.min(2, availableParallelism())));
  const splitAbove = options.splitAbove ?? DEFAULT_SPLIT_ABOVE;
  const threads = (options.threads ?? true) && existsSync(fileURLToPath(WORKER));

  const tasks: ScanTask[] = [];
  for (const path of paths) {
    const { size } = await stat(path);
    const gzip = size >= 2 && (await isGzipFile(path));
    if (gzip || parallelism === 1 || size < splitAbove || size === 0) {
      tasks.push({ path, start: 0, end: size, gzip });
      continue;
    }
    const cuts = await lineBoundaries(path, size, parallelism);
    for (let k = 0; k + 1 < cuts.length; k++)
      tasks.push({ path, start: cuts[k]!, end: cuts[k + 1]!, gzip: false });
  }

  let results: ScanResult[];
  if (threads) results = await runInWorkers(tasks, parallelism);
  else {
    results = [];
    for (const task of tasks) results.push(await scanTask(task));
  }

  const byInstance: QueryCounts = new Map();
  const problems: LogProblem[] = [];
  let records = 0;
  let offset = 0;
  tasks.forEach((task, k) => {
    const result = results[k]!;
    if (task.start === 0) offset = 0;
    for (const problem of result.problems)
      problems.push({ file: task.path, line: problem.line + offset, reason: problem.reason });
    offset += result.lines;
    records += result.records;
    mergeCounts(byInstance, result.counts);
  });
  return { byInstance, records, problems };
}

/** Total queries per instance (or source address), e.g. to compare with another tool. */
export function totalsByInstance(aggregate: QueryAggregate): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [who, names] of aggregate.byInstance) {
    let sum = 0;
    for (const count of names.values()) sum += (count as QueryCount).queries;
    totals.set(who, sum);
  }
  return totals;
}
