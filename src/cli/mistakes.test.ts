import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpkgStatus } from '../test-support/audit.js';
import { runCli, useTempHome } from '../test-support/cli.js';
import { plantImage } from '../test-support/stored-image.js';
import { makeTree, tempDir, writeTree } from '../test-support/tree.js';

// Every mistake a person can make on the command line ends as exit 2 (3 for the machine),
// with a message naming what they gave and a hint: never exit 4, never a stack trace.

const root = () =>
  makeTree({
    '/etc/os-release': 'ID=debian\n',
    '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }),
  });

const bundle = () => makeTree({ '/x.log': 'hello\n' });

describe('output files (-o, --html)', () => {
  const cases: Array<[string, () => string[]]> = [
    ['audit -o', () => ['audit', root(), '-o']],
    ['manifest -o', () => ['manifest', root(), '-o']],
    ['diagnose -o', () => ['diagnose', bundle(), '-o']],
    ['diagnose --html', () => ['diagnose', bundle(), '--html']],
  ];

  for (const [name, args] of cases) {
    it(`${name} into a missing folder is exit 2, naming the path, and prints no report`, async () => {
      const target = join(tempDir(), 'missing', 'report');
      const flag = args().at(-1) === '-o' ? '--output' : '--html';
      expect(await runCli(...args(), target)).toEqual({
        code: 2,
        stdout: '',
        stderr: `goldgate: ${flag} ${target}: the folder ${join(target, '..')} does not exist\n  hint: create the folder first, or give a path in an existing one\n`,
      });
    });

    it(`${name} onto a directory is exit 2`, async () => {
      const dir = tempDir();
      const flag = args().at(-1) === '-o' ? '--output' : '--html';
      expect(await runCli(...args(), dir)).toEqual({
        code: 2,
        stdout: '',
        stderr: `goldgate: ${flag} ${dir} is a directory\n  hint: give a file name, e.g. ${dir}/report\n`,
      });
    });

    it(`${name} onto a full device is exit 3 (the machine's fault), and prints no report`, async () => {
      const flag = args().at(-1) === '-o' ? '--output' : '--html';
      expect(await runCli(...args(), '/dev/full')).toEqual({
        code: 3,
        stdout: '',
        stderr: `goldgate: ${flag} /dev/full: no space left on the device\n  hint: free some space, or write somewhere else\n`,
      });
    });
  }

  it('writes the file whole, replacing the old one, through a link to it, leaving no temporary file', async () => {
    const dir = tempDir();
    const file = join(dir, 'report.json');
    writeFileSync(file, 'old\n');
    symlinkSync('report.json', join(dir, 'link'));
    const { code, stdout } = await runCli('manifest', root(), '--json', '-o', join(dir, 'link'));
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schema: 'goldgate.manifest/v1' });
    expect(readdirSync(dir).sort()).toEqual(['link', 'report.json']);
  });

  it('checks verify --html and group collect -o before doing anything', async () => {
    const dir = tempDir();
    expect(await runCli('verify', root(), '--health-unit', 'ssh.service', '--html', dir)).toMatchObject({
      code: 2,
      stderr: `goldgate: --html ${dir} is a directory\n  hint: give a file name, e.g. ${dir}/report\n`,
    });
    expect(await runCli('group', 'collect', 'web', '-o', '/dev/full')).toMatchObject({
      code: 2,
      stderr:
        'goldgate: --output /dev/full is not a regular file\n  hint: give the path of a file to create or replace\n',
    });
  });
});

