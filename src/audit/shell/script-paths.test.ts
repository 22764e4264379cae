import { describe, expect, it } from 'vitest';
import { scriptPathsOf, splitSystemdExec } from './index.js';

describe('scriptPathsOf', () => {
  it('finds scripts run by path, through wrappers', () => {
    const text = [
      '/usr/local/bin/bootstrap.sh --role web',
      'sudo -u app /opt/app/bin/migrate',
      'nohup /opt/agent/run.sh >/dev/null 2>&1 &',
      'exec /usr/local/sbin/firstboot',
      'if /opt/x/check.sh; then echo ok; fi',
    ];
    expect(scriptPathsOf(text.join('\n'))).toEqual([
      '/usr/local/bin/bootstrap.sh',
      '/opt/app/bin/migrate',
      '/opt/agent/run.sh',
      '/usr/local/sbin/firstboot',
      '/opt/x/check.sh',
    ]);
  });

  it('finds scripts given to a shell, sourced or fed on stdin', () => {
    const text = [
      'bash /opt/x/init.sh',
      'sh -x /opt/x/second.sh arg',
      'dash -e -- /opt/x/third.sh',
      '. /etc/profile.d/app.sh',
      'source /opt/x/env.sh',
      'bash < /opt/x/stdin.sh',
      '/bin/sh /usr/bin/vendor-setup.sh',
    ];
    expect(scriptPathsOf(text.join('\n'))).toEqual([
      '/opt/x/init.sh',
      '/opt/x/second.sh',
      '/opt/x/third.sh',
      '/etc/profile.d/app.sh',
      '/opt/x/env.sh',
      '/opt/x/stdin.sh',
      '/usr/bin/vendor-setup.sh',
    ]);
  });

  it('looks inside -c strings, substitutions and control structures', () => {
    const text = "sh -c '/opt/a.sh && bash /opt/b.sh'\nv=$(/opt/c.sh)\nfor i in 1; do /opt/d.sh; done";
    expect(scriptPathsOf(text)).toEqual(['/opt/a.sh', '/opt/b.sh', '/opt/c.sh', '/opt/d.sh']);
  });

  it('lists each path once, in order of first appearance', () => {
    expect(scriptPathsOf('/opt/a.sh\n/opt/b.sh\n/opt/a.sh')).toEqual(['/opt/a.sh', '/opt/b.sh']);
  });

  it('accepts an exec argv, as from a systemd unit', () => {
    expect(scriptPathsOf(['/usr/local/bin/bootstrap.sh', '--once'])).toEqual(['/usr/local/bin/bootstrap.sh']);
    expect(scriptPathsOf(splitSystemdExec('-/bin/bash /opt/boot/run.sh'))).toEqual(['/opt/boot/run.sh']);
    expect(scriptPathsOf(['/bin/sh', '-c', '/opt/boot/a.sh; /opt/boot/b.sh'])).toEqual([
      '/opt/boot/a.sh',
      '/opt/boot/b.sh',
    ]);
  });

  it.each([
    'chmod +x /opt/x.sh',
    'cp /opt/a.sh /opt/b.sh',
    'echo /opt/x.sh',
    'cat /opt/x.sh | tee /tmp/y.sh',
    '/usr/bin/apt-get install x',
    '/bin/systemctl start app',
    '/usr/sbin/useradd app',
    './install.sh',
    'bash install.sh',
    '$DIR/init.sh',
    'bash "$SCRIPT"',
    'python3 /opt/x/setup.py',
    'bash -c "echo /opt/x.sh"',
    'cat > /opt/x.sh <<EOF\n/opt/y.sh\nEOF',
    'chroot /mnt /opt/inside.sh',
    '# /opt/commented.sh',
  ])('%s runs no script by absolute path', (text) => {
    expect(scriptPathsOf(text)).toEqual([]);
  });
});
