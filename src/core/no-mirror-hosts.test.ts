import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

/**
 * Host names that serve distribution packages: a mirror-like first label under a
 * distribution's domain. Written as a pattern so that this test names no host itself.
 * E-mail addresses (`@lists.…`) and project pages (`www.…`, `bugs.…`) are not mirrors.
 */
const MIRROR_HOST =
  /(?<![@\w.-])(?:[a-z0-9-]+\.)*(?:deb|ftp|http|https|security|archive|ports|mirror|mirrors|cdn|snapshot|download|dl|repo|packages)[a-z0-9-]*\.(?:debian\.(?:org|net)|ubuntu\.com|canonical\.com|fedoraproject\.org|centos\.org|amazonlinux\.com|alpinelinux\.org|rockylinux\.org|almalinux\.org|nodesource\.com|npmjs\.(?:org|com))\b/gi;

/** The project's tracked text files. */
function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '');
}

describe('the project', () => {
  it('names no real package mirror host: names under .example stand for them', () => {
    const found: string[] = [];
    for (const path of trackedFiles()) {
      let text: string;
      try {
        text = readFileSync(join(repo, path), 'utf8');
      } catch {
        continue;
      }
      if (text.includes('\0')) continue;
      for (const match of text.matchAll(MIRROR_HOST)) found.push(`${path}: ${match[0]}`);
    }
    expect(found).toEqual([]);
  });

  it('the pattern catches the forms a mirror is written in', () => {
    const hits = (text: string): string[] => [...text.matchAll(MIRROR_HOST)].map((m) => m[0]);
    // Built from parts, so that the file itself names no mirror.
    const debian = ['debian', 'org'].join('.');
    expect(hits(`deb http://deb.${debian}/debian bookworm main`)).toEqual([`deb.${debian}`]);
    expect(hits(`URIs: https://security.${debian}/debian-security`)).toEqual([`security.${debian}`]);
    expect(hits(`Maintainer: GNU Libc <libc@lists.${debian}>`)).toEqual([]);
    expect(hits(`HOME_URL="https://www.${debian}/"`)).toEqual([]);
    expect(hits('deb http://deb.distro-mirror.example/debian bookworm main')).toEqual([]);
  });
});
