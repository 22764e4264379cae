import { describe, expect, it } from 'vitest';
import { environmentError, outputError, pathError } from './errno.js';

const systemError = (code: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: failed`), { code, ...(path === undefined ? {} : { path }) });

describe('system errors', () => {
  it('makes the machine’s faults environment errors (exit 3) naming the path', () => {
    expect(environmentError(systemError('ENOSPC', '/srv/out'))).toMatchObject({
      fault: 'environment',
      code: 'SYSTEM_ENOSPC',
      message: '/srv/out: no space left on the device',
      hint: 'free some space, or write somewhere else',
    });
    expect(environmentError(systemError('EROFS', '/usr/x'))?.message).toBe('/usr/x: read-only file system');
    expect(environmentError(systemError('EACCES', '/root/x'))?.fault).toBe('environment');
  });

  it("leaves anything else to be reported as goldgate's bug", () => {
    expect(environmentError(systemError('ENOENT', '/x'))).toBeUndefined();
    expect(environmentError(systemError('EISDIR', '/x'))).toBeUndefined();
    expect(environmentError(new TypeError('x is undefined'))).toBeUndefined();
  });

  it('makes a path that cannot name a file a usage error naming it, and nothing else', () => {
    expect(pathError(systemError('ELOOP', 'a/loop'))).toMatchObject({
      fault: 'user',
      code: 'PATH_ELOOP',
      message: 'a/loop: too many levels of symbolic links (a loop?)',
    });
    expect(pathError(systemError('ENOTDIR', 'file/x'))?.message).toBe(
      'file/x: a part of the path is not a folder',
    );
    expect(pathError(systemError('ENAMETOOLONG'), '--user-data nnn')?.message).toBe(
      '--user-data nnn: the name is too long',
    );
    expect(outputError(systemError('ELOOP'), '-o', 'loop')?.message).toBe(
      '-o loop: too many levels of symbolic links (a loop?)',
    );
    expect(pathError(systemError('ENOENT', '/x'))).toBeUndefined();
    expect(pathError(new TypeError('x is undefined'))).toBeUndefined();
  });

  it('makes a bad output path a usage error naming the flag', () => {
    expect(outputError(systemError('ENOENT'), '-o', 'a/b')).toMatchObject({
      fault: 'user',
      message: '-o a/b: its folder does not exist',
    });
    expect(outputError(systemError('EISDIR'), '--html', 'out/')).toMatchObject({
      fault: 'user',
      message: '--html out/ is a directory',
      hint: 'give a file name, e.g. out/report',
    });
    expect(outputError(systemError('EDQUOT'), '-o', 'r')).toMatchObject({
      fault: 'environment',
      message: '-o r: disk quota exceeded',
    });
  });
});
