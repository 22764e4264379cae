import { describe, expect, it } from 'vitest';
import { scanShell } from './index.js';

/** `category tool action` of each hit. */
function found(text: string): string[] {
  return scanShell(text).map((h) => `${h.category} ${h.tool} ${h.action}`);
}

describe('apt-get, apt, aptitude', () => {
  it.each([
    ['apt-get install -y nginx', 'apt-get install'],
    ['apt-get -y -q install nginx', 'apt-get install'],
    ['apt-get -o Dpkg::Options::=--force-confold upgrade', 'apt-get upgrade'],
    [
      'apt-get -o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" dist-upgrade -y',
      'apt-get dist-upgrade',
    ],
    ['apt-get -qq -oAPT::Get::Assume-Yes=true full-upgrade', 'apt-get full-upgrade'],
    ['apt-get -t bookworm-backports install x', 'apt-get install'],
    ['apt-get install ./agent_1.2_amd64.deb', 'apt-get install'],
    ['apt-get reinstall openssl', 'apt-get reinstall'],
    ['apt-get build-dep foo', 'apt-get build-dep'],
    ['apt install -y curl', 'apt install'],
    ['apt full-upgrade', 'apt full-upgrade'],
    ['aptitude safe-upgrade -y', 'aptitude safe-upgrade'],
    ['/usr/bin/apt-get install x', 'apt-get install'],
  ])('%s installs', (text, what) => {
    expect(found(text)).toEqual([`package-install ${what}`]);
  });

  it('reports an index update as a network fetch, not an install', () => {
    expect(found('apt-get update')).toEqual(['network-fetch apt-get update']);
    expect(found('apt-get -qq update')).toEqual(['network-fetch apt-get update']);
    expect(found('apt update -y')).toEqual(['network-fetch apt update']);
  });

  it('reports a download-only install and apt-get download as a download', () => {
    expect(found('apt-get install --download-only nginx')).toEqual(['network-fetch apt-get download']);
    expect(found('apt-get -yd install nginx')).toEqual(['network-fetch apt-get download']);
    expect(found('apt-get download nginx')).toEqual(['network-fetch apt-get download']);
  });

  it.each([
    'apt-cache policy nginx',
    'apt-get --help',
    'apt-get install --help',
    'apt-get -s upgrade',
    'apt-get install --dry-run nginx',
    'apt-get remove -y nginx',
    'apt-get clean',
    'apt list --upgradable',
    'apt-mark hold nginx',
    'man apt-get',
    'grep apt-get /var/log/cloud-init.log',
    'which apt-get',
    'apt-get',
    'echo apt-get install x',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('unattended-upgrade, dpkg, rpm', () => {
  it('reports unattended upgrades run directly', () => {
    expect(found('unattended-upgrade -d')).toEqual(['package-install unattended-upgrade upgrade']);
    expect(found('/usr/bin/unattended-upgrades')).toEqual(['package-install unattended-upgrades upgrade']);
    expect(found('unattended-upgrade --dry-run')).toEqual(['network-fetch unattended-upgrade download']);
    expect(found('unattended-upgrade --help')).toEqual([]);
    expect(found('systemctl disable unattended-upgrades')).toEqual([]);
  });

  it('reports dpkg -i of a downloaded file', () => {
    expect(found('curl -fsSLo /tmp/a.deb https://dl.example.com/a.deb && dpkg -i /tmp/a.deb')).toEqual([
      'network-fetch curl download',
      'package-install dpkg install',
    ]);
    expect(found('dpkg --install a.deb')).toEqual(['package-install dpkg install']);
    expect(found('dpkg --force-confold -iR /tmp/debs')).toEqual(['package-install dpkg install']);
  });

  it('does not report dpkg queries', () => {
    expect(found('dpkg -l')).toEqual([]);
    expect(found('dpkg -s nginx; dpkg -L nginx; dpkg --get-selections; dpkg-query -W')).toEqual([]);
    expect(found('dpkg --dry-run -i a.deb')).toEqual([]);
  });

  it('reports rpm installs and upgrades, not queries', () => {
    expect(found('rpm -ivh https://dl.example.com/a.rpm')).toEqual(['package-install rpm install']);
    expect(found('rpm -Uvh a.rpm')).toEqual(['package-install rpm upgrade']);
    expect(found('rpm -qa; rpm -qi kernel; rpm --import key.asc; rpm -e x')).toEqual([]);
    expect(found('rpm -ivh --test a.rpm')).toEqual([]);
  });
});

describe('yum, dnf, microdnf, tdnf, zypper', () => {
  it.each([
    ['yum install -y httpd', 'yum install'],
    ['yum -y update', 'yum update'],
    ['yum --enablerepo epel install -y x', 'yum install'],
    ['dnf -y upgrade', 'dnf upgrade'],
    ['dnf --setopt=install_weak_deps=False install -y x', 'dnf install'],
    ['dnf distro-sync', 'dnf distro-sync'],
    ['dnf up', 'dnf upgrade'],
    ['dnf in -y x', 'dnf install'],
    ['dnf group install -y "Development Tools"', 'dnf group install'],
    ['dnf module install -y nodejs:18', 'dnf module install'],
    ['microdnf install -y jq', 'microdnf install'],
    ['tdnf install -y x', 'tdnf install'],
    ['zypper --non-interactive install x', 'zypper install'],
    ['zypper -n in x', 'zypper install'],
    ['zypper up', 'zypper update'],
    ['zypper dup', 'zypper dist-upgrade'],
  ])('%s installs', (text, what) => {
    expect(found(text)).toEqual([`package-install ${what}`]);
  });

  it('reports repository queries that fetch metadata as network fetches', () => {
    expect(found('dnf check-update')).toEqual(['network-fetch dnf check-update']);
    expect(found('yum makecache')).toEqual(['network-fetch yum makecache']);
    expect(found('zypper refresh')).toEqual(['network-fetch zypper refresh']);
    expect(found('dnf install --downloadonly x')).toEqual(['network-fetch dnf download']);
  });

  it.each([
    'yum list updates',
    'yum list installed',
    'dnf info kernel',
    'dnf repolist',
    'yum remove x',
    'dnf group list',
    'dnf module enable nodejs:18',
    'dnf install --assumeno x',
    'yum --help',
    'zypper search x',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('apk', () => {
  it('reports installs and index updates', () => {
    expect(found('apk add --no-cache curl')).toEqual(['package-install apk add']);
    expect(found('apk --update add curl')).toEqual(['package-install apk add']);
    expect(found('apk upgrade')).toEqual(['package-install apk upgrade']);
    expect(found('apk update')).toEqual(['network-fetch apk update']);
  });

  it('does not report queries or simulations', () => {
    expect(found('apk info; apk del x; apk search x; apk add --simulate x')).toEqual([]);
  });
});

describe('pip', () => {
  it.each([
    'pip install flask',
    'pip3 install --user flask',
    'pip3.11 install flask',
    'python -m pip install flask',
    'python3 -m pip install -U pip',
    'python3 -u -m pip install x',
    '/usr/bin/python3 -mpip install x',
    'pip install -r requirements.txt --require-hashes',
    'pip install --no-index --find-links /opt/wheels app',
    'pip --proxy http://proxy:3128 install x',
  ])('%s installs', (text) => {
    expect(found(text)).toEqual(['package-install pip install']);
  });

  it('reports pip download as a network fetch', () => {
    expect(found('pip download -d /tmp/w flask')).toEqual(['network-fetch pip download']);
    expect(found('pip install --dry-run flask')).toEqual(['network-fetch pip download']);
  });

  it.each([
    'pip list',
    'pip freeze > /tmp/r.txt',
    'pip show flask',
    'pip uninstall -y x',
    'pip --version',
    'pip install --help',
    'python3 -m venv /opt/v',
    'python3 -m http.server',
    'python3 setup.py install',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('npm, yarn, pnpm', () => {
  it.each([
    ['npm install', 'npm install'],
    ['npm i -g pm2', 'npm install'],
    ['npm add lodash', 'npm install'],
    ['npm ci --omit=dev', 'npm ci'],
    ['npm --prefix /srv/app install', 'npm install'],
    ['npm update', 'npm update'],
    ['yarn', 'yarn install'],
    ['yarn --frozen-lockfile', 'yarn install'],
    ['yarn install --production', 'yarn install'],
    ['yarn add left-pad', 'yarn add'],
    ['yarn global add pm2', 'yarn add'],
    ['yarn --cwd /srv/app install', 'yarn install'],
    ['pnpm install --frozen-lockfile', 'pnpm install'],
    ['pnpm -C /srv/app i', 'pnpm install'],
    ['pnpm add x', 'pnpm add'],
  ])('%s installs', (text, what) => {
    expect(found(text)).toEqual([`package-install ${what}`]);
  });

  it.each([
    'npm run build',
    'npm start',
    'npm test',
    'npm --version',
    'npm ls',
    'npm run install',
    'yarn build',
    'yarn run start',
    'pnpm run build',
    'pnpm build',
    'npx tsc',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('gem, snap, amazon-linux-extras', () => {
  it('reports installs and updates', () => {
    expect(found('gem install bundler -v 2.4.0')).toEqual(['package-install gem install']);
    expect(found('gem update --system')).toEqual(['package-install gem update']);
    expect(found('snap install core')).toEqual(['package-install snap install']);
    expect(found('snap refresh')).toEqual(['package-install snap refresh']);
    expect(found('amazon-linux-extras install -y nginx1')).toEqual([
      'package-install amazon-linux-extras install',
    ]);
  });

  it('does not report queries or holds', () => {
    expect(found('gem list; gem env; snap list; snap info core')).toEqual([]);
    expect(found('snap refresh --hold')).toEqual([]);
    expect(found('snap refresh --hold=forever firefox')).toEqual([]);
    expect(found('amazon-linux-extras enable nginx1')).toEqual([]);
  });
});

describe('what a static scan cannot see', () => {
  it('does not resolve a package manager held in a variable', () => {
    expect(found('PKG_MGR=apt-get\n$PKG_MGR install -y x')).toEqual([]);
    expect(found('"${PM}" install x')).toEqual([]);
  });

  it('does not follow chroot into another root', () => {
    expect(found('chroot /mnt/target apt-get install -y x')).toEqual([]);
  });
});
