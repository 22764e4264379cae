import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { dieWithParent } from './tools.js';

describe('dieWithParent', () => {
  it('runs the command as a child of goldgate', () => {
    const file = join(tempDir(), 'ran');
    const [command = '', ...args] = dieWithParent(['touch', file]);
    expect(spawnSync(command, args).status).toBe(0);
    expect(existsSync(file)).toBe(true);
  });

  it('never starts the command once goldgate is not its parent (it died before the death signal was armed)', () => {
    const file = join(tempDir(), 'ran');
    const [command = '', ...args] = dieWithParent(['touch', file]);
    // Started by another process than the one that built the argv, as an orphan would be.
    const other = spawnSync(process.execPath, [
      '-e',
      'const r = require("node:child_process").spawnSync(process.argv[1], process.argv.slice(2)); process.exit(r.status ?? 1)',
      command,
      ...args,
    ]);
    expect(other.status).toBe(137);
    expect(existsSync(file)).toBe(false);
  });
});
