import { parse } from 'yaml';
import { z } from 'zod';
import { readCappedFile } from '../core/read-capped.js';
import { SPEC_MAX_ALIASES, SPEC_MAX_BYTES } from './load.js';

/** The in-image paths a spec declares in `files:`, or why they cannot be told. */
export type DeclaredFiles = { files: string[]; problem: null } | { files: null; problem: string };

const filesSchema = z.looseObject({ files: z.array(z.unknown()).optional().catch(undefined) });
const fileSchema = z.looseObject({ path: z.string().min(1) });

/**
 * Reads the paths a spec declares in `files:`, leniently: only `files[].path` is read, so a
 * spec written for another goldgate version, or whose local sources are gone, still answers.
 * It is the spec as it is now, which may have changed since an image was baked from it.
 */
export function declaredFiles(specPath: string): DeclaredFiles {
  const read = readCappedFile(specPath, SPEC_MAX_BYTES);
  if (!read.ok)
    return {
      files: null,
      problem:
        read.reason === 'missing'
          ? `the spec ${specPath} is gone`
          : `the spec ${specPath} cannot be read (${'code' in read ? read.code : read.reason})`,
    };
  let data: unknown;
  try {
    data = parse(read.data.toString('utf8'), { maxAliasCount: SPEC_MAX_ALIASES });
  } catch {
    return { files: null, problem: `the spec ${specPath} is not YAML any more` };
  }
  const spec = filesSchema.safeParse(data);
  if (!spec.success) return { files: null, problem: `the spec ${specPath} is not a YAML mapping any more` };
  const files: string[] = [];
  for (const entry of spec.data.files ?? []) {
    const file = fileSchema.safeParse(entry);
    if (file.success) files.push(file.data.path);
  }
  return { files, problem: null };
}
