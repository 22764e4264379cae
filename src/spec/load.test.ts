import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { recordingTerminal } from '../cli/terminal.js';
import { checkChannelName } from '../registry/channels.js';
import { plantImage } from '../test-support/stored-image.js';
import { SpecError, closest, formatProblem, loadSpec, parseSpec } from './load.js';

const EXAMPLES = join(import.meta.dirname, '../../examples/acme/specs');

/** The problems of a spec, formatted as the CLI prints them. */
async function problems(text: string): Promise<string[]> {
  const result = await parseSpec(text, 'acme.yaml');
  if (result.problems === undefined) throw new Error('the spec validated');
  return result.problems.map(formatProblem);
}

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const HEAD = ['name: acme-web', 'base:', '  suite: bookworm'];

describe('the examples', () => {
  it('as-found.yaml is the incident image, with automatic updates on', async () => {
    const { spec } = await loadSpec(join(EXAMPLES, 'as-found.yaml'));
    expect(spec.name).toBe('acme-web-as-found');
    expect(spec.base).toEqual({ suite: 'bookworm', variant: 'minbase' });
    expect(spec.packages).toEqual(['systemd-sysv', 'unattended-upgrades', 'busybox', 'acme-runtime=1.0']);
    expect(spec.repositories).toEqual([
      { lab: 'acme', suites: ['bookworm', 'bookworm-security'], components: ['main'], trusted: true },
    ]);
    expect(spec.services.enable).toEqual(['acme-httpd.service']);
    expect(spec.autoUpdates).toBe('enabled');
    expect(spec.health).toEqual([
      { name: 'acme http health', http: { port: 8080, path: '/cgi-bin/health', expect: 200 } },
      { name: 'acme health command', command: { argv: ['/usr/lib/acme/health'], expectExit: 0 } },
    ]);
    expect(spec.files.find((f) => f.path === '/srv/acme/www/cgi-bin/health')?.mode).toBe('0755');
  });

  it('fixed.yaml is the same image with automatic updates disabled, patched through the gate', async () => {
    const asFound = (await loadSpec(join(EXAMPLES, 'as-found.yaml'))).spec;
    const { channels, patch, ...fixed } = (await loadSpec(join(EXAMPLES, 'fixed.yaml'))).spec;
    expect(fixed.autoUpdates).toBe('disabled');
    expect({ ...fixed, name: 'acme-web-as-found', autoUpdates: 'enabled' }).toEqual(asFound);
    expect(channels).toEqual(['prod']);
    expect(patch).toMatchObject({ include: 'security' });
  });
});

describe('defaults', () => {
  it('applies every default of a minimal spec', async () => {
    const result = await parseSpec(
      lines(...HEAD, 'health:', '  - http: { port: 8080, path: /health }', '  - unit: { name: acme-httpd }'),
      'acme.yaml',
    );
    expect(result.spec).toEqual({
      name: 'acme-web',
      base: { suite: 'bookworm', variant: 'minbase' },
      packages: [],
      debs: [],
      files: [],
      repositories: [],
      services: { enable: [], disable: [], mask: [] },
      autoUpdates: 'disabled',
      health: [
        { name: 'http :8080/health', http: { port: 8080, path: '/health', expect: 200 } },
        { name: 'unit acme-httpd.service', unit: { name: 'acme-httpd.service' } },
      ],
    });
  });

  it('reads modes as octal, the way chmod does', async () => {
    const result = await parseSpec(
      lines(
        ...HEAD,
        'files:',
        '  - { path: /a, content: x, mode: 0755 }',
        '  - { path: /b, content: x, mode: 644 }',
        '  - { path: /c, content: x, mode: "0600" }',
        '  - { path: /d, content: x, mode: 0o640 }',
        '  - { path: /e, content: x }',
      ),
      'acme.yaml',
    );
    expect(result.spec?.files.map((f) => f.mode)).toEqual(['0755', '0644', '0600', '0640', '0644']);
  });

  it('completes a uri repository and keeps pinned packages', async () => {
    const result = await parseSpec(
      lines(
        ...HEAD,
        'packages: [curl=7.88.1-10+deb12u5]',
        'repositories:',
        '  - uri: https://deb.example.com/debian',
        '    suites: [bookworm]',
        '    components: [main]',
        '    signedBy: /usr/share/keyrings/example.gpg',
      ),
      'acme.yaml',
    );
    expect(result.spec?.packages).toEqual(['curl=7.88.1-10+deb12u5']);
    expect(result.spec?.repositories).toEqual([
      {
        uri: 'https://deb.example.com/debian',
        suites: ['bookworm'],
        components: ['main'],
        signedBy: '/usr/share/keyrings/example.gpg',
      },
    ]);
  });
});

