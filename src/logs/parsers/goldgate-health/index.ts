import { z } from 'zod';
import { zonedTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** One health check goldgate ran on an instance (the format is goldgate's own: see README.md). */
export interface GoldgateHealthRecord extends LogRecordBase {
  source: 'goldgate-health';
  /** When the check finished (UTC). */
  time: LogTime;
  /** The instance checked; null when the checker did not know it (the bundle's layout may). */
  instance: string | null;
  /** What was checked: `command <path>`, `unit <name>`, `http <url>`, ... */
  check: string;
  ok: boolean;
  /** Why it failed (or what it saw); null when there is nothing to say. */
  detail: string | null;
  durationMs: number | null;
}

// Strict on what a record needs, lenient on the rest: later versions may add fields.
const Line = z.object({
  time: z.string(),
  instance: z.string().nullish(),
  check: z.string().min(1),
  ok: z.boolean(),
  detail: z.string().nullish(),
  durationMs: z.number().nonnegative().finite().nullish(),
});

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const parser: LogParser<GoldgateHealthRecord> = {
  id: 'goldgate-health',
  title: "goldgate's health-check log (JSON lines: time, instance, check, ok, detail, durationMs)",
  detect(name, head) {
    const first = head[0] ?? '';
    if (/"check"\s*:/.test(first) && /"ok"\s*:\s*(?:true|false)/.test(first) && /"time"\s*:/.test(first))
      return true;
    return /goldgate-health/.test(name) && first.trimStart().startsWith('{');
  },
  open(file: string, sink: ParserSink<GoldgateHealthRecord>): LineParser {
    return {
      line(text, n) {
        const body = text.trim();
        if (body === '') return;
        let value: unknown;
        try {
          value = JSON.parse(body);
        } catch (error) {
          sink.problem(n, `not JSON: ${(error as Error).message}`);
          return;
        }
        const parsed = Line.safeParse(value);
        if (!parsed.success) {
          const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(line)'))];
          sink.problem(n, `not a health check: bad or missing ${fields.join(', ')}`);
          return;
        }
        const line = parsed.data;
        const time = zonedTime(line.time);
        if (time === undefined) {
          sink.problem(n, `not a health check: time is not an ISO time with a zone: '${clip(line.time)}'`);
          return;
        }
        sink.record({
          source: 'goldgate-health',
          file,
          line: n,
          time,
          instance: line.instance ?? null,
          check: line.check,
          ok: line.ok,
          detail: line.detail ?? null,
          durationMs: line.durationMs ?? null,
        });
      },
      end() {},
    };
  },
};

export default parser;
