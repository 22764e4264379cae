import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentinel } from '../test-support/confine.js';
import { makeTree, tempDir } from '../test-support/tree.js';
import { copyLayerLogs } from './evidence.js';

describe("an instance's logs gathered from its upper layer", () => {
  it('copies the logs the instance wrote, and never a host file through a link it left there', () => {
    const outside = sentinel();
    // Logs of the host, where an absolute link the instance left would lead on the host.
    const hostLogs = tempDir('goldgate-host-logs-');
    writeFileSync(join(hostLogs, 'term.log'), 'a log of the host\n');
    const upper = makeTree({
      '/var/log/dpkg.log': '2026-11-27 12:00:00 status installed acme:amd64 1.1\n',
      '/var/log/apt': { link: hostLogs },
      [`${hostLogs}/history.log`]: 'Start-Date: in the layer\n',
      '/var/log/unattended-upgrades/unattended-upgrades.log': 'No packages found\n',
      '/var/log/unattended-upgrades/host': { link: join(outside.dir, 'keep') },
    });
    const out = tempDir('goldgate-evidence-');
    copyLayerLogs(upper, out);
    expect(readFileSync(join(out, 'var/log/dpkg.log'), 'utf8')).toContain('acme');
    // The link resolves inside the layer: what the instance itself would read there.
    expect(readdirSync(join(out, 'var/log/apt'))).toEqual(['history.log']);
    expect(readFileSync(join(out, 'var/log/apt/history.log'), 'utf8')).toBe('Start-Date: in the layer\n');
    expect(readdirSync(join(out, 'var/log/unattended-upgrades'))).toEqual(['unattended-upgrades.log']);
    outside.untouched();
  });
});
