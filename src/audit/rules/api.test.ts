import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEVERITIES } from '../types.js';
import { RULES } from './api.js';

const here = new URL('.', import.meta.url).pathname;
const folders = readdirSync(here).filter(
  (name) => statSync(join(here, name)).isDirectory() && !name.startsWith('_'),
);

/** The rule catalog of the design: every id must exist, no other. */
const CATALOG = [
  'apt-unattended-upgrades',
  'apt-periodic-update',
  'apt-timers-enabled',
  'cloud-init-package-upgrade',
  'boot-script-package-install',
  'boot-network-fetch',
  'container-mutable-tag',
  'dnf-automatic',
  'dnf-release-unlocked',
  'snap-auto-refresh',
  'needrestart-auto',
  'auto-reboot',
  'os-update-agent',
];

describe('the rule registry', () => {
  it('has exactly one registered rule per folder, with the folder’s name', () => {
    expect([...RULES.keys()].sort()).toEqual([...folders].sort());
  });

  it('holds the whole catalog, in catalog order', () => {
    expect([...RULES.keys()]).toEqual(CATALOG);
  });

  it.each([...RULES.values()].map((rule) => [rule.id, rule] as const))(
    '%s has a title, a severity and its failure',
    (_id, rule) => {
      expect(rule.title.length).toBeGreaterThan(10);
      expect(SEVERITIES).toContain(rule.severity);
      // One sentence, ending with a full stop (it may start with a tool name in lower case).
      expect(rule.failure).toMatch(/^\S[^\n]{40,}\.$/);
    },
  );
});
