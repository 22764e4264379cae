import { z } from 'zod';
import { zonedTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';
import { scanJson, skipWhitespace } from './json.js';

/** What an activity did to an instance, from its Description. */
export type AsgActivityKind = 'launch' | 'terminate' | 'other';
/** Why, from its Cause: the first reason the Cause gives (AWS writes the chain's origin first). */
export type AsgActivityReason = 'health-check' | 'capacity' | 'instance-refresh' | 'user' | 'other';

/** One scaling activity of `aws autoscaling describe-scaling-activities`. */
export interface AsgActivityRecord extends LogRecordBase {
  source: 'asg-activities';
  /** The line where the activity's object starts. */
  line: number;
  /** `StartTime`. */
  time: LogTime | null;
  /** `EndTime`; null while the activity is in progress. */
  end: LogTime | null;
  activityId: string;
  /** `AutoScalingGroupName`. */
  group: string;
  description: string;
  cause: string;
  /** Successful, Failed, Cancelled, InProgress, WaitingForELBConnectionDraining, ... */
  statusCode: string;
  statusMessage: string | null;
  /** The instance the Description names (`Launching a new EC2 instance: i-0abc...`). */
  instanceId: string | null;
  kind: AsgActivityKind;
  reason: AsgActivityReason;
}

/** Documents larger than this are not read: describe-scaling-activities output is kilobytes. */
export const MAX_DOCUMENT_CHARS = 64 * 1024 * 1024;

// Lenient where AWS's output can vary: only the identity of an activity is required.
const Activity = z.object({
  ActivityId: z.string(),
  AutoScalingGroupName: z.string(),
  Description: z.string().optional().catch(undefined),
  Cause: z.string().optional().catch(undefined),
  StartTime: z.string().optional().catch(undefined),
  EndTime: z.string().nullish().catch(undefined),
  StatusCode: z.string().optional().catch(undefined),
  StatusMessage: z.string().nullish().catch(undefined),
});

const INSTANCE_ID = /\b(i-[0-9a-f]{8,17})\b/;

/** `launch` / `terminate` from an activity's Description. */
export function activityKind(description: string): AsgActivityKind {
  if (/^Launching a new EC2 instance\b/.test(description)) return 'launch';
  if (/^Terminating EC2 instance\b/.test(description)) return 'terminate';
  return 'other';
}

/**
 * Why Auto Scaling acted, from the Cause: its sentences (`At <time> ...`) name the chain from
 * its origin, so the first one that says a reason decides (a user's new desired capacity comes
 * before the launch it caused).
 */
export function activityReason(cause: string): AsgActivityReason {
  for (const sentence of cause.split(/(?=\bAt \d{4}-\d{2}-\d{2}T)/)) {
    if (/health check|unhealthy|status check/i.test(sentence)) return 'health-check';
    if (/instance refresh/i.test(sentence)) return 'instance-refresh';
    if (/difference between desired and actual capacity/i.test(sentence)) return 'capacity';
    if (/user request/i.test(sentence)) return 'user';
  }
  return 'other';
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const parser: LogParser<AsgActivityRecord> = {
  id: 'asg-activities',
  title: 'Auto Scaling activities (JSON of aws autoscaling describe-scaling-activities, pages concatenated)',
  detect(name, head) {
    if (head.some((line) => /"Activities"\s*:\s*\[/.test(line))) return true;
    const named = /scaling-activit|asg-activit/i.test(name);
    return named && head.some((line) => /"(?:ActivityId|AutoScalingGroupName)"\s*:/.test(line));
  },
  open(file: string, sink: ParserSink<AsgActivityRecord>): LineParser {
    // Whole-document JSON: the lines are kept (up to MAX_DOCUMENT_CHARS) and parsed at the end.
    const lines: string[] = [];
    let firstLine = 1;
    let chars = 0;
    let tooBig = false;

    const emitDocument = (doc: unknown, elementLines: number[], docLine: number) => {
      const list = Array.isArray(doc)
        ? doc
        : typeof doc === 'object' && doc !== null
          ? (doc as { Activities?: unknown }).Activities
          : undefined;
      if (!Array.isArray(list)) {
        sink.problem(docLine, 'not a describe-scaling-activities document: no Activities array');
        return;
      }
      list.forEach((item, k) => {
        const line = elementLines[k] ?? docLine;
        const parsed = Activity.safeParse(item);
        if (!parsed.success) {
          sink.problem(line, 'activity without a string ActivityId and AutoScalingGroupName');
          return;
        }
        const a = parsed.data;
        const missing = (['Description', 'Cause', 'StartTime', 'StatusCode'] as const).filter(
          (key) => a[key] === undefined,
        );
        if (missing.length > 0) sink.problem(line, `activity ${a.ActivityId} without ${missing.join(', ')}`);
        const time = a.StartTime === undefined ? null : (zonedTime(a.StartTime) ?? null);
        if (a.StartTime !== undefined && time === null)
          sink.problem(line, `activity ${a.ActivityId}: StartTime is not a time: '${clip(a.StartTime)}'`);
        const end = a.EndTime == null ? null : (zonedTime(a.EndTime) ?? null);
        if (a.EndTime != null && end === null)
          sink.problem(line, `activity ${a.ActivityId}: EndTime is not a time: '${clip(a.EndTime)}'`);
        const description = a.Description ?? '';
        const cause = a.Cause ?? '';
        sink.record({
          source: 'asg-activities',
          file,
          line,
          time,
          end,
          activityId: a.ActivityId,
          group: a.AutoScalingGroupName,
          description,
          cause,
          statusCode: a.StatusCode ?? '',
          statusMessage: a.StatusMessage ?? null,
          instanceId: INSTANCE_ID.exec(description)?.[1] ?? null,
          kind: activityKind(description),
          reason: activityReason(cause),
        });
      });
    };

    return {
      line(text, n) {
        if (tooBig) return;
        if (lines.length === 0) firstLine = n;
        chars += text.length + 1;
        if (chars > MAX_DOCUMENT_CHARS) {
          tooBig = true;
          lines.length = 0;
          sink.problem(
            n,
            `larger than ${MAX_DOCUMENT_CHARS / 1024 / 1024} MiB: not read (scaling activities are kilobytes)`,
          );
          return;
        }
        lines.push(text);
      },
      end() {
        if (tooBig || lines.length === 0) return;
        const text = lines.join('\n');
        // Offsets of line starts, to turn a position into a line number.
        const starts: number[] = [];
        let offset = 0;
        for (const line of lines) {
          starts.push(offset);
          offset += line.length + 1;
        }
        lines.length = 0;
        const lineAt = (at: number) => {
          let lo = 0;
          let hi = starts.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if ((starts[mid] ?? 0) <= at) lo = mid;
            else hi = mid - 1;
          }
          return firstLine + lo;
        };

        // One document, or several written one after the other (pages of paginated output).
        let position = skipWhitespace(text, 0);
        while (position < text.length) {
          const scanned = scanJson(text, position, 'Activities');
          if (!scanned.ok) {
            sink.problem(lineAt(scanned.at), `JSON syntax error: ${scanned.reason}`);
            // Start again at the next document, a `{` at the start of a line.
            const next = text.indexOf('\n{', scanned.at);
            if (next < 0) return;
            position = next + 1;
            continue;
          }
          const docLine = lineAt(position);
          let doc: unknown;
          try {
            doc = JSON.parse(text.slice(position, scanned.end));
          } catch (error) {
            // scanJson follows JSON's grammar: this is a safety net, not a path.
            sink.problem(docLine, `JSON syntax error: ${(error as Error).message}`);
            return;
          }
          emitDocument(doc, scanned.elements.map(lineAt), docLine);
          position = skipWhitespace(text, scanned.end);
        }
      },
    };
  },
};

export default parser;