describe('image references: one reading for audit, manifest, lab launch and verify', () => {
  const home = useTempHome();

  /** A stored image as bake or import leaves it: images/<id>/image.json beside rootfs/. */
  function storeImage(id: string): void {
    const dir = plantImage(home(), id, { name: 'web', spec: '' });
    writeTree(join(dir, 'rootfs'), {
      '/etc/os-release': 'ID=debian\n',
      '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1', curl: '7.88.1' }),
    });
  }

  it('says "no stored image" for an id that is not stored, the same in every command', async () => {
    for (const command of [['audit'], ['manifest'], ['lab', 'launch'], ['verify']]) {
      const { code, stdout, stderr } = await runCli(...command, 'img-000000000000');
      expect({ command, code, stdout }).toEqual({ command, code: 2, stdout: '' });
      expect(stderr).toMatch(
        /^goldgate: no stored image img-000000000000 \(goldgate images lists them\)\n {2}hint: give a root filesystem directory/,
      );
    }
  });

  it('reads a stored image by its id in manifest as in audit', async () => {
    storeImage('img-0123456789ab');
    const manifest = await runCli('manifest', 'img-0123456789ab', '--json');
    expect(manifest.code).toBe(0);
    expect((JSON.parse(manifest.stdout) as { packages: unknown[] }).packages).toHaveLength(2);
    const audit = await runCli('audit', 'img-0123456789ab', '--json');
    expect(audit.code).toBe(0);
    expect((JSON.parse(audit.stdout) as { image: { packages: number } }).image.packages).toBe(2);
  });

  it('says which record is damaged when the store was changed by hand, in every command that reads it', async () => {
    const dir = plantImage(home(), 'img-bbbbbbbbbbbb');
    writeFileSync(join(dir, 'image.json'), '{"id":5}');
    for (const command of [['images'], ['audit', 'img-bbbbbbbbbbbb'], ['verify', 'img-bbbbbbbbbbbb']]) {
      const { code, stderr } = await runCli(...command);
      expect({ command, code }).toEqual({ command, code: 3 });
      expect(stderr).toContain(`goldgate: ${join(dir, 'image.json')} is not a whole image record: id: `);
      expect(stderr).toContain(`hint: the store was changed outside goldgate: remove ${dir}`);
      expect(stderr).not.toContain('    at ');
    }
  });

  it('refuses a file where the command needs a directory, with how to import it', async () => {
    const file = join(tempDir(), 'disk.raw');
    writeFileSync(file, 'x');
    for (const command of [['lab', 'launch'], ['verify']]) {
      expect(await runCli(...command, file)).toMatchObject({
        code: 2,
        stderr: `goldgate: ${file} is a file, not a root filesystem directory\n  hint: import it first (goldgate image import FILE --name NAME), then give the id it prints\n`,
      });
    }
  });
});

describe('commands and options', () => {
  it('a command group without a subcommand exits 2 with its help on standard error', async () => {
    for (const group of [[], ['lab'], ['repo'], ['group'], ['image'], ['spec']]) {
      const { code, stdout, stderr } = await runCli(...group);
      expect({ group, code, stdout }).toEqual({ group, code: 2, stdout: '' });
      expect(stderr).toMatch(
        new RegExp(`^Usage: goldgate${group.map((g) => ` ${g}`).join('')} \\[options\\] \\[command\\]`),
      );
    }
    const asked = await runCli('lab', '--help');
    expect(asked).toMatchObject({ code: 0, stderr: '' });
    expect(asked.stdout).toMatch(/^Usage: goldgate lab /);
  });

  it("gives commander's errors goldgate's prefix and a hint", async () => {
    expect(await runCli('audit', '--frobnicate', '.')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "goldgate: audit: unknown option '--frobnicate'\n  hint: goldgate audit --help lists the options\n",
    });
    expect(await runCli('audit')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "goldgate: audit: missing required argument 'image'\n  hint: goldgate audit --help shows the usage\n",
    });
    expect(await runCli('frobnicate')).toEqual({
      code: 2,
      stdout: '',
      stderr: "goldgate: unknown command 'frobnicate'\n  hint: goldgate --help lists the commands\n",
    });
    expect(await runCli('lab', 'frobnicate')).toEqual({
      code: 2,
      stdout: '',
      stderr: "goldgate: lab: unknown command 'frobnicate'\n  hint: goldgate lab --help lists the commands\n",
    });
    expect(await runCli('spec', 'validate')).toMatchObject({
      code: 2,
      stderr:
        "goldgate: spec validate: missing required argument 'file'\n  hint: goldgate spec validate --help shows the usage\n",
    });
  });

  it('tells lab exec that the command goes after --', async () => {
    expect(await runCli('lab', 'exec', 'web-1a2b', 'ls', '-la', '/etc')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "goldgate: lab exec: unknown option '-la'\n  hint: put the command after --: goldgate lab exec web-1a2b -- ls -la /etc\n",
    });
  });
});

