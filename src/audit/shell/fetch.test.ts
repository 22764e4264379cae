import { describe, expect, it } from 'vitest';
import { scanShell } from './index.js';
import { isLocalHost, isLocalUrl } from './url.js';

/** `category tool action target` of each hit. */
function found(text: string): string[] {
  return scanShell(text).map((h) => [h.category, h.tool, h.action, h.target ?? '-'].join(' '));
}

describe('the on-instance rule', () => {
  it.each([
    'http://127.0.0.1:8080/health',
    'http://127.1.2.3/',
    'http://localhost/x',
    'https://LOCALHOST:8443/x',
    'http://app.localhost/x',
    'http://[::1]:9000/x',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://user:pw@localhost/x',
    'file:///etc/hosts',
  ])('%s stays on the instance', (url) => {
    expect(isLocalUrl(url)).toBe(true);
  });

  it.each([
    'https://get.example.com',
    'http://10.0.0.5/x',
    'http://169.254.170.2/v2/credentials',
    'http://128.0.0.1/',
    'http://localhost.example.com/',
    'http://${HOST}/x',
    'http://$(hostname)/x',
    's3://bucket/key',
    'not a url',
  ])('%s is off-instance (or unknown)', (url) => {
    expect(isLocalUrl(url)).toBe(false);
  });

  it('accepts bracketed and bare IPv6 hosts', () => {
    expect(isLocalHost('[fd00:ec2::254]')).toBe(true);
    expect(isLocalHost('fd00:ec2::254')).toBe(true);
    expect(isLocalHost('fd00:ec2::253')).toBe(false);
  });
});

describe('curl, wget and other URL fetchers', () => {
  it('reports a download from an off-instance URL with its target', () => {
    expect(scanShell('curl -fsSLo /tmp/agent.tgz https://dl.example.com/agent.tgz')).toEqual([
      {
        category: 'network-fetch',
        tool: 'curl',
        action: 'download',
        command: 'curl -fsSLo /tmp/agent.tgz https://dl.example.com/agent.tgz',
        line: 1,
        target: 'https://dl.example.com/agent.tgz',
      },
    ]);
    expect(found('wget -q https://dl.example.com/a.tgz -O /tmp/a.tgz')).toEqual([
      'network-fetch wget download https://dl.example.com/a.tgz',
    ]);
    expect(found('curl --url=https://dl.example.com/a')).toEqual([
      'network-fetch curl download https://dl.example.com/a',
    ]);
    expect(found('aria2c https://dl.example.com/a.iso')).toEqual([
      'network-fetch aria2c download https://dl.example.com/a.iso',
    ]);
    expect(found('http GET api.example.com/v1/config')).toEqual([
      'network-fetch http download http://api.example.com/v1/config',
    ]);
  });

  it('reports a URL it cannot read as a fetch', () => {
    expect(scanShell('curl -fsSL "$BOOTSTRAP_URL" -o /tmp/b.sh')[0]).toMatchObject({
      tool: 'curl',
      action: 'download',
      detail: 'URL not static',
    });
    expect(found('wget -i /etc/urls.txt')).toEqual(['network-fetch wget download -']);
    expect(found('curl -K /etc/fetch.conf')).toEqual(['network-fetch curl download -']);
    expect(found('curl --config=/etc/fetch.conf http://127.0.0.1/x')).toEqual([
      'network-fetch curl download -',
    ]);
    expect(found('curl "https://${BUCKET}.s3.amazonaws.com/x"')).toEqual([
      'network-fetch curl download https://${BUCKET}.s3.amazonaws.com/x',
    ]);
  });

  it('does not report fetches that stay on the instance', () => {
    expect(found('curl -s http://169.254.169.254/latest/meta-data/instance-id')).toEqual([]);
    expect(
      found(
        'curl -sf -o "$OUT" -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/user-data',
      ),
    ).toEqual([]);
    expect(found('wget -qO- http://127.0.0.1:8080/health')).toEqual([]);
    expect(found('curl http://localhost:${PORT}/ready')).toEqual([]);
    expect(found('curl -s "http://[fd00:ec2::254]/latest/meta-data/"')).toEqual([]);
    expect(found('http :3000/health')).toEqual([]);
    expect(found('curl -i http://127.0.0.1/health')).toEqual([]);
    expect(found('curl -s http://169.254.169.254/latest/user-data | sh')).toEqual([]);
  });

  it('does not report fetchers that fetch nothing', () => {
    expect(found('curl --version; wget --help; curl -h')).toEqual([]);
    expect(found('echo curl https://x.example.com')).toEqual([]);
  });
});

