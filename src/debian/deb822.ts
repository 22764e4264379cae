/** One `Name: value` field; `name` keeps its original case. */
export interface Deb822Field {
  name: string;
  /**
   * The text after the colon, then one line per continuation line with its leading space or
   * tab removed (` .` becomes an empty line), joined by `\n`. Trailing whitespace is dropped.
   * A field whose first line is empty (`Conffiles:`) therefore starts with `\n`.
   */
  value: string;
  line: number;
}

export interface Deb822Paragraph {
  /** Line of the paragraph's first field (1-based). */
  line: number;
  /** Keyed by the lower-cased field name; use `field()` to look up. */
  fields: Map<string, Deb822Field>;
}

export interface Deb822Problem {
  line: number;
  reason: string;
}

export interface Deb822Document {
  paragraphs: Deb822Paragraph[];
  problems: Deb822Problem[];
}

// deb822(5): printable US-ASCII except the colon; a name may not start with '#' or '-'.
const FIELD_LINE = /^([!-9;-~]+):(.*)$/;

/**
 * Parses deb822 text (dpkg status, apt `.sources`, Release files). Never throws: lines it
 * cannot read are reported in `problems` and the rest of the text is still parsed.
 */
export function parseDeb822(text: string): Deb822Document {
  const paragraphs: Deb822Paragraph[] = [];
  const problems: Deb822Problem[] = [];
  let paragraph: Deb822Paragraph | undefined;
  // 'skip' swallows the continuation lines of a line already reported as a problem.
  let current: Deb822Field | 'skip' | undefined;

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (/^[ \t]*$/.test(raw)) {
      paragraph = undefined;
      current = undefined;
      return;
    }
    if (raw.startsWith('#')) return;

    if (raw.startsWith(' ') || raw.startsWith('\t')) {
      if (current === undefined) {
        problems.push({ line, reason: 'continuation line without a field before it' });
        current = 'skip';
      }
      if (current === 'skip') return;
      const content = raw.slice(1).trimEnd();
      current.value += `\n${content === '.' ? '' : content}`;
      return;
    }

    current = 'skip';
    const match = FIELD_LINE.exec(raw);
    const name = match?.[1];
    if (match === null || name === undefined || name.startsWith('-')) {
      problems.push({ line, reason: `not a field, continuation or comment: ${JSON.stringify(raw)}` });
      return;
    }
    if (paragraph === undefined) {
      paragraph = { line, fields: new Map() };
      paragraphs.push(paragraph);
    }
    const key = name.toLowerCase();
    const existing = paragraph.fields.get(key);
    if (existing !== undefined) {
      // Keep the first, as a reader cannot tell which one the author meant.
      problems.push({ line, reason: `duplicate field ${name} (first at line ${existing.line})` });
      return;
    }
    current = { name, value: (match[2] ?? '').trim(), line };
    paragraph.fields.set(key, current);
  });

  return { paragraphs, problems };
}

/** The value of field `name` (any case) in a paragraph, or undefined when absent. */
export function field(paragraph: Deb822Paragraph, name: string): string | undefined {
  return paragraph.fields.get(name.toLowerCase())?.value;
}
