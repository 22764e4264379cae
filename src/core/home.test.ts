import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldgateHome } from './home.js';

describe('goldgateHome', () => {
  it('is $GOLDGATE_HOME when set (relative taken from the current directory)', () => {
    expect(goldgateHome({ GOLDGATE_HOME: '/srv/gg' })).toBe('/srv/gg');
    expect(goldgateHome({ GOLDGATE_HOME: 'gg' })).toBe(resolve('gg'));
  });
  it('defaults to ~/.local/share/goldgate, or $XDG_DATA_HOME/goldgate', () => {
    expect(goldgateHome({})).toBe(join(homedir(), '.local', 'share', 'goldgate'));
    expect(goldgateHome({ GOLDGATE_HOME: '' })).toBe(join(homedir(), '.local', 'share', 'goldgate'));
    expect(goldgateHome({ XDG_DATA_HOME: '/x' })).toBe('/x/goldgate');
  });
});
