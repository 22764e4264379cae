import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { findExecutable } from '../core/which.js';
import type { HealthCheck } from '../spec/schema.js';
import { execInInstance, liveInstance } from './instance.js';
import { run } from './run.js';
import { instanceDir } from './state.js';

/** The outcome of one health check on one instance. */
export interface HealthResult {
  name: string;
  kind: 'http' | 'command' | 'unit';
  ok: boolean;
  /** What it saw (the status, the unit's state, the command's last line of output) or why it failed. */
  detail: string;
  durationMs: number;
  /** When the check finished, ISO 8601 UTC. */
  at: string;
}

/** The health log of an instance, in the goldgate-health format (src/logs/parsers/goldgate-health). */
export const HEALTH_LOG = 'goldgate-health.jsonl';

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Run with the host's node inside the instance's network namespace only (nsenter -n): a GET
 * to 127.0.0.1:<port><path>, printing the status code, or `error: <reason>` and exit 2.
 * Fixed text: port, path and timeout arrive as argv.
 */
const HTTP_PROBE = `
const http = require('node:http');
const [port, path, timeout] = process.argv.slice(1);
const req = http.get({ host: '127.0.0.1', port: Number(port), path, timeout: Number(timeout) }, (res) => {
  res.resume();
  process.stdout.write(String(res.statusCode) + '\\n');
  process.exit(0);
});
req.on('timeout', () => { process.stdout.write('error: no answer within ' + timeout + ' ms\\n'); process.exit(2); });
req.on('error', (e) => { process.stdout.write('error: ' + (e.code || e.message) + '\\n'); process.exit(2); });
`;

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** How the check is named in the health log: `command <argv>`, `unit <name>`, `http <url>`. */
export function checkLabel(check: HealthCheck): string {
  if ('http' in check) return `http http://127.0.0.1:${check.http.port}${check.http.path}`;
  if ('command' in check) return `command ${check.command.argv.join(' ')}`;
  return `unit ${check.unit.name}`;
}

async function runOne(
  id: string,
  pid: number,
  check: HealthCheck,
  home: string,
): Promise<{ ok: boolean; detail: string }> {
  if ('command' in check) {
    const { argv, expectExit } = check.command;
    const result = await execInInstance(id, argv, {
      home,
      timeoutMs: check.command.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const out = lastLine(result.stdout) || lastLine(result.stderr);
    if (result.code === expectExit) return { ok: true, detail: out || `exit ${result.code}` };
    return {
      ok: false,
      detail: `exit ${result.code} (expected ${expectExit})${out === '' ? '' : `: ${out}`}`,
    };
  }
  if ('unit' in check) {
    const name = check.unit.name;
    const result = await execInInstance(id, ['systemctl', 'is-active', name], {
      home,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    const state = result.stdout.trim() || lastLine(result.stderr) || `exit ${result.code}`;
    if (state === 'active') return { ok: true, detail: 'active' };
    const load = await execInInstance(id, ['systemctl', 'show', '--property=LoadState', '--value', name], {
      home,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    if (load.stdout.trim() === 'not-found') return { ok: false, detail: `no unit ${name} (not-found)` };
    return { ok: false, detail: `${state} (expected active)` };
  }
  const { port, path, expect } = check.http;
  const timeoutMs = check.http.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const nsenter = findExecutable('nsenter');
  if (nsenter === undefined)
    throw new EnvironmentError('LAB_TOOL_MISSING', 'nsenter not found', {
      hint: 'apt-get install util-linux',
    });
  const result = await run(
    [
      nsenter,
      '-t',
      String(pid),
      '-n',
      '--',
      process.execPath,
      '-e',
      HTTP_PROBE,
      String(port),
      path,
      String(timeoutMs),
    ],
    { timeoutMs: timeoutMs + 5_000 },
  );
  const out = lastLine(result.stdout) || lastLine(result.stderr) || `probe exited ${result.code}`;
  const url = `http://127.0.0.1:${port}${path}`;
  if (!/^\d{3}$/.test(out)) return { ok: false, detail: `GET ${url}: ${out.replace(/^error: /, '')}` };
  const status = Number(out);
  if (status === expect) return { ok: true, detail: `HTTP ${status}` };
  return { ok: false, detail: `GET ${url}: HTTP ${status} (expected ${expect})` };
}

/**
 * Runs health checks inside a running instance, one after another, and appends each result
 * to `<home>/instances/<id>/goldgate-health.jsonl` (the goldgate-health log format). A check
 * that cannot run (its command does not exist, it times out) fails with the reason as its
 * detail; an instance that is not running throws LAB_INSTANCE_DOWN.
 */
export async function runHealthChecks(
  id: string,
  checks: HealthCheck[],
  options: { home: string },
): Promise<HealthResult[]> {
  const home = resolve(options.home);
  const info = liveInstance(home, id);
  const log = join(instanceDir(home, id), HEALTH_LOG);
  const results: HealthResult[] = [];
  for (const check of checks) {
    const kind = 'http' in check ? 'http' : 'command' in check ? 'command' : 'unit';
    const started = Date.now();
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await runOne(id, info.pid, check, home);
    } catch (error) {
      outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const finished = Date.now();
    const result: HealthResult = {
      name: check.name,
      kind,
      ok: outcome.ok,
      detail: outcome.detail,
      durationMs: finished - started,
      at: new Date(finished).toISOString(),
    };
    results.push(result);
    const record = {
      time: result.at,
      instance: id,
      check: checkLabel(check),
      ok: result.ok,
      detail: result.detail,
      durationMs: result.durationMs,
      name: result.name,
    };
    appendFileSync(log, `${JSON.stringify(record)}\n`);
  }
  return results;
}

/** `PORT/PATH` (`8080/health`, `8080` for `/`) as an http check expecting 200. */
export function httpCheckFromFlag(value: string): HealthCheck {
  const match = /^:?(\d{1,5})(\/.*)?$/.exec(value.trim());
  const port = Number(match?.[1]);
  if (match === null || port < 1 || port > 65535)
    throw new UsageError(
      'LAB_BAD_HEALTH_FLAG',
      `--health-http "${value}" is not PORT/PATH (e.g. 8080/health)`,
    );
  const path = match[2] ?? '/';
  return { name: `http :${port}${path}`, http: { port, path, expect: 200 } };
}

/** A command line split on spaces (no quoting) as a command check expecting exit 0. */
export function commandCheckFromFlag(value: string): HealthCheck {
  const argv = value.split(' ').filter((a) => a !== '');
  if (argv.length === 0) throw new UsageError('LAB_BAD_HEALTH_FLAG', '--health-command needs a command');
  return { name: `command ${argv.join(' ')}`, command: { argv, expectExit: 0 } };
}

export function unitCheckFromFlag(value: string): HealthCheck {
  const name = value.trim();
  if (!/^[A-Za-z0-9:_.@\\-]+$/.test(name))
    throw new UsageError('LAB_BAD_HEALTH_FLAG', `--health-unit "${value}" is not a unit name`);
  return { name: `unit ${name}`, unit: { name } };
}
