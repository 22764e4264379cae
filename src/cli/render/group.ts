import type { GoldgateEvent, GroupStatus } from '../../core/events.js';
import type { Activity } from '../../group/activities.js';
import type { GroupDescription } from '../../group/admin.js';
import { style } from '../terminal.js';
import { printableDeep } from '../../core/printable.js';

const clock = (iso: string): string => iso.slice(11, 19);

/** `healthy 2/3 · in service 3 · pending 0 · terminating 0 · launched 5 · replaced 2` */
export function statusLine(status: GroupStatus, color: boolean): string {
  const healthy = `healthy ${status.healthy}/${status.desired}`;
  const paint =
    status.healthy >= status.desired ? style.green : status.healthy === 0 ? style.red : style.yellow;
  return [
    paint(style.bold(healthy, color), color),
    `in service ${status.inService}`,
    `pending ${status.pending}`,
    `terminating ${status.terminating}`,
    `launched ${status.launched}`,
    status.replaced > 0 ? style.red(`replaced ${status.replaced}`, color) : `replaced ${status.replaced}`,
  ].join(' · ');
}

/** One line per controller event, as `group run` prints them. */
export function groupEventLine(unsafe: GoldgateEvent, color: boolean): string | undefined {
  const event = printableDeep(unsafe);
  if (event.type === 'group-status')
    return `${clock(event.at)}  ${event.group}  ${statusLine(event.status, color)}\n`;
  if (event.type !== 'group') return undefined;
  const bad = event.action === 'unhealthy' || event.action === 'launch-failed' || /FAILS/.test(event.message);
  const text = bad ? style.red(event.message, color) : event.message;
  return `${clock(event.at)}  ${style.dim(event.action.padEnd(14), color)}${text}\n`;
}

/** Rows as columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderDescribe(unsafe: GroupDescription, color: boolean): string {
  const group = printableDeep(unsafe);
  const lines = [
    `${style.bold(group.AutoScalingGroupName, color)}  image ${group.ImageId}`,
    `  desired ${group.DesiredCapacity} (min ${group.MinSize}, max ${group.MaxSize}) · grace ${group.HealthCheckGracePeriod} s · health every ${group.HealthCheckIntervalSeconds} s · unhealthy after ${group.UnhealthyThreshold} failed checks`,
    `  health checks: ${group.HealthChecks === 'image' ? "the image's own (its spec)" : group.HealthChecks.join(', ')}`,
    `  ${statusLine(group.Status, color)}`,
    `  controller: ${group.Controller.running ? `running (pid ${group.Controller.pid}, since ${group.Controller.since})` : 'not running (goldgate group run keeps the group): health as the controller last saw it'}`,
  ];
  if (group.Instances.length === 0) return `${lines.join('\n')}\n  no instances\n`;
  const rows = [
    ['INSTANCE', 'LIFECYCLE', 'HEALTH', 'SERVING', 'ADDRESS', 'LAUNCHED', 'DAYS', 'LAST CHECK'],
    ...group.Instances.map((i) => [
      i.InstanceId,
      i.LifecycleState,
      i.HealthStatus,
      i.Serving ? 'yes' : 'no',
      i.Address ?? '-',
      clock(i.LaunchTime),
      String(i.TimerDays),
      i.LastHealthCheck === null
        ? '-'
        : `${i.LastHealthCheck.ok ? 'ok' : 'FAILED'} ${clock(i.LastHealthCheck.at)} ${i.LastHealthCheck.detail}`.slice(
            0,
            80,
          ),
    ]),
  ];
  return `${lines.join('\n')}\n\n${table(rows)}\n`;
}

export function renderList(unsafe: GroupDescription[]): string {
  const groups = printableDeep(unsafe);
  if (groups.length === 0) return 'no groups (goldgate group create makes one)\n';
  const rows = [
    ['GROUP', 'IMAGE', 'DESIRED', 'MIN', 'MAX', 'HEALTHY', 'IN SERVICE', 'REPLACED', 'CONTROLLER'],
    ...groups.map((g) => [
      g.AutoScalingGroupName,
      g.ImageId.slice(0, 16),
      String(g.DesiredCapacity),
      String(g.MinSize),
      String(g.MaxSize),
      String(g.Status.healthy),
      String(g.Status.inService),
      String(g.Status.replaced),
      g.Controller.running ? `pid ${g.Controller.pid}` : '-',
    ]),
  ];
  return `${table(rows)}\n`;
}

export function renderActivities(unsafe: readonly Activity[], color: boolean): string {
  const activities = printableDeep(unsafe);
  if (activities.length === 0) return 'no activities\n';
  return activities
    .map((a) => {
      const status =
        a.StatusCode === 'Successful'
          ? style.green(a.StatusCode, color)
          : a.StatusCode === 'Failed'
            ? style.red(a.StatusCode, color)
            : style.yellow(a.StatusCode, color);
      const message = a.StatusMessage === undefined ? '' : `\n    ${a.StatusMessage}`;
      return `${a.StartTime.replace('T', ' ').slice(0, 19)}  ${status}  ${a.Description}\n    ${style.dim(a.Cause, color)}${message}`;
    })
    .join('\n')
    .concat('\n');
}
