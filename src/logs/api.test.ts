import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_PARSERS } from './api.js';

const parsersDir = new URL('./parsers/', import.meta.url).pathname;
const folders = readdirSync(parsersDir).filter((name) => statSync(join(parsersDir, name)).isDirectory());

describe('the log parser registry', () => {
  it('has exactly one registered parser per folder, with the folder’s name', () => {
    expect(LOG_PARSERS.map((p) => p.id).sort()).toEqual([...folders].sort());
  });

  it('sends each shared sample to the parser of its format', () => {
    const detected = (name: string, head: string[]) => LOG_PARSERS.find((p) => p.detect(name, head))?.id;
    expect(detected('history.log.1.gz', ['Start-Date: 2026-11-27  07:47:13'])).toBe('apt-history');
    expect(detected('dpkg.log', ['2026-11-27 07:46:58 startup archives install'])).toBe('dpkg');
    expect(
      detected('unattended-upgrades.log', [
        '2026-11-27 07:47:13,095 INFO Starting unattended upgrades script',
      ]),
    ).toBe('unattended-upgrades');
    expect(detected('unattended-upgrades-dpkg.log', ['Log started: 2026-11-27  07:47:13'])).toBe(
      'unattended-upgrades-dpkg',
    );
    expect(detected('term.log', ['Log started: 2026-11-27  07:47:13'])).toBe('apt-term');
    expect(detected('journal.json', ['{"__REALTIME_TIMESTAMP": "1795765618594957", "MESSAGE": "x"}'])).toBe(
      'journal',
    );
    expect(
      detected('x.log.gz', [
        '{"version": "1.100000", "query_timestamp": "2026-11-27T07:47:12Z", "query_name": "a.", "srcids": {"instance": "i-1"}}',
      ]),
    ).toBe('route53-resolver');
    expect(detected('README.md', ['# hello'])).toBeUndefined();
  });
});