describe('local paths', () => {
  it('resolves debs, files[].source and userData.file against the spec directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    mkdirSync(join(dir, 'specs/debs'), { recursive: true });
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'specs/debs/acme-runtime_1.0_all.deb'), '!<arch>\n');
    writeFileSync(join(dir, 'files/motd'), 'hello\n');
    writeFileSync(join(dir, 'specs/user-data'), '#cloud-config\n');
    const file = join(dir, 'specs/acme.yaml');
    writeFileSync(
      file,
      lines(
        ...HEAD,
        'debs: [debs/acme-runtime_1.0_all.deb]',
        'files:',
        '  - { path: /etc/motd, source: ../files/motd }',
        'userData: { file: ./user-data }',
      ),
    );
    const { spec } = await loadSpec(file);
    expect(spec.debs).toEqual([
      { path: join(dir, 'specs/debs/acme-runtime_1.0_all.deb'), declared: 'debs/acme-runtime_1.0_all.deb' },
    ]);
    expect(spec.files[0]?.source).toEqual({ path: join(dir, 'files/motd'), declared: '../files/motd' });
    expect(spec.userData).toEqual({ file: { path: join(dir, 'specs/user-data'), declared: './user-data' } });
  });

  it('reports a local file that does not exist, with the path as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(file, lines(...HEAD, 'debs:', '  - ./missing.deb'));
    const error = await loadSpec(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).problems.map(formatProblem)).toEqual([
      `${file}:5:5 debs[0]: ./missing.deb does not exist (looked for ${join(dir, 'missing.deb')})`,
    ]);
  });

  it('reports a local file that stats as a regular file and cannot be read (a kernel file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(
      file,
      lines(
        ...HEAD,
        'files:',
        '  - path: /etc/x',
        '    source: /proc/self/mem',
        'userData:',
        '  file: /proc/self/mem',
      ),
    );
    const error = await loadSpec(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).problems.map(formatProblem)).toEqual([
      `${file}:6:5 files[0].source: /proc/self/mem cannot be read (EIO) (looked for /proc/self/mem)`,
      `${file}:8:3 userData.file: /proc/self/mem cannot be read (EIO) (looked for /proc/self/mem)`,
    ]);
  });
});

