import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { gateSchemaErrors } from '../test-support/gate-schema.js';
import { INTERRUPTED_IMAGE, interruptedRun } from '../test-support/pipeline.js';

// goldgate pipeline run and status, without root: runs resumed after their bake (the bake and
// verify steps themselves are in pipeline.integration.test.ts).

const home = useTempHome();

/** An interrupted run in this test's GOLDGATE_HOME. */
function interrupted(options: Parameters<typeof interruptedRun>[0] = {}) {
  const made = interruptedRun(options);
  process.env.GOLDGATE_HOME = made.home;
  return made;
}

describe('goldgate pipeline run', () => {
  it('prints a line per step on stderr and the outcome on stdout; --json matches the documented schema', async () => {
    const { spec, runId } = interrupted();
    const { code, stdout, stderr } = await runCli('pipeline', 'run', spec);
    expect(code).toBe(0);
    expect(stderr.split('\n')).toEqual([
      `– bake: skipped: ${INTERRUPTED_IMAGE} was baked by run #${runId} before it was interrupted`,
      expect.stringMatching(/^– audit: skipped: audited \S+ \(bake\): 0 findings$/),
      '– verify: skipped: verified 2026-12-01T00:00:00.000Z: immutable',
      `… promote: promoting ${INTERRUPTED_IMAGE} to dev`,
      expect.stringMatching(new RegExp(`^✓ promote: dev → ${INTERRUPTED_IMAGE} \\(\\d+\\.\\d\\d s\\)$`)),
      '',
    ]);
    expect(stdout).toContain(`promoted: ${INTERRUPTED_IMAGE} pipe to dev\n`);
    expect(stdout).toContain(
      `  run #${runId} (resumed): bake skipped, audit skipped, verify skipped, promote done\n`,
    );

    // --channel over the spec's channels, in another home.
    const again = interrupted({ channel: 'prod' });
    const json = await runCli('pipeline', 'run', again.spec, '--channel', 'prod', '--json', '-q');
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const document = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(gateSchemaErrors('pipeline-run.json', document)).toBe('');
    expect(gateSchemaErrors('pipeline-run.json', { ...document, outcome: 'maybe' })).toMatch(/outcome/);
    expect(document).toMatchObject({
      outcome: 'promoted',
      channel: 'prod',
      run: { id: again.runId, status: 'done', resumed: true },
      image: { id: INTERRUPTED_IMAGE },
    });
  });

  it('exit 1 when the gate refuses, with its reasons; the JSON says refused', async () => {
    const { spec } = interrupted({ classes: ['changes-itself'] });
    const { code, stdout } = await runCli('pipeline', 'run', spec, '--json', '-q');
    expect(code).toBe(1);
    const document = JSON.parse(stdout) as { outcome: string; missing: string[] };
    expect(gateSchemaErrors('pipeline-run.json', document)).toBe('');
    expect(document.outcome).toBe('refused');
    expect(document.missing[0]).toMatch(/changes-itself/);
  });

  it('usage errors are exit 2: a spec without health checks, a bad channel', async () => {
    const spec = join(home(), 'bare.yaml');
    writeFileSync(spec, 'name: bare\nbase: { suite: bookworm }\n');
    const bare = await runCli('pipeline', 'run', spec);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('the spec has no health checks');
    const bad = await runCli('pipeline', 'run', spec, '--channel', 'Prod');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"Prod" is not a channel name');
    expect((await runCli('pipeline', 'run', spec, '--instances', '0')).code).toBe(2);
    expect((await runCli('pipeline')).code).toBe(2);
  });
});

describe('goldgate pipeline --help', () => {
  it('explains run and status with every option, each in docs/cli.md and docs/gate.md', async () => {
    const docs = (name: string) => readFileSync(join(import.meta.dirname, '../../docs', name), 'utf8');
    for (const [command, options] of [
      ['run', ['--channel', '--instances', '--timeout', '--refresh-base', '--json', '--verbose', '--quiet']],
      ['status', ['--limit', '--json']],
    ] as const) {
      const { code, stdout } = await runCli('pipeline', command, '--help');
      expect(code).toBe(0);
      for (const option of options) {
        expect(stdout).toContain(option);
        expect(docs('cli.md')).toContain(option);
      }
      expect(docs('gate.md')).toContain(`goldgate pipeline ${command}`);
    }
    expect((await runCli('pipeline', 'run', '--help')).stdout).toMatch(/Exit status: 0 promoted/);
  });
});

describe('goldgate pipeline status', () => {
  it('lists the runs, an interrupted one said so; --json matches the documented schema', async () => {
    expect((await runCli('pipeline', 'status')).stdout).toBe(
      'no pipeline runs (goldgate pipeline run <spec> starts one)\n',
    );
    const { spec, runId } = interrupted();
    const before = await runCli('pipeline', 'status', spec);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(
      new RegExp(`^#${runId} +interrupted +audit +- +dev +${INTERRUPTED_IMAGE} `, 'm'),
    );
    expect(before.stdout).toContain('the next goldgate pipeline run of its spec resumes it');

    await runCli('pipeline', 'run', spec, '-q');
    const after = await runCli('pipeline', 'status', '--json');
    const document = JSON.parse(after.stdout) as { runs: Array<Record<string, unknown>> };
    expect(gateSchemaErrors('pipeline-status.json', document)).toBe('');
    expect(document.runs).toHaveLength(1);
    expect(document.runs[0]).toMatchObject({
      id: runId,
      status: 'done',
      interrupted: false,
      step: 'promote',
      image: INTERRUPTED_IMAGE,
      outcome: 'promoted',
    });
    // The attempt that was killed and the one that resumed it.
    expect((document.runs[0]?.steps as Array<{ step: string }>).map((s) => s.step)).toEqual([
      'bake',
      'audit',
      'bake',
      'audit',
      'verify',
      'promote',
    ]);
    expect((await runCli('pipeline', 'status', join(home(), 'other.yaml'))).stdout).toMatch(
      /^no pipeline runs/,
    );
  });
});
