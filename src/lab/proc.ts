import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The kernel's start time of a process (clock ticks since boot), or undefined when it is gone or a zombie. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** True when `pid` runs and is the same process that started at `startTime` (not a reused pid). */
export function isAlive(pid: number, startTime: number): boolean {
  return pid > 0 && processStartTime(pid) === startTime;
}

/** The direct children of a process. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Every pid on the host with its root directory and command line, skipping processes that vanish meanwhile. */
export function listProcesses(): { pid: number; root: string | undefined; argv: string[] }[] {
  const out: { pid: number; root: string | undefined; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let root: string | undefined;
    let argv: string[] = [];
    try {
      root = readlinkSync(`/proc/${pid}/root`);
    } catch {
      root = undefined;
    }
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((s) => s !== '');
    } catch {
      continue;
    }
    out.push({ pid, root, argv });
  }
  return out;
}

/** Decodes the octal escapes (`\040` for a space) the kernel uses in mountinfo paths. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The mount points listed in a mountinfo text, in mount order. */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) points.push(unescapeMountPath(field));
  }
  return points;
}

/** Mount points of this process's mount namespace at or below `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}
