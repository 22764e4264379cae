import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

/** The JSON Schema of the verify report, read from docs/verify-json.md (its one json block). */
export function verifyReportSchema(): object {
  const text = readFileSync(join(import.meta.dirname, '../../docs/verify-json.md'), 'utf8');
  const block = /```json\n([\s\S]*?)\n```/.exec(text)?.[1];
  if (block === undefined) throw new Error('docs/verify-json.md has no json block');
  return JSON.parse(block) as object;
}

/** Validates a report (as it would be printed) against the documented schema; returns the errors as text, or '' */
export function verifyReportErrors(report: unknown): string {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  const validate = ajv.compile(verifyReportSchema());
  const document = JSON.parse(JSON.stringify(report)) as unknown;
  return validate(document) ? '' : ajv.errorsText(validate.errors);
}
