import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

/**
 * The JSON Schema a document of docs/ gives under a heading: the first json block after the
 * line `heading` (exactly, e.g. "#### `pipeline run --json`").
 */
export function docJsonSchema(doc: string, heading: string): object {
  const text = readFileSync(join(import.meta.dirname, '../../docs', doc), 'utf8');
  const at = text.split('\n').indexOf(heading);
  if (at < 0) throw new Error(`docs/${doc} has no heading ${heading}`);
  const block = /```json\n([\s\S]*?)\n```/.exec(text.split('\n').slice(at).join('\n'))?.[1];
  if (block === undefined) throw new Error(`docs/${doc} has no json block after ${heading}`);
  return JSON.parse(block) as object;
}

/** Validates a document against a schema; returns the errors as text, or '' when it is valid. */
export function schemaErrors(schema: object, document: unknown): string {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  return validate(JSON.parse(JSON.stringify(document))) ? '' : ajv.errorsText(validate.errors);
}
