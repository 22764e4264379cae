import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ManifestProblem } from '../types.js';
import { MAX_GUNZIP_BYTES, includeUrls, parseUserData, typeFromStartsWith } from './user-data.js';

const PATH = '/var/lib/cloud/seed/nocloud/user-data';

function parse(data: string | Buffer) {
  const problems: ManifestProblem[] = [];
  const result = parseUserData(typeof data === 'string' ? Buffer.from(data) : data, PATH, problems);
  return { ...result, problems };
}

describe('parseUserData', () => {
  it('gunzips a gzip-compressed blob; its lines are all cited as line 1', () => {
    const script = '#!/bin/bash\napt-get -y upgrade\n';
    expect(parse(gzipSync(script))).toEqual({
      gzip: true,
      problems: [],
      parts: [
        {
          type: 'shell',
          contentType: 'text/x-shellscript',
          startLine: 1,
          encoded: true,
          jinja: false,
          text: script,
        },
      ],
    });
    const config = parse(gzipSync('#cloud-config\n\npackage_upgrade: true\n'));
    expect(config.parts[0]?.settings).toEqual([
      { key: 'package_upgrade', value: true, source: { path: PATH, line: 1 } },
    ]);
  });

  it('refuses to inflate past the output bound', () => {
    const bomb = gzipSync(Buffer.alloc(MAX_GUNZIP_BYTES + 1, 0x61));
    const result = parse(bomb);
    expect(result.parts).toEqual([]);
    expect(result.problems).toEqual([
      {
        path: PATH,
        line: 1,
        reason: expect.stringMatching(/^cannot decompress gzip user-data: /) as unknown as string,
      },
    ]);
  });

  it('splits MIME multipart: a base64 shell part and a cloud-config part', () => {
    const script = '#!/bin/sh\ncurl -fsSL https://get.example.com | sh\n';
    const text = [
      'Content-Type: multipart/mixed; boundary="===============4021741958916343843=="',
      'MIME-Version: 1.0',
      '',
      '--===============4021741958916343843==',
      'Content-Type: text/x-shellscript; charset="us-ascii"',
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="setup.sh"',
      '',
      Buffer.from(script).toString('base64'),
      '',
      '--===============4021741958916343843==',
      'Content-Type: text/cloud-config; charset="us-ascii"',
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: 7bit',
      'Content-Disposition: attachment; filename="config.yaml"',
      '',
      '#cloud-config',
      'package_upgrade: true',
      'packages:',
      '  - curl',
      '',
      '--===============4021741958916343843==--',
      '',
    ].join('\n');
    expect(parse(text)).toEqual({
      gzip: false,
      problems: [],
      parts: [
        {
          type: 'shell',
          contentType: 'text/x-shellscript',
          startLine: 5,
          encoded: true,
          jinja: false,
          text: script,
        },
        {
          type: 'cloud-config',
          contentType: 'text/cloud-config',
          startLine: 18,
          encoded: false,
          jinja: false,
          config: { package_upgrade: true, packages: ['curl'] },
          settings: [
            { key: 'package_upgrade', value: true, source: { path: PATH, line: 19 } },
            { key: 'packages', value: ['curl'], source: { path: PATH, line: 20 } },
          ],
        },
      ],
    });
  });

  it('routes text/plain parts by content and gunzips application/x-gzip parts (CRLF lines)', () => {
    const gz = gzipSync('#cloud-config\nrepo_upgrade: all\n').toString('base64');
    const text = [
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=XYZ',
      '',
      'This is a multi-part message in MIME format.',
      '--XYZ',
      'Content-Type: text/plain',
      '',
      '#!/bin/bash',
      'yum -y update',
      '--XYZ',
      'Content-Type: application/x-gzip',
      'Content-Transfer-Encoding: base64',
      '',
      gz,
      '--XYZ--',
    ].join('\r\n');
    const result = parse(text);
    expect(result.problems).toEqual([]);
    expect(result.parts).toEqual([
      {
        type: 'shell',
        contentType: 'text/x-shellscript',
        startLine: 8,
        encoded: false,
        jinja: false,
        text: '#!/bin/bash\nyum -y update',
      },
      {
        type: 'cloud-config',
        contentType: 'text/cloud-config',
        startLine: 11,
        encoded: true,
        jinja: false,
        config: { repo_upgrade: 'all' },
        settings: [{ key: 'repo_upgrade', value: 'all', source: { path: PATH, line: 11 } }],
      },
    ]);
  });

  it('does not treat a multipart look-alike without MIME-Version as MIME (as cloud-init)', () => {
    const result = parse(
      'Content-Type: multipart/mixed; boundary=XYZ\n\n--XYZ\n#cloud-config\npackage_upgrade: true\n--XYZ--\n',
    );
    expect(result.parts).toEqual([
      { type: 'unknown', contentType: 'text/x-not-multipart', startLine: 1, encoded: false, jinja: false },
    ]);
  });

  it('lists the URLs of an #include part (fetched at boot)', () => {
    const result = parse(
      '#include\nhttps://config.example.com/bootstrap.yaml\n# a comment\n\nhttps://config.example.com/extra.sh\n',
    );
    expect(result.parts).toEqual([
      {
        type: 'include',
        contentType: 'text/x-include-url',
        startLine: 1,
        encoded: false,
        jinja: false,
        text: 'https://config.example.com/bootstrap.yaml\nhttps://config.example.com/extra.sh',
        urls: ['https://config.example.com/bootstrap.yaml', 'https://config.example.com/extra.sh'],
      },
    ]);
    expect(includeUrls('#include-once https://a.example/x\n')).toEqual(['https://a.example/x']);
  });

  it('reads a jinja template as the cloud-config under its header', () => {
    const result = parse(
      '## template: jinja\n#cloud-config\npackage_upgrade: true\nruncmd:\n  - echo {{ v1.instance_id }}\n',
    );
    expect(result.parts).toEqual([
      {
        type: 'cloud-config',
        contentType: 'text/cloud-config',
        startLine: 2,
        encoded: false,
        jinja: true,
        config: { package_upgrade: true, runcmd: ['echo {{ v1.instance_id }}'] },
        settings: [
          { key: 'package_upgrade', value: true, source: { path: PATH, line: 3 } },
          { key: 'runcmd', value: ['echo {{ v1.instance_id }}'], source: { path: PATH, line: 4 } },
        ],
      },
    ]);
  });

  it('explodes a cloud-config-archive', () => {
    const result = parse(
      '#cloud-config-archive\n- type: text/cloud-config\n  content: |\n    package_upgrade: true\n- content: "#!/bin/sh\\necho hi\\n"\n- type: text/x-include-url\n  content: https://x.example/y\n',
    );
    expect(result.parts).toEqual([
      {
        type: 'cloud-config',
        contentType: 'text/cloud-config',
        startLine: 2,
        encoded: true,
        jinja: false,
        config: { package_upgrade: true },
        settings: [{ key: 'package_upgrade', value: true, source: { path: PATH, line: 2 } }],
      },
      {
        type: 'shell',
        contentType: 'text/x-shellscript',
        startLine: 5,
        encoded: true,
        jinja: false,
        text: '#!/bin/sh\necho hi\n',
      },
      { type: 'unknown', contentType: 'text/x-include-url', startLine: 6, encoded: true, jinja: false },
    ]);
  });

  it('reports a cloud-config that is not valid YAML with its file line, and keeps going', () => {
    const result = parse('#cloud-config\npackage_upgrade: true\nruncmd: [ls\nbootcmd: []\n');
    expect(result.parts).toEqual([
      {
        type: 'cloud-config',
        contentType: 'text/cloud-config',
        startLine: 1,
        encoded: false,
        jinja: false,
        config: {},
        settings: [],
      },
    ]);
    expect(result.problems).toEqual([
      {
        path: PATH,
        line: 4,
        reason: expect.stringMatching(/^cloud-config is not valid YAML: /) as unknown as string,
      },
    ]);
  });

  it('leaves YAML without a #cloud-config header unhandled, as cloud-init does', () => {
    expect(parse('package_upgrade: true\n').parts).toEqual([
      { type: 'unknown', contentType: 'text/x-not-multipart', startLine: 1, encoded: false, jinja: false },
    ]);
  });
});

describe('typeFromStartsWith', () => {
  it.each([
    ['#cloud-config\n', 'text/cloud-config'],
    ['  #Cloud-Config\n', 'text/cloud-config'],
    ['#cloud-config-archive\n', 'text/cloud-config-archive'],
    ['#include-once\n', 'text/x-include-once-url'],
    ['#cloud-boothook\n', 'text/cloud-boothook'],
    ['#!/usr/bin/env python3\n', 'text/x-shellscript'],
    ['## template: jinja\n', 'text/jinja2'],
    ['packages: [a]\n', undefined],
  ])('%j -> %s', (payload, expected) => {
    expect(typeFromStartsWith(payload)).toBe(expected);
  });
});
