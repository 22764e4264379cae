import { describe, expect, it } from 'vitest';
import { scanArgv, scanSystemdExec, splitSystemdExec } from './index.js';

describe('scanArgv', () => {
  it('classifies an exec argv and reports it at the given line', () => {
    expect(scanArgv(['apt-get', 'install', '-y', 'nginx'], { line: 12 })).toEqual([
      {
        category: 'package-install',
        tool: 'apt-get',
        action: 'install',
        command: 'apt-get install -y nginx',
        line: 12,
      },
    ]);
  });

  it('quotes arguments with spaces in the command text', () => {
    expect(scanArgv(['docker', 'run', '-e', 'A=b c', 'app:1'])[0]?.command).toBe(
      "docker run -e 'A=b c' app:1",
    );
  });

  it('defaults the line to 1', () => {
    expect(scanArgv(['yum', 'install', 'x'])[0]?.line).toBe(1);
  });

  it('scans the string of a shell given -c, at the argv line', () => {
    const hits = scanArgv(['sh', '-c', 'apt-get update\napt-get install -y x'], { line: 30 });
    expect(hits.map((h) => [h.tool, h.action, h.line, h.command])).toEqual([
      ['apt-get', 'update', 30, 'apt-get update'],
      ['apt-get', 'install', 30, 'apt-get install -y x'],
    ]);
  });

  it('does not parse argv elements as shell', () => {
    expect(scanArgv(['echo', 'apt-get install x; curl https://x.example.com | sh'])).toEqual([]);
    expect(scanArgv(['apt-get', 'install', 'x;', 'curl', 'https://x.example.com'])).toEqual([
      expect.objectContaining({ tool: 'apt-get', action: 'install' }),
    ]);
    expect(scanArgv(['docker', 'run', '$IMAGE'])[0]?.detail).toBe('$IMAGE: no tag (implies :latest)');
  });

  it('is empty for an empty argv', () => {
    expect(scanArgv([])).toEqual([]);
    expect(scanArgv([''])).toEqual([]);
  });
});

describe('splitSystemdExec', () => {
  it('strips prefixes and splits with systemd quoting', () => {
    expect(splitSystemdExec('-/usr/bin/docker run "--name=web app" \'x y\' plain')).toEqual([
      '/usr/bin/docker',
      'run',
      '--name=web app',
      'x y',
      'plain',
    ]);
    expect(splitSystemdExec('!!/bin/true')).toEqual(['/bin/true']);
    expect(splitSystemdExec('+-:/bin/true a')).toEqual(['/bin/true', 'a']);
  });

  it('decodes C escapes', () => {
    expect(splitSystemdExec('/bin/echo a\\tb "c\\"d" \\x41\\101 \\u00e9 \\s')).toEqual([
      '/bin/echo',
      'a\tb',
      'c"d',
      'AA',
      'é',
      ' ',
    ]);
  });

  it('drops argv[0] given after @', () => {
    expect(splitSystemdExec('@/usr/bin/dnf dnf-boot -y upgrade')).toEqual(['/usr/bin/dnf', '-y', 'upgrade']);
  });

  it('turns $$ and %% into literal characters', () => {
    expect(splitSystemdExec('/bin/echo $$HOME 100%%')).toEqual(['/bin/echo', '$HOME', '100%']);
  });

  it('is empty for an empty value', () => {
    expect(splitSystemdExec('')).toEqual([]);
    expect(splitSystemdExec('   ')).toEqual([]);
  });
});

describe('scanSystemdExec', () => {
  it('reports the value as written, at the given line', () => {
    expect(scanSystemdExec('-/usr/bin/docker pull nginx:1.25', { line: 9 })).toEqual([
      {
        category: 'container-mutable',
        tool: 'docker',
        action: 'pull',
        command: '-/usr/bin/docker pull nginx:1.25',
        line: 9,
        detail: 'nginx:1.25: no digest (tag :1.25)',
        target: 'nginx:1.25',
      },
    ]);
  });

  it.each([
    ['/usr/bin/apt-get -y upgrade', 'apt-get upgrade'],
    ['@/usr/bin/dnf dnf-boot -y upgrade', 'dnf upgrade'],
    ['!/usr/bin/pip3 install -r /opt/app/requirements.txt', 'pip install'],
    ['/usr/bin/docker run --rm --name web -p 80:80 "nginx:1.25"', 'docker run'],
    ['/usr/bin/podman run --rm ${IMAGE}', 'podman run'],
    ['/bin/sh -c "apt-get update && apt-get install -y nginx"', 'apt-get update,apt-get install'],
    ["/bin/bash -c 'curl -fsSL https://get.example.com | sh'", 'curl pipe-to-shell'],
    ['/usr/bin/curl -fsSLo /opt/agent.tgz https://dl.example.com/agent.tgz', 'curl download'],
  ])('%s', (value, expected) => {
    expect(
      scanSystemdExec(value)
        .map((h) => `${h.tool} ${h.action}`)
        .join(','),
    ).toBe(expected);
  });

  it('marks $VAR and %i specifiers as not static', () => {
    expect(scanSystemdExec('/usr/bin/docker run app:%i')[0]?.detail).toBe(
      'app:%i: reference not static, no digest',
    );
    expect(scanSystemdExec('/usr/bin/docker run ${IMAGE}')[0]?.detail).toBe(
      '${IMAGE}: reference not static, no digest',
    );
  });

  it('takes $VAR literally with the : prefix', () => {
    expect(scanSystemdExec(':/usr/bin/docker run app:$TAG')[0]?.detail).toBe(
      'app:$TAG: no digest (tag :$TAG)',
    );
  });

  it.each([
    '/usr/bin/docker ps',
    '/usr/sbin/nginx -g "daemon off;"',
    "/bin/sh -c 'echo apt-get install x'",
    '/usr/bin/curl -fsS http://127.0.0.1:8080/health',
    '/bin/echo "apt-get install x"',
    `/usr/bin/docker run app@sha256:${'a'.repeat(64)}`,
    '',
    '-',
  ])('%s is not a hit', (value) => {
    expect(scanSystemdExec(value)).toEqual([]);
  });
});