describe('YAML the spec writer did not mean', () => {
  it("says what is wrong in the writer's words: several documents, nesting too deep", async () => {
    const problems = async (text: string) =>
      (await parseSpec(text, 'acme.yaml')).problems?.map(formatProblem);
    expect(await problems(lines('---', 'name: a', '---', 'name: b'))).toEqual([
      'acme.yaml:3:1 YAML syntax error: a spec is one YAML document, and this file holds more than one (a second "---")',
    ]);
    const deep = await problems(`name: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    expect(deep).toHaveLength(1);
    expect(deep?.[0]).toMatch(
      /^acme\.yaml:1:\d+ YAML syntax error: nested too deeply \(a spec nests a few levels\)$/,
    );
  });
});

describe('base.from', () => {
  const SUITE_OR_FROM = 'give suite (a Debian suite) or from (an image id or a root filesystem directory)';

  /** A home holding one stored image (its record and a root filesystem with etc/), and a spec directory. */
  function store(): { home: string; id: string; dir: string } {
    const home = mkdtempSync(join(tmpdir(), 'goldgate-home-'));
    const id = 'img-0123456789ab';
    mkdirSync(join(plantImage(home, id, { name: 'theirs' }), 'rootfs', 'etc'));
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    mkdirSync(join(dir, 'rootfs', 'etc'), { recursive: true });
    return { home, id, dir };
  }

  it('resolves a stored image id to its root filesystem', async () => {
    const { home, id, dir } = store();
    const result = await parseSpec(lines('name: acme-lab', 'base:', `  from: ${id}`), join(dir, 'a.yaml'), {
      home,
    });
    expect(result.problems).toBeUndefined();
    expect(result.spec?.base).toEqual({
      from: { declared: id, path: join(home, 'images', id, 'rootfs'), image: id },
    });
  });

  it('resolves a directory against the spec directory, and knows a stored image by its rootfs', async () => {
    const { home, id, dir } = store();
    const local = await parseSpec(lines('name: acme-lab', 'base: { from: ./rootfs }'), join(dir, 'a.yaml'), {
      home,
    });
    expect(local.spec?.base).toEqual({ from: { declared: './rootfs', path: join(dir, 'rootfs') } });
    symlinkSync(join(home, 'images', id), join(dir, 'theirs'));
    for (const declared of ['./theirs/rootfs', './theirs']) {
      const stored = await parseSpec(
        lines('name: acme-lab', `base: { from: ${declared} }`),
        join(dir, 'a.yaml'),
        { home },
      );
      expect(stored.spec?.base).toEqual({
        from: { declared, path: join(home, 'images', id, 'rootfs'), image: id },
      });
    }
  });

  it('refuses suite and from together, and neither', async () => {
    expect(
      await problems(lines('name: acme-web', 'base:', '  suite: bookworm', '  from: img-0123456789ab')),
    ).toEqual([
      `acme.yaml:4:3 base.from: ${SUITE_OR_FROM}, not both`,
      'acme.yaml:4:3 base.from: no stored image img-0123456789ab (goldgate images lists them)',
    ]);
    expect(await problems(lines('name: acme-web', 'base: {}'))).toEqual([
      `acme.yaml:2:1 base: ${SUITE_OR_FROM}`,
    ]);
    expect(await problems(lines('name: acme-web'))).toEqual(['acme.yaml:1:1 base: is required']);
  });

  it('takes from alone', async () => {
    expect(
      await problems(
        lines(
          'name: acme-web',
          'base:',
          '  from: ./rootfs',
          '  variant: minbase',
          '  mirror: http://m/debian',
        ),
      ),
    ).toEqual([
      `acme.yaml:3:3 base.from: ./rootfs does not exist (looked for ${resolve('rootfs')})`,
      'acme.yaml:4:3 base.variant: applies to a suite base only (from copies a root filesystem as it is)',
      'acme.yaml:5:3 base.mirror: applies to a suite base only (from copies a root filesystem as it is)',
    ]);
    expect(await problems(lines('name: acme-web', 'base:', '  form: ./rootfs'))).toEqual([
      `acme.yaml:2:1 base: ${SUITE_OR_FROM}`,
      'acme.yaml:3:3 base.form: unknown key (did you mean from?)',
    ]);
  });

  it('refuses an empty from', async () => {
    expect(await problems(lines('name: acme-web', 'base:', "  from: ''"))).toEqual([
      'acme.yaml:3:3 base.from: must be a non-empty image id or root filesystem directory',
    ]);
  });

  it('refuses a missing path, a file, a directory that is not a root filesystem, an unknown image', async () => {
    const { home, dir } = store();
    writeFileSync(join(dir, 'file'), '');
    mkdirSync(join(dir, 'empty'));
    const check = async (from: string) => {
      const result = await parseSpec(
        lines('name: acme-lab', 'base:', `  from: ${from}`),
        join(dir, 'a.yaml'),
        {
          home,
        },
      );
      return result.problems?.map(formatProblem);
    };
    const at = `${join(dir, 'a.yaml')}:3:3 base.from`;
    expect(await check('./missing')).toEqual([
      `${at}: ./missing does not exist (looked for ${join(dir, 'missing')})`,
    ]);
    expect(await check('./file')).toEqual([
      `${at}: ./file is not a directory (give an image id or a root filesystem directory)`,
    ]);
    expect(await check('./empty')).toEqual([
      `${at}: ./empty is not a root filesystem (it has no etc/ directory)`,
    ]);
    expect(await check('img-ffffffffffff')).toEqual([
      `${at}: no stored image img-ffffffffffff (goldgate images lists them)`,
    ]);
  });

  it('goldgate spec validate names the parent', async () => {
    const { dir } = store();
    const file = join(dir, 'a.yaml');
    writeFileSync(file, lines('name: acme-lab', 'base: { from: ./rootfs }'));
    const terminal = recordingTerminal();
    expect(await main(['node', 'goldgate', 'spec', 'validate', file], terminal)).toBe(0);
    expect(terminal.stdout).toBe(`ok: acme-lab (from ${join(dir, 'rootfs')})\n`);
  });
});

describe('channels', () => {
  it('keeps the channels in promotion order, and is absent when not given', async () => {
    const result = await parseSpec(lines(...HEAD, 'channels: [dev, prod]'), 'acme.yaml');
    expect(result.spec?.channels).toEqual(['dev', 'prod']);
    expect((await parseSpec(lines(...HEAD), 'acme.yaml')).spec).not.toHaveProperty('channels');
  });

  it('takes the names checkChannelName takes, and no other', async () => {
    const names = [
      'dev',
      'prod',
      'canary-eu',
      'a.b_c',
      '0',
      'x'.repeat(63),
      'Prod',
      '-dev',
      'x'.repeat(64),
      'a b',
    ];
    for (const name of names) {
      const registry = (() => {
        try {
          return checkChannelName(name) === name;
        } catch {
          return false;
        }
      })();
      const spec = await parseSpec(lines(...HEAD, `channels: [${JSON.stringify(name)}]`), 'acme.yaml');
      expect(spec.spec !== undefined, name).toBe(registry);
    }
  });

  it('reports a bad or repeated channel at its item', async () => {
    expect(await problems(lines(...HEAD, 'channels: [dev, Prod, dev]'))).toEqual([
      'acme.yaml:4:17 channels[1]: must be a channel name: lowercase letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit',
      'acme.yaml:4:23 channels[2]: dev is listed twice',
    ]);
  });
});

describe('problems', () => {
  it('names wrong types with what was found', async () => {
    expect(
      await problems(
        lines(
          'name: 42',
          'base: bookworm',
          'packages: busybox',
          'health:',
          '  - command: { argv: [true], expectExit: "0" }',
        ),
      ),
    ).toEqual([
      'acme.yaml:1:1 name: must be a string, not 42',
      'acme.yaml:2:1 base: must be a mapping, not "bookworm"',
      'acme.yaml:3:1 packages: must be a list, not "busybox"',
      'acme.yaml:5:23 health[0].command.argv[0]: must be a string, not true',
      'acme.yaml:5:30 health[0].command.expectExit: must be a number, not "0"',
    ]);
  });

  it('reports a missing field at its parent', async () => {
    expect(await problems(lines('name: acme-web', 'base:', '  variant: minbase'))).toEqual([
      'acme.yaml:2:1 base.suite: is required',
    ]);
  });

  it('reports a port out of range at its line', async () => {
    expect(
      await problems(
        lines(
          ...HEAD,
          'health:',
          '  - http: { port: 8080, path: /health }',
          '  - http:',
          '      port: 70000',
          '      path: /health',
        ),
      ),
    ).toEqual(['acme.yaml:7:7 health[1].http.port: must be between 1 and 65535']);
  });

  it('refuses content and source together, and neither', async () => {
    expect(
      await problems(
        lines(
          ...HEAD,
          'files:',
          '  - path: /etc/motd',
          '    content: hello',
          '    source: ./motd',
          '  - path: /etc/issue',
        ),
      ),
    ).toEqual([
      'acme.yaml:7:5 files[0].source: give content or source, not both',
      `acme.yaml:7:5 files[0].source: ./motd does not exist (looked for ${resolve('motd')})`,
      'acme.yaml:8:5 files[1]: give the file content or a source file',
    ]);
  });

  it('refuses relative image paths and .. segments', async () => {
    expect(
      await problems(
        lines(
          ...HEAD,
          'files:',
          '  - { path: etc/motd, content: x }',
          '  - { path: /etc/../shadow, content: x }',
          '  - { path: /etc/apt/, content: x }',
        ),
      ),
    ).toEqual([
      'acme.yaml:5:7 files[0].path: must be an absolute path (start with /)',
      'acme.yaml:6:7 files[1].path: must not contain ".." segments',
      'acme.yaml:7:7 files[2].path: must name a file, not a directory',
    ]);
  });

  it('refuses package names that are not Debian names', async () => {
    expect(
      await problems(
        lines(...HEAD, 'packages:', '  - busybox', '  - Acme_Runtime', '  - "curl; rm -rf /"', '  - busybox'),
      ),
    ).toEqual([
      'acme.yaml:6:5 packages[1]: must be a Debian package name, optionally name=version',
      'acme.yaml:7:5 packages[2]: must be a Debian package name, optionally name=version',
      'acme.yaml:8:5 packages[3]: busybox is listed twice',
    ]);
    expect(await problems(lines(...HEAD, 'packages: [busybox, busybox=1:1.35.0-4]'))).toEqual([
      'acme.yaml:4:21 packages[1]: busybox is listed twice',
    ]);
  });

  it('names an unknown key and suggests the closest known one', async () => {
    expect(
      await problems(
        lines(
          ...HEAD,
          'pakages: [busybox]',
          'health:',
          '  - http: { prot: 8080, path: /health }',
          'services: { enabled: [acme-httpd] }',
          'colour: blue',
        ),
      ),
    ).toEqual([
      'acme.yaml:4:1 pakages: unknown key (did you mean packages?)',
      'acme.yaml:6:5 health[0].http.port: is required',
      'acme.yaml:6:13 health[0].http.prot: unknown key (did you mean port?)',
      'acme.yaml:7:13 services.enabled: unknown key (did you mean enable?)',
      'acme.yaml:8:1 colour: unknown key (known keys: name, base, packages, debs, files, repositories, services, autoUpdates, health, userData, dnsAllow, channels, patch)',
    ]);
  });

  it('reports a YAML syntax error at its line', async () => {
    expect(await problems(lines(...HEAD, 'packages: [busybox', 'autoUpdates: disabled'))).toEqual([
      'acme.yaml:5:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(await problems(lines(...HEAD, 'name: again'))).toEqual([
      'acme.yaml:4:1 YAML syntax error: Map keys must be unique',
    ]);
  });

  it('reports every problem at once, in file order', async () => {
    expect(
      await problems(
        lines(
          'name: Acme Web',
          'base:',
          '  suite: bookworm',
          '  variant: tiny',
          'autoUpdates: off',
          'repositories:',
          '  - { uri: "http://deb.example.com", suites: [bookworm] }',
          '  - { lab: acme, uri: "http://x", suites: [bookworm] }',
          'health:',
          '  - { http: { port: 8080, path: health } }',
          '  - { name: both, http: { port: 1, path: / }, command: { argv: [x] } }',
          '  - { command: { argv: [] } }',
          'dnsAllow: ["*.distro-mirror.example", "bad domain"]',
        ),
      ),
    ).toEqual([
      'acme.yaml:1:1 name: must be lower-case letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit',
      'acme.yaml:4:3 base.variant: must be one of minbase, essential, apt, required, important, standard, not "tiny"',
      'acme.yaml:5:1 autoUpdates: must be one of disabled, enabled, not "off"',
      'acme.yaml:7:5 repositories[0].components: is required for a uri repository',
      'acme.yaml:8:18 repositories[1].uri: give lab or uri, not both',
      'acme.yaml:10:27 health[0].http.path: must start with /',
      'acme.yaml:11:47 health[1].command: give one of http, command or unit, not http and command',
      'acme.yaml:12:18 health[2].command.argv: must have at least the program to run',
      'acme.yaml:13:39 dnsAllow[1]: must be a domain (deb.distro-mirror.example) or *.suffix (*.distro-mirror.example)',
    ]);
  });

  it('throws a SPEC_INVALID usage error whose message lists every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(file, lines('name: acme-web', 'base: {}', 'pakages: []'));
    const error = (await loadSpec(file).catch((e: unknown) => e)) as SpecError;
    expect(error.code).toBe('SPEC_INVALID');
    expect(error.fault).toBe('user');
    expect(error.hint).toContain('docs/spec.md');
    expect(error.message).toBe(
      [
        `${file} is not a valid image spec (2 problems):`,
        `${file}:2:1 base: give suite (a Debian suite) or from (an image id or a root filesystem directory)`,
        `${file}:3:1 pakages: unknown key (did you mean packages?)`,
      ].join('\n  '),
    );
  });

  it('suggests only close keys', () => {
    expect(closest('pakcages', ['packages', 'name'])).toBe('packages');
    expect(closest('Name', ['packages', 'name'])).toBe('name');
    expect(closest('colour', ['packages', 'name'])).toBeUndefined();
  });
});

describe('goldgate spec validate', () => {
  async function run(...args: string[]) {
    const terminal = recordingTerminal();
    const code = await main(['node', 'goldgate', 'spec', 'validate', ...args], terminal);
    return { code, stdout: terminal.stdout, stderr: terminal.stderr };
  }

  it('refuses a YAML alias bomb as a problem of the file, quickly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const name = String.fromCharCode(97 + i);
      const previous = String.fromCharCode(96 + i);
      levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(',')}]`);
    }
    writeFileSync(file, lines('name: bomb', 'base:', '  suite: bookworm', ...levels));
    expect(await run(file)).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        `goldgate: ${file} is not a valid image spec (1 problem)`,
        `${file}:1:1 too many YAML aliases: more than 100 expansions (an alias bomb?)`,
        '  hint: every field is described in docs/spec.md',
        '',
      ].join('\n'),
    });
  });

  it('reports schema problems and missing local files at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(
      file,
      lines(
        'name: acme-web',
        'base:',
        '  suite: bookworm',
        'packages: 3',
        'debs: [./missing.deb]',
        'files:',
        '  - { path: /etc/motd, source: ./motd }',
        'userData:',
        '  file: ./user-data',
      ),
    );
    const { code, stderr } = await run(file);
    expect(code).toBe(2);
    expect(stderr.split('\n').slice(1, 5)).toEqual([
      `${file}:4:1 packages: must be a list, not 3`,
      `${file}:5:8 debs[0]: ./missing.deb does not exist (looked for ${join(dir, 'missing.deb')})`,
      `${file}:7:24 files[0].source: ./motd does not exist (looked for ${join(dir, 'motd')})`,
      `${file}:9:3 userData.file: ./user-data does not exist (looked for ${join(dir, 'user-data')})`,
    ]);
  });

  it('prints ok and exits 0 for a valid spec', async () => {
    expect(await run(join(EXAMPLES, 'fixed.yaml'))).toEqual({
      code: 0,
      stdout: 'ok: acme-web\n',
      stderr: '',
    });
  });

  it('prints the normalised spec with --json', async () => {
    const { code, stdout } = await run(join(EXAMPLES, 'fixed.yaml'), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual((await loadSpec(join(EXAMPLES, 'fixed.yaml'))).spec);
  });

  it('prints every problem and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-spec-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(file, lines('name: acme-web', 'base: {}', 'pakages: []'));
    const { code, stdout, stderr } = await run(file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      lines(
        `goldgate: ${file} is not a valid image spec (2 problems)`,
        `${file}:2:1 base: give suite (a Debian suite) or from (an image id or a root filesystem directory)`,
        `${file}:3:1 pakages: unknown key (did you mean packages?)`,
        '  hint: every field is described in docs/spec.md',
      ),
    );
    const json = await run(file, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      problems: [
        {
          file,
          line: 2,
          col: 1,
          path: 'base',
          message: 'give suite (a Debian suite) or from (an image id or a root filesystem directory)',
        },
        { file, line: 3, col: 1, path: 'pakages', message: 'unknown key (did you mean packages?)' },
      ],
    });
  });

  it('exits 2 when the file cannot be read', async () => {
    const { code, stderr } = await run('/nonexistent/acme.yaml');
    expect(code).toBe(2);
    expect(stderr).toBe(
      'goldgate: /nonexistent/acme.yaml does not exist\n  hint: give the path of an image spec (a YAML file; docs/spec.md)\n',
    );
  });
});

