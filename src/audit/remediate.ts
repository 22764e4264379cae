import { UsageError } from '../core/errors.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { openRootWriter } from '../rootfs/write.js';
import type { RootWriter } from '../rootfs/write.js';
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
 * Applies remediation steps to a root filesystem directory. Every write goes through the
 * confined writer: directories are resolved inside the root as the reader does, and a symlink
 * where a file is to be written is replaced, never written through. `command` steps are not
 * run here.
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
  const writer = openRootWriter(rootDir, { label: 'remediation' });
  for (const item of ordered) results.set(item, applyOne(rootDir, writer, item.rule, item.step));
  return steps.map((item) => results.get(item) as AppliedStep);
}

function applyOne(rootDir: string, writer: RootWriter, rule: string, step: RemediationStep): AppliedStep {
  // A fresh reader per step: the reader caches what it resolved, and earlier steps change the tree.
  const fs = openDirRootFs(rootDir);
  switch (step.action) {
    case 'write-file':
      writer.writeFile(step.path, step.content);
      return { rule, step, applied: true };
    case 'set-line':
      writer.writeFile(step.path, setLine(fs.readText(step.path) ?? '', step.match, step.line));
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
      writer.writeFile(step.path, lines.join('\n'));
      return { rule, step, applied: true };
    }
    case 'mask-units':
      for (const unit of step.units) maskUnit(writer, unit);
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

/** Masks a unit as systemctl mask does: a link to /dev/null in /etc/systemd/system (resolved inside the image). */
function maskUnit(writer: RootWriter, unit: string): void {
  if (!/^[A-Za-z0-9:_.@\\-]+$/.test(unit))
    throw new UsageError('FIX_BAD_UNIT', `"${unit}" is not a unit name`);
  const path = `/etc/systemd/system/${unit}`;
  const existing = writer.lstat(path);
  if (existing !== undefined && !existing.isSymbolicLink()) {
    // Like systemctl mask: a unit file written by the image's builder is theirs to remove.
    const what = existing.isFile()
      ? 'a unit file'
      : existing.isDirectory()
        ? 'a directory'
        : 'a special file (a FIFO, socket or device)';
    throw new UsageError('FIX_UNIT_FILE_EXISTS', `${path} is ${what}, not a link`, {
      hint: `remove or rename it in the image, then mask ${unit}`,
    });
  }
  writer.symlink(path, '/dev/null');
}