describe('what images and logs put in messages', () => {
  it('prints at most 20 warnings for one file, then their count; --json keeps them all', async () => {
    // 100 lines of garbage, each with a bell and an escape sequence in it.
    const garbage = Array.from({ length: 100 }, (_, i) => `garbage\u0007${i}\u001b[2J\n\n`).join('');
    const tree = makeTree({ '/etc/os-release': 'ID=debian\n', '/var/lib/dpkg/status': garbage });
    const { stderr } = await runCli('manifest', tree);
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(21);
    expect(lines.slice(0, 20).every((l) => l.startsWith('warning: /var/lib/dpkg/status:'))).toBe(true);
    expect(lines[20]).toBe(
      'warning: /var/lib/dpkg/status: 80 more warnings not shown (100 in all; --json lists every one)',
    );
    expect(stderr).not.toContain('\u0007');
    expect(stderr).not.toContain('\u001b');
    const json = await runCli('manifest', tree, '--json', '-q');
    expect((JSON.parse(json.stdout) as { problems: unknown[] }).problems).toHaveLength(100);
  });

  it('escapes control characters in reports and errors', async () => {
    const tree = makeTree({
      '/etc/os-release': 'ID=debian\nPRETTY_NAME="evil\u001b]0;owned\u0007 \u009b31m"\n',
      '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }),
    });
    const { code, stdout } = await runCli('manifest', tree);
    expect(code).toBe(0);
    expect(stdout).toContain('os        evil\\x1b]0;owned\\x07 \\x9b31m');
    const missing = join(tempDir(), 'no\u001b[2Jthing');
    const error = await runCli('audit', missing);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('no\\x1b[2Jthing does not exist');
    expect(error.stderr).not.toContain('\u001b');
  });
});

describe('--user-data', () => {
  it('refuses a device or a folder as user-data in lab launch and verify, without reading it', async () => {
    for (const command of [['lab', 'launch'], ['verify']]) {
      expect(await runCli(...command, root(), '--user-data', '/dev/zero')).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'goldgate: --user-data /dev/zero is not a regular file\n  hint: give a cloud-config (#cloud-config), a script (#!) or a MIME multipart file\n',
      });
    }
  });
});

describe('lab launch --timeout', () => {
  it('takes a number of seconds from 1 to 86400, as verify does, and nothing else', async () => {
    for (const value of ['0x10', '1e9', '99999999999', '0.0001', 'Infinity'])
      expect(await runCli('lab', 'launch', root(), '--timeout', value)).toEqual({
        code: 2,
        stdout: '',
        stderr: `goldgate: --timeout "${value}" must be a number of seconds from 1 to 86400\n  hint: goldgate lab launch --help describes the arguments and options\n`,
      });
  });
});

describe('--user-data from a kernel file', () => {
  it('refuses a file that fails its reads, and reads no further than the cap, naming it', async () => {
    const hint = '  hint: give a cloud-config (#cloud-config), a script (#!) or a MIME multipart file\n';
    for (const command of [['lab', 'launch'], ['verify']]) {
      // Both stat as empty regular files: /proc/self/mem fails its first read (EIO).
      expect(await runCli(...command, root(), '--user-data', '/proc/self/mem')).toEqual({
        code: 2,
        stdout: '',
        stderr: `goldgate: --user-data /proc/self/mem cannot be read (EIO)\n${hint}`,
      });
      // Read whole, /proc/self/pagemap goes on for hundreds of GiB; read up to the cap, it
      // refuses the (unaligned) read.
      expect(await runCli(...command, root(), '--user-data', '/proc/self/pagemap')).toEqual({
        code: 2,
        stdout: '',
        stderr: `goldgate: --user-data /proc/self/pagemap cannot be read (EINVAL)\n${hint}`,
      });
    }
  });
});

describe('spec validate', () => {
  it('refuses a kernel file that stats as a regular file and fails its reads', async () => {
    for (const command of [['spec', 'validate'], ['bake']])
      expect(await runCli(...command, '/proc/self/mem')).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'goldgate: cannot read the spec /proc/self/mem: EIO\n  hint: give the path of an image spec (a YAML file; docs/spec.md)\n',
      });
  });

  it('refuses /dev/zero without reading it, and a file over the cap, naming it', async () => {
    expect(await runCli('spec', 'validate', '/dev/zero')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'goldgate: /dev/zero is not a regular file\n  hint: give the path of an image spec (a YAML file; docs/spec.md)\n',
    });
    const big = join(tempDir(), 'big.yaml');
    writeFileSync(big, `name: x\n# ${'a'.repeat(1024 * 1024)}\n`);
    expect(await runCli('spec', 'validate', big)).toEqual({
      code: 2,
      stdout: '',
      stderr: `goldgate: ${big} is larger than 1 MiB: not an image spec\n  hint: an image spec is a few kilobytes; specs over 1048576 bytes are not read\n`,
    });
    expect(existsSync(big)).toBe(true);
  });
});
