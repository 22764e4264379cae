import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../verify/types.js';
import { renderVerify } from './verify.js';

const fixture = (name: string): VerifyReport =>
  JSON.parse(
    readFileSync(new URL(`../../verify/__fixtures__/report-${name}.json`, import.meta.url), 'utf8'),
  ) as VerifyReport;

const head = (text: string): string[] => text.split('\n').slice(0, 2);
const headings = (text: string): string[] => text.split('\n').filter((l) => /^It /.test(l));

describe('the verify report in a terminal', () => {
  it('opens with the verdict and what it means', () => {
    expect(head(renderVerify(fixture('broken'), { color: false }))).toEqual([
      'BROKEN  img-5b2d8e0a7c14 (acme-baked-update)',
      "  broken: the app's health fails at boot and acme-runtime-check.service fails; the image did not change: what is inside the image breaks the app",
    ]);
    expect(head(renderVerify(fixture('reaches-outside'), { color: false }))).toEqual([
      'REACHES OUTSIDE  img-9a6c3f1e5d20 (acme-web-chrony)',
      '  reaches outside: it looked up a name outside the allowlist (2.debian.pool.ntp.example) but changed nothing and broke nothing (allow it with dnsAllow or --allow-domain)',
    ]);
    expect(head(renderVerify(fixture('mutable'), { color: false }))[0]).toBe(
      'MUTABLE  img-3f9c2a71d0b4 (acme-as-found)',
    );
    expect(head(renderVerify(fixture('immutable'), { color: false }))[0]).toBe(
      'IMMUTABLE  img-8e41b06c2fd7 (acme-web-pinned)',
    );
  });

  it('lists the reasons under their class', () => {
    const text = renderVerify(fixture('mutable'), { color: false });
    expect(headings(text)).toEqual(['It changes itself', 'It is broken', 'It reaches outside']);
    const changes = text.slice(text.indexOf('It changes itself'), text.indexOf('It is broken'));
    expect(changes.match(/^ {2}✗ \[(\w+)\]/gm)).toEqual([
      '  ✗ [package]',
      '  ✗ [config]',
      '  ✗ [config]',
      '  ✗ [binary]',
    ]);
    expect(headings(renderVerify(fixture('immutable'), { color: false }))).toEqual([]);
  });

  it('says when --accept lets it pass, and marks only the accepted classes', () => {
    const accepted = renderVerify(fixture('reaches-outside'), {
      color: false,
      accepted: ['reaches-outside'],
    });
    expect(accepted).toContain('\n  accepted with --accept reaches-outside: exit status 0\n');
    expect(headings(accepted)).toEqual(['It reaches outside (accepted)']);
    expect(accepted).toContain('\n  ~ [dns] looked up 2.debian.pool.ntp.example');

    const still = renderVerify(fixture('mutable'), { color: false, accepted: ['reaches-outside'] });
    expect(still).not.toContain('exit status 0');
    expect(headings(still)).toEqual(['It changes itself', 'It is broken', 'It reaches outside (accepted)']);
    expect(renderVerify(fixture('reaches-outside'), { color: false })).not.toContain('accepted');
  });
});