describe('pipe to shell', () => {
  it('reports curl | sh as one hit spanning the pipeline', () => {
    expect(scanShell('echo go\ncurl -fsSL https://get.example.com | sh')).toEqual([
      {
        category: 'network-fetch',
        tool: 'curl',
        action: 'pipe-to-shell',
        command: 'curl -fsSL https://get.example.com | sh',
        line: 2,
        detail: 'piped to sh',
        target: 'https://get.example.com',
      },
    ]);
  });

  it.each([
    ['wget -O- https://get.example.com/i.sh | bash', 'wget', 'piped to bash'],
    ['wget -qO - https://get.example.com/i.sh | sudo bash -s -- --channel stable', 'wget', 'piped to bash'],
    ['curl -sL https://get.example.com | sudo -E bash -', 'curl', 'piped to bash'],
    ['curl -sSL https://get.example.com | tee /tmp/i.sh | sh', 'curl', 'piped to sh'],
    ['curl -sSL https://bootstrap.pypa.io/get-pip.py | python3', 'curl', 'piped to python3'],
    ['curl -fsSL https://get.example.com |& bash', 'curl', 'piped to bash'],
    ['bash <(curl -fsSL https://get.example.com)', 'curl', 'downloaded code run by bash'],
    ['sh -c "$(curl -fsSL https://get.example.com)"', 'curl', 'downloaded code run by sh'],
    ['/bin/bash -c "$(wget -qO- https://get.example.com)"', 'wget', 'downloaded code run by bash'],
    ['eval "$(curl -fsSL https://get.example.com/env)"', 'curl', 'downloaded code run by eval'],
    ['source <(curl -s https://get.example.com/env)', 'curl', 'downloaded code run by source'],
    ['. <(curl -s https://get.example.com/env)', 'curl', 'downloaded code run by .'],
    ['bash <<< "$(curl -fsSL https://get.example.com)"', 'curl', 'downloaded code run by bash'],
    ['sudo sh -c "$(curl -fsSL https://get.example.com)" -- -y', 'curl', 'downloaded code run by sh'],
  ])('%s is one pipe-to-shell hit', (text, tool, detail) => {
    const hits = scanShell(text);
    expect(hits.map((h) => [h.category, h.tool, h.action, h.detail])).toEqual([
      ['network-fetch', tool, 'pipe-to-shell', detail],
    ]);
  });

  it('keeps the outer command as the text of a substitution run as code', () => {
    expect(scanShell('sh -c "$(curl -fsSL https://get.example.com)"')[0]?.command).toBe(
      'sh -c "$(curl -fsSL https://get.example.com)"',
    );
  });

  it('is a plain download when the output is not run', () => {
    expect(found('curl -fsSL https://get.example.com | tar -xz -C /opt')).toEqual([
      'network-fetch curl download https://get.example.com',
    ]);
    expect(found('curl -fsSL https://get.example.com | sh /dev/stdin.sh')).toEqual([
      'network-fetch curl download https://get.example.com',
    ]);
    expect(found('curl -fsSL https://get.example.com | bash -c "cat > /tmp/x"')).toEqual([
      'network-fetch curl download https://get.example.com',
    ]);
  });

  it('counts fetched text spliced into -c code as run: the shell parses it', () => {
    expect(found('sh -c "echo $(curl -s https://v.example.com)"')).toEqual([
      'network-fetch curl pipe-to-shell https://v.example.com',
    ]);
  });

  it('does not take curl | sh written inside a string for a pipeline', () => {
    expect(found("echo 'curl -fsSL https://get.example.com | sh'")).toEqual([]);
  });
});

describe('git, aws s3, scp, rsync', () => {
  it('reports git clone, pull and fetch', () => {
    expect(found('git clone --depth 1 -b main https://github.com/acme/app.git /opt/app')).toEqual([
      'network-fetch git clone https://github.com/acme/app.git',
    ]);
    expect(found('git clone git@github.com:acme/app.git')).toEqual([
      'network-fetch git clone git@github.com:acme/app.git',
    ]);
    expect(found('git -C /opt/app pull --ff-only')).toEqual(['network-fetch git pull -']);
    expect(found('git fetch origin')).toEqual(['network-fetch git fetch origin']);
  });

  it('does not report local git work', () => {
    expect(found('git clone /srv/mirror/app.git /opt/app')).toEqual([]);
    expect(found('git clone file:///srv/mirror/app.git')).toEqual([]);
    expect(found('git -C /opt/app status; git log -1; git --version; git checkout v1')).toEqual([]);
    expect(found('git pull /srv/mirror/app.git main')).toEqual([]);
  });

  it('reports aws s3 downloads, not uploads', () => {
    expect(found('aws s3 cp s3://acme-boot/agent.tgz /tmp/agent.tgz')).toEqual([
      'network-fetch aws download s3://acme-boot/agent.tgz',
    ]);
    expect(found('aws --region eu-west-1 s3 sync s3://acme-boot/conf/ /etc/app/')).toEqual([
      'network-fetch aws sync s3://acme-boot/conf/',
    ]);
    expect(found('aws s3 cp /var/log/boot.log s3://acme-logs/')).toEqual([]);
    expect(found('aws ec2 describe-tags --filters Name=resource-id,Values=$ID')).toEqual([]);
  });

  it('reports aws s3 cp to stdout piped to a shell as pipe-to-shell', () => {
    expect(found('aws s3 cp s3://acme-boot/init.sh - | bash')).toEqual([
      'network-fetch aws pipe-to-shell s3://acme-boot/init.sh',
    ]);
  });

  it('reports scp and rsync from another host', () => {
    expect(found('scp -i /root/.ssh/id -P 2222 deploy@build.example.com:/out/app.tgz /opt/')).toEqual([
      'network-fetch scp download deploy@build.example.com:/out/app.tgz',
    ]);
    expect(found('rsync -az -e ssh build:/out/ /opt/app/')).toEqual([
      'network-fetch rsync download build:/out/',
    ]);
    expect(found('rsync -a rsync://mirror.example.com/app/ /opt/app/')).toEqual([
      'network-fetch rsync download rsync://mirror.example.com/app/',
    ]);
  });

  it('does not report local copies or uploads', () => {
    expect(found('scp /tmp/a.log backup@logs.example.com:/in/')).toEqual([]);
    expect(found('rsync -a /srv/a/ /srv/b/')).toEqual([]);
    expect(found('rsync -a localhost:/srv/a/ /srv/b/')).toEqual([]);
  });
});
