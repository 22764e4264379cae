import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpkgStatus } from '../test-support/audit.js';
import { runCli, useTempHome } from '../test-support/cli.js';
import { makeTree, tempDir } from '../test-support/tree.js';

// A sweep of wrong invocations across every command: whatever the mistake, the answer is a
// usage or environment error (exit 2 or 3, or a check's verdict), never goldgate's own
// failure (exit 4) and never a stack trace. Nothing here bakes or boots.

/** Deterministic garbage: bytes of every value, control characters included. */
function garbage(bytes: number): Buffer {
  const chunks: Buffer[] = [];
  let seed = createHash('sha256').update('goldgate sweep').digest();
  for (let size = 0; size < bytes; size += seed.length) {
    chunks.push(seed);
    seed = createHash('sha256').update(seed).digest();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

describe('no mistake ends as an internal error', () => {
  useTempHome();

  it('answers every bad input to every command with exit 2 or 3 and a message', async () => {
    const dir = tempDir('goldgate-sweep-');
    const missing = join(dir, 'missing');
    const folder = makeTree({ '/notes.txt': 'not an image\n' });
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, garbage(64 * 1024));
    const junkTar = join(dir, 'junk.tar.gz');
    writeFileSync(junkTar, garbage(4096));
    const junkYaml = join(dir, 'junk.yaml');
    writeFileSync(junkYaml, garbage(4096));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const root = makeTree({
      '/etc/os-release': 'ID=debian\n',
      '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }),
    });
    const loop = join(dir, 'loop');
    symlinkSync('loop', loop);
    // Paths that cannot name a file at all: through a file, through a link loop, a name too long.
    const unnameable = [join(junk, 'x'), join(loop, 'x'), join(dir, 'n'.repeat(300))];
    // Never an image, a spec, a bundle or user-data: these must end as exit 2 or 3.
    const wrong = [missing, '/dev/zero', fifo, 'img-000000000000', loop, ...unnameable];
    // Maybe readable, if not what was meant (an empty folder audits clean): never exit 4.
    const odd = [folder, junk, junkTar, junkYaml];

    const takingAFile: Array<(input: string) => string[]> = [
      (x) => ['audit', x],
      (x) => ['manifest', x],
      (x) => ['diagnose', x],
      (x) => ['fix', x, '--dry-run'],
      (x) => ['bake', x],
      (x) => ['spec', 'validate', x],
      (x) => ['image', 'import', x, '--name', 'sweep'],
      (x) => ['verify', x],
      (x) => ['lab', 'launch', x],
      (x) => ['lab', 'launch', root, '--user-data', x],
      (x) => ['verify', root, '--user-data', x],
      (x) => ['repo', 'publish', 'sweep', x, '--suite', 'bookworm'],
      (x) => ['group', 'create', 'sweep', '--image', x, '--desired', '1'],
      (x) => ['promote', x, '--channel', 'sweep'],
      (x) => ['revoke', x, '--reason', 'sweep'],
    ];
    const strict = takingAFile.flatMap((make) => wrong.map(make));
    const invocations = takingAFile.flatMap((make) => odd.map(make));
    // Output files that cannot be written: a missing folder, a folder, a full device, no name.
    for (const target of [join(missing, 'report'), folder, '/dev/full', '', loop, ...unnameable])
      strict.push(
        ['audit', root, '-o', target],
        ['manifest', root, '-o', target],
        ['diagnose', folder, '-o', target],
        ['diagnose', folder, '--html', target],
        ['verify', root, '--html', target],
        ['group', 'collect', 'sweep', '-o', target],
      );
    for (const command of [
      ['audit', root],
      ['manifest', root],
      ['diagnose', folder],
      ['fix', folder],
      ['bake', junkYaml],
      ['spec', 'validate', junkYaml],
      ['image', 'import', folder, '--name', 'x'],
      ['verify', root],
      ['images'],
      ['lab', 'ls'],
      ['lab', 'gc'],
      ['lab', 'exec', 'nope'],
      ['repo', 'ls'],
      ['group', 'ls'],
      ['channels'],
      ['channel', 'history', 'sweep'],
      ['registry', 'check'],
      ['events'],
    ])
      strict.push([...command, '--frobnicate'], [...command, '-Z']);
    strict.push(
      ['lab', 'exec', 'nope', 'ls', '-la'],
      ['lab', 'logs', 'nope'],
      ['lab', 'health', 'nope'],
      ['lab', 'dns-log', 'nope'],
      ['lab', 'launch', root, '--timeout', 'soon'],
      ['repo', 'create', 'Not A Name'],
      ['group', 'describe', 'nope'],
      ['group', 'scale', 'nope', '--desired', 'many'],
      ['group', 'activities', 'nope'],
      ['audit', root, '--now', 'yesterday'],
      ['audit', root, '--fail-on', 'severe'],
      ['verify', root, '--instances', '0'],
      ['verify', root, '--image-age', 'old'],
      ['diagnose', folder, '--tz', 'Mars/Olympus'],
      ['promote', 'img-0', '--channel', 'sweep'],
      ['promote', 'x', '--channel', 'Not A Channel'],
      ['revoke', 'x', '--reason', ''],
      ['channel', 'create', 'sweep', '--block', 'flaky'],
      ['channel', 'create', 'sweep', '--audit-threshold', 'severe'],
      ['channel', 'history', 'nope'],
      ['channel', 'rollback', 'nope'],
      ['images', '--lineage', 'nope'],
      ['events', '--limit', 'many'],
    );

    // A repository to publish into, so that publish reads the files it is given.
    expect((await runCli('repo', 'create', 'sweep')).code).toBe(0);
    const bad: string[] = [];
    const run = async (args: string[], mistake: boolean) => {
      const { code, stderr } = await runCli(...args);
      const failed = code !== 0 && code !== 1;
      if (
        code === 4 ||
        (mistake && !failed) ||
        /^ {4}at /m.test(stderr) ||
        (failed && !(/^goldgate: /m.test(stderr) && /^ {2}hint: /m.test(stderr)))
      )
        bad.push(`goldgate ${args.join(' ')} → exit ${code}: ${stderr.slice(0, 300)}`);
    };
    for (const args of strict) await run(args, true);
    for (const args of invocations) await run(args, false);
    expect(bad).toEqual([]);
    expect(strict.length + invocations.length).toBeGreaterThan(150);
  }, 120_000);
});
