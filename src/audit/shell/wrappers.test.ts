import { describe, expect, it } from 'vitest';
import { scanShell } from './index.js';

/** `tool action @line` of each hit. */
function found(text: string): string[] {
  return scanShell(text).map((h) => `${h.tool} ${h.action} @${h.line}`);
}

describe('command position', () => {
  it.each([
    'DEBIAN_FRONTEND=noninteractive apt-get install -y x',
    'A=1 B="two words" C=$(date) apt-get install -y x',
    'sudo apt-get install -y x',
    'sudo -E -H -u root apt-get install -y x',
    'sudo --preserve-env=http_proxy -n apt-get install -y x',
    'sudo DEBIAN_FRONTEND=noninteractive apt-get install -y x',
    'sudo -- apt-get install -y x',
    'env apt-get install -y x',
    'env -i PATH=/usr/bin DEBIAN_FRONTEND=noninteractive apt-get install -y x',
    'env -u LANG -C / apt-get install -y x',
    'env -S "apt-get install -y x"',
    'nohup apt-get install -y x &',
    'exec apt-get install -y x',
    'exec -a installer apt-get install -y x',
    'command apt-get install -y x',
    'time apt-get install -y x',
    'time -p apt-get install -y x',
    'nice apt-get install -y x',
    'nice -n 10 apt-get install -y x',
    'nice -n10 apt-get install -y x',
    'ionice -c3 apt-get install -y x',
    'ionice -c 2 -n 7 apt-get install -y x',
    'timeout 600 apt-get install -y x',
    'timeout -k 10 --signal=TERM 10m apt-get install -y x',
    'flock /var/lock/apt apt-get install -y x',
    'flock -w 60 /var/lock/apt apt-get install -y x',
    "flock /var/lock/apt -c 'apt-get install -y x'",
    'setsid apt-get install -y x',
    'stdbuf -oL apt-get install -y x',
    'busybox apt-get install -y x',
    'sudo -E env DEBIAN_FRONTEND=noninteractive nice -n 5 timeout 300 apt-get install -y x',
    "su -c 'apt-get install -y x'",
    "su - root -c 'apt-get install -y x'",
    'runuser -u app -- apt-get install -y x',
    'doas apt-get install -y x',
    'xargs apt-get install -y < /etc/packages',
    'xargs -r -n 10 -I{} apt-get install -y {}',
    'cloud-init-per once install-x apt-get install -y x',
  ])('%s', (text) => {
    expect(found(text)).toEqual(['apt-get install @1']);
  });

  it.each([
    'sudo -l apt-get install x',
    'command -v apt-get install',
    'ionice -p 1234',
    'flock 9',
    'xargs -n1',
    'su - app',
    'sudo -R /mnt apt-get install x',
    'chroot /mnt apt-get install x',
    'nohup',
    'sudo',
    'env',
    'cloud-init-per once name',
  ])('%s runs nothing that counts', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('takes a word after a tool for an argument, not a command', () => {
    expect(found('echo sudo apt-get install x')).toEqual([]);
    expect(found('printf "%s" nohup yum install x')).toEqual([]);
    expect(found('systemctl start apt-get')).toEqual([]);
  });
});

describe('shell -c strings', () => {
  it('scans the string at the outer line', () => {
    expect(found("echo\nsh -c 'apt-get update && apt-get install -y x'")).toEqual([
      'apt-get update @2',
      'apt-get install @2',
    ]);
    expect(found('bash -c "yum install -y a"')).toEqual(['yum install @1']);
    expect(found("/bin/sh -ec 'pip install b'")).toEqual(['pip install @1']);
    expect(found("bash -euxo pipefail -c 'apk add c'")).toEqual(['apk add @1']);
    expect(found("bash -o pipefail -c 'apk add c' name arg")).toEqual(['apk add @1']);
    expect(found("sudo -u app bash -lc 'cd /srv && npm ci'")).toEqual(['npm ci @1']);
  });

  it('reports the inner command text', () => {
    expect(scanShell("sh -c 'cd /tmp; apt-get install -y x'")[0]?.command).toBe('apt-get install -y x');
  });

  it('scans a -c string that holds variables', () => {
    expect(found('bash -c "apt-get install -y $PKGS"')).toEqual(['apt-get install @1']);
  });

  it('scans nested -c strings', () => {
    expect(found(`sh -c "bash -c 'apt-get install -y x'"`)).toEqual(['apt-get install @1']);
  });

  it('does not scan the operands of a shell that runs a script', () => {
    expect(found('bash /opt/install.sh apt-get install x')).toEqual([]);
    expect(found("sh -c 'echo hi' apt-get install")).toEqual([]);
    expect(found('python3 -c \'import os; os.system("apt-get install x")\'')).toEqual([]);
  });

  it('scans eval strings', () => {
    expect(found("eval 'apt-get install -y x'")).toEqual(['apt-get install @1']);
    expect(found('eval apt-get install -y x')).toEqual(['apt-get install @1']);
  });
});
