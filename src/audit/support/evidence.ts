import type { SourceRef } from '../../manifest/types.js';
import type { RootFs } from '../../rootfs/types.js';
import type { Evidence } from '../types.js';

const MAX_EVIDENCE_TEXT = 200;

/** The cited line of a source reference as the image has it, without surrounding blanks; undefined without a line. */
export function sourceLine(fs: RootFs, source: SourceRef): string | undefined {
  if (source.line === undefined) return undefined;
  return fs.readText(source.path)?.split('\n')[source.line - 1]?.trim();
}

/** Evidence for a source reference, quoting the cited line from the image when there is one. */
export function evidenceAt(fs: RootFs, source: SourceRef): Evidence {
  if (source.line === undefined) return { path: source.path };
  const text = sourceLine(fs, source);
  if (text === undefined || text === '') return { path: source.path, line: source.line };
  return {
    path: source.path,
    line: source.line,
    text: text.length > MAX_EVIDENCE_TEXT ? `${text.slice(0, MAX_EVIDENCE_TEXT)}…` : text,
  };
}

/** Evidence list without repeats (same path and line), in first-seen order. */
export function uniqueEvidence(items: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.path}:${item.line ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
