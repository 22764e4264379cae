import type { CommandCategory } from '../shell/index.js';
import type { AuditContext, RemediationStep, RuleFinding } from '../types.js';
import { bootHitsOf } from './boot-commands.js';
import type { BootHit } from './boot-commands.js';

/**
 * One finding per file holding boot-time hits of a category, each command cited at its
 * line. Where a hit is the whole line, removing that line is the exact fix.
 */
export function bootFindings(
  context: AuditContext,
  category: CommandCategory,
  describe: (hit: BootHit) => string,
  summary: (hits: BootHit[]) => string,
): RuleFinding[] {
  const byPath = new Map<string, BootHit[]>();
  for (const hit of bootHitsOf(context, category))
    byPath.set(hit.path, [...(byPath.get(hit.path) ?? []), hit]);
  return [...byPath.entries()].map(([path, found]) => {
    const hits = [...found].sort((a, b) => a.line - b.line);
    const lines = context.fs.readText(path)?.split('\n') ?? [];
    const steps: RemediationStep[] = [];
    for (const hit of hits) {
      const text = lines[hit.line - 1]?.trim();
      if (
        text !== undefined &&
        text === hit.command &&
        removable(lines, hit.line - 1) &&
        !steps.some((s) => s.action === 'remove-line' && s.line === hit.line)
      ) {
        steps.push({ action: 'remove-line', path, line: hit.line, text });
      }
    }
    const origins = [...new Set(hits.map((h) => h.origin))];
    return {
      message: `${origins.join(', ')} at boot: ${hits.map(describe).join('; ')}.`,
      evidence: hits.map((hit) => ({
        path,
        line: hit.line,
        text: hit.command.length > 200 ? `${hit.command.slice(0, 200)}…` : hit.command,
      })),
      remediation: {
        summary: summary(hits),
        steps: steps.sort((a, b) => ('line' in b && 'line' in a ? Number(b.line) - Number(a.line) : 0)),
      },
    };
  });
}

function isCode(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

/**
 * Whether deleting the line leaves the rest of the script as it was: not when the line
 * before continues into it (`\`, `&&`, `||`, `|`), which would join that command to the next
 * line, nor when it is the only command of a body (`then … fi`, `do … done`, `{ … }`), which
 * the shell refuses to parse empty.
 */
function removable(lines: readonly string[], index: number): boolean {
  let before = index - 1;
  while (before >= 0 && !isCode(lines[before] ?? '')) before--;
  let after = index + 1;
  while (after < lines.length && !isCode(lines[after] ?? '')) after++;
  const previous = before >= 0 ? (lines[before] ?? '').trimEnd() : '';
  const next = (lines[after] ?? '').trim();
  if (/(?:\\|&&|\|\||\|)$/.test(previous)) return false;
  const opens = /(?:^|[\s;])(?:then|do|else)$|[{(]$/.test(previous);
  const closes = /^(?:fi|done|else|elif)(?:$|[\s;)&|])|^[})]/.test(next);
  return !(opens && closes);
}
