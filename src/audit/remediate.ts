import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import { UsageError } from '../core/errors.js';
import { normalizeImagePath, openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';
import type { Finding, RemediationStep } from './types.js';

export interface AppliedStep {
  rule: string;
  step: RemediationStep;
  applied: boolean;
  /** Why a step was not applied (commands are left to the person). */
  reason?: string;
}

/** The steps of these findings, without repeats (two findings may ask for the same line). */
export function remediationSteps(
  findings: readonly Finding[],
): Array<{ rule: string; step: RemediationStep }> {
  const seen = new Set<string>();
  const steps: Array<{ rule: string; step: RemediationStep }> = [];
  for (const finding of findings) {
    for (const step of finding.remediation.steps) {
      const key = JSON.stringify(step);
      if (seen.has(key)) continue;
      seen.add(key);
      steps.push({ rule: finding.rule, step });
    }
  }
  return steps;
}

/**
 * Applies remediation steps to a root filesystem directory. Every write stays inside the
 * root: directories are resolved with the chrooted resolver, and a symlink where a file is
 * to be written is replaced, never written through. `command` steps are not run here.
 */
export function applyRemediations(
  rootDir: string,
  steps: ReadonlyArray<{ rule: string; step: RemediationStep }>,
): AppliedStep[] {
  // Line removals go last and bottom-up, so one removal never shifts the line another one names.
  const lineOf = (step: RemediationStep) => (step.action === 'remove-line' ? step.line : 0);
  const ordered = [
    ...steps.filter(({ step }) => step.action !== 'remove-line'),
    ...steps
      .filter(({ step }) => step.action === 'remove-line')
      .sort((a, b) => lineOf(b.step) - lineOf(a.step)),
  ];
  const results = new Map<(typeof steps)[number], AppliedStep>();
  for (const item of ordered) results.set(item, applyOne(rootDir, item.rule, item.step));
  return steps.map((item) => results.get(item) as AppliedStep);
}

function applyOne(rootDir: string, rule: string, step: RemediationStep): AppliedStep {
  // A fresh reader per step: the reader caches what it resolved, and earlier steps change the tree.
  const fs = openDirRootFs(rootDir);
  switch (step.action) {
    case 'write-file':
      writeInside(rootDir, fs, step.path, step.content);
      return { rule, step, applied: true };
    case 'set-line':
      writeInside(rootDir, fs, step.path, setLine(fs.readText(step.path) ?? '', step.match, step.line));
      return { rule, step, applied: true };
    case 'remove-line': {
      const lines = (fs.readText(step.path) ?? '').split('\n');
      if (lines[step.line - 1]?.trim() !== step.text.trim()) {
        return {
          rule,
          step,
          applied: false,
          reason: `line ${step.line} of ${step.path} no longer reads "${step.text}"`,
        };
      }
      lines.splice(step.line - 1, 1);
      writeInside(rootDir, fs, step.path, lines.join('\n'));
      return { rule, step, applied: true };
    }
    case 'mask-units':
      for (const unit of step.units) maskUnit(rootDir, fs, unit);
      return { rule, step, applied: true };
    case 'command':
      return {
        rule,
        step,
        applied: false,
        reason: 'commands are not run by goldgate fix; run it in the image build',
      };
  }
}

/** The text with the first line starting with `match` replaced by `line`, or `line` appended. */
export function setLine(text: string, match: string, line: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const index = lines.findIndex((l) => l.trimStart().startsWith(match));
  if (index >= 0) lines[index] = line;
  else lines.push(line);
  return `${lines.join('\n')}\n`;
}

/** The host path of an in-image directory, created if missing, resolved without leaving the root. */
function hostDir(rootDir: string, fs: RootFs, imageDir: string): string {
  const resolved = fs.resolve(imageDir);
  if (resolved !== undefined) {
    if (fs.stat(resolved)?.kind !== 'dir')
      throw new UsageError('FIX_NOT_A_DIRECTORY', `${imageDir} is not a directory in the image`);
    return join(rootDir, resolved);
  }
  const parent = hostDir(rootDir, fs, posix.dirname(imageDir));
  const dir = join(parent, posix.basename(imageDir));
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (error) {
    // Made by an earlier write of this run (the reader remembers it as missing): fine if it is a real directory.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || lstatSync(dir).isDirectory() !== true)
      throw error;
  }
  return dir;
}

function replaceable(hostPath: string): void {
  const existing = lstatSync(hostPath, { throwIfNoEntry: false });
  if (existing === undefined) return;
  if (existing.isDirectory()) throw new UsageError('FIX_IS_DIRECTORY', `${hostPath} is a directory`);
  if (!existing.isFile()) unlinkSync(hostPath);
}

function writeInside(rootDir: string, fs: RootFs, imagePath: string, content: string): void {
  const path = normalizeImagePath(imagePath);
  const target = join(hostDir(rootDir, fs, posix.dirname(path)), posix.basename(path));
  replaceable(target);
  const fd = openSync(
    target,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

function maskUnit(rootDir: string, fs: RootFs, unit: string): void {
  if (!/^[A-Za-z0-9:_.@\\-]+$/.test(unit))
    throw new UsageError('FIX_BAD_UNIT', `"${unit}" is not a unit name`);
  const target = join(hostDir(rootDir, fs, '/etc/systemd/system'), unit);
  const existing = lstatSync(target, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink() === true) {
    if (readlinkSync(target) === '/dev/null') return;
    unlinkSync(target);
  } else if (existing !== undefined) {
    // Like systemctl mask: a unit file written by the image's builder is theirs to remove.
    throw new UsageError('FIX_UNIT_FILE_EXISTS', `/etc/systemd/system/${unit} is a unit file, not a link`, {
      hint: `remove or rename it in the image, then mask ${unit}`,
    });
  }
  symlinkSync('/dev/null', target);
}
