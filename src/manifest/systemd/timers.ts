import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import type { TimeSpan, TimerInfo } from './types.js';
import { effectiveList, parseSystemdBoolean } from './unit-file.js';
import type { Assignment } from './unit-file.js';

/** Where systemd keeps the last trigger time of `Persistent=true` timers (src/core/timer.c). */
export const TIMER_STAMP_DIR = '/var/lib/systemd/timers';

// time-util.c's table; longer suffixes first so `ms` never reads as `m` + `s`.
const SPAN_UNITS: ReadonlyArray<readonly [string, number]> = (
  [
    ['usec', 1e-6],
    ['us', 1e-6],
    ['µs', 1e-6],
    ['μs', 1e-6],
    ['msec', 1e-3],
    ['ms', 1e-3],
    ['seconds', 1],
    ['second', 1],
    ['sec', 1],
    ['s', 1],
    ['minutes', 60],
    ['minute', 60],
    ['min', 60],
    ['m', 60],
    ['hours', 3600],
    ['hour', 3600],
    ['hr', 3600],
    ['h', 3600],
    ['days', 86_400],
    ['day', 86_400],
    ['d', 86_400],
    ['weeks', 604_800],
    ['week', 604_800],
    ['w', 604_800],
    ['months', 2_629_800],
    ['month', 2_629_800],
    ['M', 2_629_800],
    ['years', 31_557_600],
    ['year', 31_557_600],
    ['y', 31_557_600],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

/**
 * Parses a systemd time span (`12h`, `1h 30min`, `60`, `5m`, `2d`, `500ms`, `1.5h`) into seconds, as
 * parse_sec() does: a bare number is seconds, components add up. Returns null for `infinity`,
 * undefined when the text is not a time span.
 */
export function parseTimeSpan(text: string): number | null | undefined {
  const s = text.trim();
  if (s === 'infinity') return null;
  if (s === '') return undefined;
  let rest = s;
  let total = 0;
  while (rest !== '') {
    const num = /^(\d+(?:\.\d*)?|\.\d+)\s*/.exec(rest);
    if (num === null || num[1] === undefined) return undefined;
    rest = rest.slice(num[0].length);
    const unit = SPAN_UNITS.find(([suffix]) => rest.startsWith(suffix));
    let factor = 1;
    if (unit !== undefined) {
      // A unit must not run into more letters (`5mo` is not 5 minutes + `o`).
      const after = rest.slice(unit[0].length);
      if (/^[A-Za-zµμ]/.test(after)) return undefined;
      factor = unit[1];
      rest = after;
    } else if (/^[A-Za-zµμ]/.test(rest)) return undefined;
    total += Number(num[1]) * factor;
    rest = rest.trimStart();
  }
  // Round away binary noise from the fractional units (0.5 s stays 0.5, 500ms is 0.5).
  return Math.round(total * 1e6) / 1e6;
}

const TRIGGER_KEYS = [
  'OnCalendar',
  'OnBootSec',
  'OnStartupSec',
  'OnActiveSec',
  'OnUnitActiveSec',
  'OnUnitInactiveSec',
];

function span(a: Assignment, problems: ManifestProblem[]): TimeSpan | undefined {
  const seconds = parseTimeSpan(a.value);
  if (seconds === undefined) {
    problems.push({ ...a.source, reason: `${a.key}=${a.value} is not a time span, ignored` });
    return undefined;
  }
  return { text: a.value, seconds, source: a.source };
}

/** The stamp file of a timer, if the image has one. */
export function timerStamp(fs: RootFs, timerName: string): { path: string; mtime: string } | null {
  const path = `${TIMER_STAMP_DIR}/stamp-${timerName}`;
  const info = fs.stat(path);
  if (info === undefined || info.kind !== 'file') return null;
  // Whole seconds: tar keeps only those, and the same image must give the same manifest however it is read.
  return { path, mtime: new Date(Math.floor(info.mtimeMs / 1000) * 1000).toISOString() };
}

/**
 * The effective [Timer] settings of a timer after drop-ins (src/core/load-fragment.c):
 * - an empty assignment to any `On*=` setting clears every trigger collected so far, calendar and
 *   monotonic alike (config_parse_timer calls timer_free_values);
 * - the first valid `Unit=` wins, later ones are ignored (config_parse_trigger_unit);
 * - `Persistent=`, `RandomizedDelaySec=`, `AccuracySec=`: the last one wins, empty resets.
 * Values systemd would reject are reported as problems and left out.
 */
export function timerInfo(
  name: string,
  assignments: readonly Assignment[],
  stamp: { path: string; mtime: string } | null,
  activeAtBoot: boolean,
  problems: ManifestProblem[],
): TimerInfo {
  const timer = assignments.filter((a) => a.section === 'Timer');
  const triggers = effectiveList(timer, 'Timer', TRIGGER_KEYS);
  const spans = (key: string): TimeSpan[] =>
    triggers
      .filter((a) => a.key === key)
      .map((a) => span(a, problems))
      .filter((s): s is TimeSpan => s !== undefined);

  let unit: string | null = null;
  let unitSource: SourceRef | null = null;
  let persistent = false;
  let persistentSource: SourceRef | null = null;
  let randomizedDelaySec: TimeSpan | null = null;
  let accuracySec: TimeSpan | null = null;
  for (const a of timer) {
    switch (a.key) {
      case 'Unit':
        if (a.value === '') break;
        if (unit !== null) {
          problems.push({ ...a.source, reason: `Unit= already set to ${unit}; systemd ignores this one` });
          break;
        }
        unit = a.value;
        unitSource = a.source;
        break;
      case 'Persistent': {
        if (a.value === '') {
          persistent = false;
          persistentSource = null;
          break;
        }
        const b = parseSystemdBoolean(a.value);
        if (b === undefined)
          problems.push({ ...a.source, reason: `Persistent=${a.value} is not a boolean, ignored` });
        else {
          persistent = b;
          persistentSource = a.source;
        }
        break;
      }
      case 'RandomizedDelaySec':
      case 'AccuracySec': {
        const value = a.value === '' ? null : span(a, problems);
        if (value === undefined) break;
        if (a.key === 'RandomizedDelaySec') randomizedDelaySec = value;
        else accuracySec = value;
        break;
      }
    }
  }

  const onCalendar = triggers
    .filter((a) => a.key === 'OnCalendar')
    .map((a) => ({ value: a.value, source: a.source }));
  return {
    unit: unit ?? name.replace(/\.timer$/, '.service'),
    unitSource,
    onCalendar,
    onBootSec: spans('OnBootSec'),
    onStartupSec: spans('OnStartupSec'),
    onActiveSec: spans('OnActiveSec'),
    onUnitActiveSec: spans('OnUnitActiveSec'),
    onUnitInactiveSec: spans('OnUnitInactiveSec'),
    persistent,
    persistentSource,
    randomizedDelaySec,
    accuracySec,
    stamp,
    // timer_start(): an existing stamp's mtime becomes the last trigger and calendar events are
    // computed from it, so a missed one elapses at boot; with no stamp systemd touches one and
    // computes from the activation time: no catch-up. Monotonic triggers ignore the stamp.
    catchUpAtBoot: activeAtBoot && persistent && onCalendar.length > 0 && stamp !== null,
  };
}
