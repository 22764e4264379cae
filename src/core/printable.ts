// What goldgate prints comes partly from images and logs other people wrote: a control
// character in a file name or a log line must not move the cursor, retitle the terminal or
// hide text. One escaping for every renderer, the error printer and the names messages quote.

// C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, bidi controls.
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/* eslint-enable no-control-regex */

const escape = (char: string): string => {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\t') return '\\t';
  if (char === '\r') return '\\r';
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with control characters written as `\x1b`, `\u202e`…; with `oneLine`, newlines and tabs too. */
export function printable(text: string, options: { oneLine?: boolean } = {}): string {
  return text.replace(options.oneLine === true ? CONTROL_OR_NEWLINE : CONTROL, escape);
}

/** A copy of `value` with every string in it made printable: for a report before it is rendered. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => printableDeep(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = printableDeep(item);
    return copy as T;
  }
  return value;
}
