import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scanShell, scriptPathsOf } from './index.js';

function fixture(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

describe('EC2 user-data bootstrap script', () => {
  const text = fixture('ec2-bootstrap.sh');

  it('finds exactly the commands that change the instance', () => {
    expect(scanShell(text)).toEqual([
      {
        category: 'network-fetch',
        tool: 'apt-get',
        action: 'update',
        command: 'apt-get update',
        line: 20,
      },
      {
        category: 'package-install',
        tool: 'apt-get',
        action: 'install',
        command: 'apt-get install -y nginx',
        line: 20,
      },
      {
        category: 'network-fetch',
        tool: 'curl',
        action: 'pipe-to-shell',
        command: 'curl -fsSL https://get.example.com | sh',
        line: 37,
        detail: 'piped to sh',
        target: 'https://get.example.com',
      },
      {
        category: 'container-mutable',
        tool: 'docker',
        action: 'run',
        command:
          'docker run -d --restart=always --name app -p 80:8080 \\\n  -e "INSTANCE_ID=${INSTANCE_ID}" \\\n  app:latest',
        line: 39,
        detail: 'app:latest: no digest (tag :latest)',
        target: 'app:latest',
      },
    ]);
  });

  it('offsets lines for a script embedded in a larger file', () => {
    expect(scanShell(text, { startLine: 101 }).map((h) => h.line)).toEqual([120, 120, 137, 139]);
  });

  it('runs no other script', () => {
    expect(scriptPathsOf(text)).toEqual([]);
  });
});

describe('a boot script that only configures', () => {
  it('has no hits: metadata fetches, comments, heredoc text and pinned images do not count', () => {
    expect(scanShell(fixture('pinned-bootstrap.sh'))).toEqual([]);
  });
});

describe('rc.local', () => {
  const text = fixture('rc.local');

  it('finds the fetch and the install', () => {
    expect(scanShell(text).map((h) => [h.category, h.tool, h.action, h.line, h.command])).toEqual([
      ['network-fetch', 'git', 'pull', 10, 'git pull --ff-only origin main'],
      ['package-install', 'npm', 'ci', 11, 'npm ci --omit=dev'],
    ]);
  });

  it('lists the scripts it runs, not the ones it only touches', () => {
    expect(scriptPathsOf(text)).toEqual([
      '/usr/local/bin/firstboot.sh',
      '/opt/agent/bin/agent-update.sh',
      '/etc/default/app',
    ]);
  });
});
