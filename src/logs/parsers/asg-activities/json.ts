/** Where a JSON value in a text ends, or where and why it is not JSON. */
export type JsonScan =
  { ok: true; end: number; elements: number[] } | { ok: false; at: number; reason: string };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const MAX_DEPTH = 512;

class SyntaxFault {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {}
}

/** Skips JSON whitespace from `i`. */
export function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  return i;
}

function describe(text: string, i: number): string {
  return i >= text.length ? 'the end of the input' : `'${text[i]}'`;
}

/**
 * Validates the JSON value starting at `start` (after whitespace) with JSON's grammar, and
 * finds where it ends, so that several documents written one after the other can be told
 * apart and a syntax error located exactly (JSON.parse's messages do not always say where).
 * `elements`: the offsets of the items of the document's activity list, the array under the
 * top-level key `listKey` (or the top-level array itself).
 */
export function scanJson(text: string, start: number, listKey: string): JsonScan {
  const elements: number[] = [];
  const fail = (at: number, reason: string): never => {
    throw new SyntaxFault(at, reason);
  };

  const string = (i: number): number => {
    // i at the opening quote
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c < 0x20) fail(i, 'control character in a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i, 'bad \\u escape in a string');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail(i, 'bad escape in a string');
      }
    }
    return fail(text.length, 'unterminated string');
  };

  const number = (i: number): number => {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = i;
    const m = match.exec(text);
    if (m === null || m[0] === '' || m[0] === '-') return fail(i, `unexpected ${describe(text, i)}`);
    return i + m[0].length;
  };

  const value = (i: number, depth: number, list: boolean): number => {
    i = skipWhitespace(text, i);
    if (depth > MAX_DEPTH) fail(i, 'nested too deeply');
    const c = text[i];
    if (c === '{') return object(i, depth + 1);
    if (c === '[') return array(i, depth + 1, list);
    if (c === '"') return string(i);
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return i + word.length;
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number(i);
    return fail(i, `unexpected ${describe(text, i)}`);
  };

  const array = (i: number, depth: number, list: boolean): number => {
    i = skipWhitespace(text, i + 1);
    if (text[i] === ']') return i + 1;
    for (;;) {
      i = skipWhitespace(text, i);
      if (list) elements.push(i);
      i = skipWhitespace(text, value(i, depth, false));
      if (text[i] === ',') i++;
      else if (text[i] === ']') return i + 1;
      else fail(i, `expected ',' or ']' but found ${describe(text, i)}`);
    }
  };

  const object = (i: number, depth: number): number => {
    i = skipWhitespace(text, i + 1);
    if (text[i] === '}') return i + 1;
    for (;;) {
      i = skipWhitespace(text, i);
      if (text[i] !== '"') fail(i, `expected a property name but found ${describe(text, i)}`);
      const keyEnd = string(i);
      const isList = depth === 1 && text.slice(i + 1, keyEnd - 1) === listKey;
      i = skipWhitespace(text, keyEnd);
      if (text[i] !== ':') fail(i, `expected ':' but found ${describe(text, i)}`);
      i = skipWhitespace(text, value(i + 1, depth, isList));
      if (text[i] === ',') i++;
      else if (text[i] === '}') return i + 1;
      else fail(i, `expected ',' or '}' but found ${describe(text, i)}`);
    }
  };

  try {
    const first = skipWhitespace(text, start);
    const end = value(first, 0, text[first] === '[');
    return { ok: true, end, elements };
  } catch (error) {
    if (error instanceof SyntaxFault) return { ok: false, at: error.at, reason: error.reason };
    throw error;
  }
}
