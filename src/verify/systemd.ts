import { execInInstance } from '../lab/instance.js';
import { sleep } from '../lab/run.js';
import type { FailedUnit, TimerRun } from './types.js';

// Reads systemd's view inside an instance through `systemctl show`: stable `Key=value` lines,
// one block per unit, timestamps asked for in UTC with microseconds.

const UNIT = /^[A-Za-z0-9:_.@\\-]+$/;

type Props = Map<string, string>;

/** `systemctl show` output: blocks separated by empty lines, `Key=value` in each. */
export function parseShow(text: string): Props[] {
  const blocks: Props[] = [];
  let current: Props = new Map();
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      continue;
    }
    const at = line.indexOf('=');
    if (at > 0) current.set(line.slice(0, at), line.slice(at + 1));
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

/** `Fri 2026-11-27 12:04:49.450115 UTC` (systemctl --timestamp=us+utc) as ISO 8601; null when empty or unreadable. */
export function showTime(value: string | undefined): string | null {
  const match = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? UTC$/.exec(value?.trim() ?? '');
  if (match === null) return null;
  const ms = match[3] === undefined ? '' : match[3].slice(0, 4).padEnd(4, '0');
  const time = Date.parse(`${match[1]}T${match[2]}${ms}Z`);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

async function systemctl(id: string, home: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const result = await execInInstance(id, ['systemctl', '--no-pager', ...args], { home, timeoutMs });
  return result.stdout;
}

async function show(id: string, home: string, units: string[], properties: string[]): Promise<Props[]> {
  if (units.length === 0) return [];
  return parseShow(
    await systemctl(id, home, ['show', '--timestamp=us+utc', `--property=${properties.join(',')}`, ...units]),
  );
}

export interface ScheduledTimer {
  timer: string;
  service: string;
  /** When systemd would next start it on its own (ISO 8601), if it says. */
  nextAt: string | null;
  lastAt: string | null;
}

const TIMER_PROPS = ['Id', 'Unit', 'ActiveState', 'NextElapseUSecRealtime', 'LastTriggerUSec'];

/**
 * The timers systemd has scheduled in the instance: every timer unit that is active
 * (enabled and started through timers.target, or started by another unit). A masked timer,
 * or one whose conditions failed, would never fire and is not listed.
 */
export async function scheduledTimers(id: string, home: string): Promise<ScheduledTimer[]> {
  const listed = await systemctl(id, home, ['list-units', '--type=timer', '--all', '--plain', '--no-legend']);
  const names = listed
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.endsWith('.timer') && UNIT.test(name));
  const blocks = await show(id, home, names, TIMER_PROPS);
  return blocks
    .filter((b) => b.get('ActiveState') === 'active' && UNIT.test(b.get('Unit') ?? ''))
    .map((b) => ({
      timer: b.get('Id') ?? '',
      service: b.get('Unit') ?? '',
      nextAt: showTime(b.get('NextElapseUSecRealtime')),
      lastAt: showTime(b.get('LastTriggerUSec')),
    }))
    .sort((a, b) => a.timer.localeCompare(b.timer));
}

const SERVICE_PROPS = [
  'Id',
  'Result',
  'ActiveState',
  'ExecMainStartTimestamp',
  'ExecMainExitTimestamp',
  'ExecMainStatus',
  'ExecMainCode',
  'InactiveEnterTimestamp',
];