describe('goldgate spec (command line)', () => {
  it('is a usage error, not an exit, when the file is missing from the command line', async () => {
    const terminal = recordingTerminal();
    expect(await main(['node', 'goldgate', 'spec', 'validate'], terminal)).toBe(2);
    expect(terminal.stderr).toContain("missing required argument 'file'");
  });
});

describe('patch', () => {
  it('is absent unless written, and takes its defaults when written empty', async () => {
    expect((await parseSpec(lines(...HEAD), 'acme.yaml')).spec).not.toHaveProperty('patch');
    expect((await parseSpec(lines(...HEAD, 'patch: {}'), 'acme.yaml')).spec?.patch).toEqual({
      include: 'security',
      minAge: '0',
      hold: [],
      allow: [],
    });
  });

  it('keeps minAge as written, a YAML number included', async () => {
    const policy = async (...extra: string[]) =>
      (await parseSpec(lines(...HEAD, ...extra), 'acme.yaml')).spec?.patch;
    expect(
      await policy(
        'patch:',
        '  include: all',
        '  minAge: 2d',
        '  hold: [acme-runtime]',
        '  allow: [openssl]',
      ),
    ).toEqual({ include: 'all', minAge: '2d', hold: ['acme-runtime'], allow: ['openssl'] });
    expect((await policy('patch: { minAge: 0 }'))?.minAge).toBe('0');
    expect((await policy('patch: { minAge: 12h }'))?.minAge).toBe('12h');
  });

  it('names each mistake by its path', async () => {
    expect(
      await problems(
        lines(
          ...HEAD,
          'patch:',
          '  include: everything',
          '  minAge: soon',
          '  hold: [acme-runtime=1.0]',
          '  alow: [openssl]',
        ),
      ),
    ).toEqual([
      'acme.yaml:5:3 patch.include: must be one of security, all, not "everything"',
      'acme.yaml:6:3 patch.minAge: must be a duration such as 0, 12h, 2d or 1w (m minutes, h hours, d days, w weeks; at most 3650d)',
      'acme.yaml:7:10 patch.hold[0]: must be a Debian package name (no version)',
      'acme.yaml:8:3 patch.alow: unknown key (did you mean allow?)',
    ]);
    expect(await problems(lines(...HEAD, 'patch: { minAge: -2d }'))).toEqual([
      'acme.yaml:4:10 patch.minAge: must be a duration such as 0, 12h, 2d or 1w (m minutes, h hours, d days, w weeks; at most 3650d)',
    ]);
  });
});
