import { describe, expect, it } from 'vitest';
import { groupEventLine } from './group.js';

describe('group run lines', () => {
  it('keeps the longest action apart from its message', () => {
    const line = groupEventLine(
      {
        type: 'group',
        group: 'web',
        action: 'launch-failed',
        instance: 'i-cd436195',
        message: 'i-cd436195 failed to launch: no image',
        at: '2026-11-27T14:00:01.000Z',
      },
      false,
    );
    expect(line).toBe('14:00:01  launch-failed i-cd436195 failed to launch: no image\n');
  });
});