/** How each service's last run went, as systemd recorded it. */
export async function serviceRuns(
  id: string,
  home: string,
  timers: readonly ScheduledTimer[],
  triggered: TimerRun['triggered'],
): Promise<TimerRun[]> {
  const blocks = await show(
    id,
    home,
    timers.map((t) => t.service),
    SERVICE_PROPS,
  );
  const byId = new Map(blocks.map((b) => [b.get('Id') ?? '', b]));
  return timers.map((t) => {
    const b = byId.get(t.service) ?? new Map<string, string>();
    const startedAt = showTime(b.get('ExecMainStartTimestamp'));
    const active = b.get('ActiveState') ?? '';
    const running = active === 'active' || active === 'activating' || active === 'reloading';
    const finishedAt = running
      ? null
      : (showTime(b.get('ExecMainExitTimestamp')) ?? showTime(b.get('InactiveEnterTimestamp')));
    // ExecMainCode 1 is CLD_EXITED: ExecMainStatus is an exit status (else a signal number).
    const exited = b.get('ExecMainCode') === '1';
    return {
      timer: t.timer,
      service: t.service,
      triggered,
      startedAt,
      finishedAt: startedAt === null ? null : finishedAt,
      result: startedAt === null ? 'not-run' : running ? 'running' : (b.get('Result') ?? 'unknown'),
      exitStatus: startedAt !== null && exited ? Number(b.get('ExecMainStatus') ?? 0) : null,
      nextAt: t.nextAt,
    };
  });
}

/**
 * The services in an order that respects their `After=` between each other (apt-daily
 * before apt-daily-upgrade); otherwise by name. A cycle is broken at the first unit left.
 */
export function orderByAfter(
  services: readonly string[],
  after: ReadonlyMap<string, readonly string[]>,
): string[] {
  const left = new Set([...services].sort());
  const ordered: string[] = [];
  while (left.size > 0) {
    const ready =
      [...left].find((s) => !(after.get(s) ?? []).some((dep) => dep !== s && left.has(dep))) ??
      ([...left][0] as string);
    ordered.push(ready);
    left.delete(ready);
  }
  return ordered;
}

/**
 * Starts the service of each timer once and waits until systemd has no job left.
 * `systemctl start a b` queues one job per unit, one after another: a job is held back by
 * `After=` only if the job it waits for is already queued, so the services are queued in
 * their `After=` order (apt-daily-upgrade after apt-daily, as their timers would run them).
 */
export async function startServices(
  id: string,
  home: string,
  services: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ code: number; stderr: string }> {
  if (services.length === 0) return { code: 0, stderr: '' };
  const started = Date.now();
  const blocks = await show(id, home, services, ['Id', 'After']);
  const after = new Map(blocks.map((b) => [b.get('Id') ?? '', (b.get('After') ?? '').split(/\s+/)]));
  // Queued without waiting: the wait is settle's, which a caller can stop.
  const result = await execInInstance(
    id,
    ['systemctl', 'start', '--no-block', ...orderByAfter(services, after)],
    { home, timeoutMs },
  );
  await settle(id, home, Math.max(1_000, timeoutMs - (Date.now() - started)), signal);
  return { code: result.code, stderr: result.stderr.trim() };
}

/** Waits until systemd's job queue is empty (what the started services pulled in is done too); false on timeout or abort. */
export async function settle(
  id: string,
  home: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await systemctl(id, home, ['list-jobs', '--plain', '--no-legend']);
    if (jobs.trim() === '' || jobs.includes('No jobs running')) return true;
    if (Date.now() > until || signal?.aborted === true) return false;
    await sleep(100);
  }
}

/** Units in the `failed` state, with systemd's Result= (and the exit status of a service). */
export async function failedUnits(id: string, home: string): Promise<FailedUnit[]> {
  const listed = await systemctl(id, home, ['list-units', '--failed', '--all', '--plain', '--no-legend']);
  const names = listed
    .split('\n')
    .map((line) => line.trim().replace(/^●\s*/, '').split(/\s+/)[0] ?? '')
    .filter((name) => name !== '' && UNIT.test(name));
  const blocks = await show(id, home, names, ['Id', 'Result', 'ExecMainStatus', 'ExecMainCode']);
  return blocks
    .map((b) => {
      const result = b.get('Result') ?? 'failed';
      const status = b.get('ExecMainCode') === '1' ? b.get('ExecMainStatus') : undefined;
      return {
        unit: b.get('Id') ?? '',
        detail: status !== undefined && status !== '0' ? `${result}, status ${status}` : result,
      };
    })
    .filter((u) => u.unit !== '')
    .sort((a, b) => a.unit.localeCompare(b.unit));
}
