import { describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { cronJobs, parseCrontab } from './cron.js';

const DEBIAN_CRONTAB = `# /etc/crontab: system-wide crontab
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

# Example of job definition:
# m h dom mon dow user  command
17 *    * * *   root    cd / && run-parts --report /etc/cron.hourly
25 6    * * *   root    test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }
`;

describe('crontabs', () => {
  it("reads Debian's /etc/crontab: each job with its user, its command as written and the variables above it", () => {
    const jobs = parseCrontab(DEBIAN_CRONTAB, '/etc/crontab', null);
    expect(jobs).toEqual([
      {
        source: '/etc/crontab:7',
        user: 'root',
        command: 'cd / && run-parts --report /etc/cron.hourly',
        env: { SHELL: '/bin/sh', PATH: '/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin' },
      },
      expect.objectContaining({
        source: '/etc/crontab:8',
        command: 'test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }',
      }),
    ]);
  });

  it('takes @daily and friends, leaves @reboot (it ran at boot), cuts the command at an unescaped %', () => {
    const jobs = parseCrontab(
      [
        '@reboot root /usr/local/bin/at-boot',
        '@daily  root   apt-get -qy upgrade',
        'MAILTO="ops@example.com"',
        '0 3 * * * www-data date +\\%F > /srv/stamp',
        '0 4 * * * root mail -s report ops%body of the mail',
        '0 5 * * * Bad! true',
        '* * * *',
      ].join('\n'),
      '/etc/cron.d/jobs',
      null,
    );
    expect(jobs.map((j) => [j.user, j.command, j.env.MAILTO ?? null])).toEqual([
      ['root', 'apt-get -qy upgrade', null],
      ['www-data', 'date +\\%F > /srv/stamp', 'ops@example.com'],
      ['root', 'mail -s report ops', 'ops@example.com'],
    ]);
  });

  it("reads a user's own crontab without a user field", () => {
    expect(
      parseCrontab('*/5 * * * * /home/app/bin/sync --all\n', '/var/spool/cron/crontabs/app', 'app'),
    ).toEqual([
      { source: '/var/spool/cron/crontabs/app:1', user: 'app', command: '/home/app/bin/sync --all', env: {} },
    ]);
  });

  it('finds the jobs of an image as cron would: /etc/crontab, valid /etc/cron.d names, user crontabs; never a link out', () => {
    const root = makeTree({
      '/etc/crontab': DEBIAN_CRONTAB,
      '/etc/cron.d/refresh-motd': '0 * * * * root date > /etc/motd\n',
      '/etc/cron.d/ignored.dpkg-old': '0 * * * * root echo never\n',
      '/etc/cron.d/outside': { link: '/etc/shadow' },
      '/var/spool/cron/crontabs/app': '0 1 * * * /usr/bin/app-sync\n',
    });
    expect(cronJobs(root).map((j) => `${j.source} ${j.user}`)).toEqual([
      '/etc/crontab:7 root',
      '/etc/crontab:8 root',
      '/etc/cron.d/refresh-motd:1 root',
      '/var/spool/cron/crontabs/app:1 app',
    ]);
  });
});
