import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

/** Where the JSON Schemas of docs/gate.md live: each block's `$id` is this plus its file name. */
export const GATE_SCHEMA_BASE = 'https://goldgate.example/schemas/gate/';

/** Every JSON Schema embedded in docs/gate.md: its ```json blocks that declare a `$schema`. */
export function gateSchemas(): Array<{ $id: string }> {
  const text = readFileSync(join(import.meta.dirname, '../../docs/gate.md'), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)\n```/g)]
    .map((match) => JSON.parse(match[1] as string) as Record<string, unknown>)
    .filter((block) => '$schema' in block) as Array<{ $id: string }>;
}

/**
 * Validates a command's JSON output against the schema of docs/gate.md named `file`
 * (`channels.json`, `channel-history.json`, `images.json`, `lineage.json`); returns the
 * errors as text, or '' when it validates.
 */
export function gateSchemaErrors(file: string, document: unknown): string {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  for (const schema of gateSchemas()) ajv.addSchema(schema);
  const validate = ajv.getSchema(`${GATE_SCHEMA_BASE}${file}`);
  if (validate === undefined) throw new Error(`docs/gate.md has no schema ${file}`);
  return validate(document) ? '' : ajv.errorsText(validate.errors);
}
