import { describe, expect, it } from 'vitest';
import { judgeImage } from './image.js';
import { scanShell } from './index.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** `tool action detail` of each hit. */
function found(text: string): string[] {
  return scanShell(text).map((h) => `${h.tool} ${h.action} ${h.detail ?? '-'}`);
}

describe('judgeImage', () => {
  it.each([
    ['nginx', 'no tag (implies :latest)'],
    ['nginx:latest', 'no digest (tag :latest)'],
    ['nginx:1.25', 'no digest (tag :1.25)'],
    ['library/nginx:1.25-alpine', 'no digest (tag :1.25-alpine)'],
    ['registry.local:5000/app', 'no tag (implies :latest)'],
    ['registry.local:5000/team/app:1.2', 'no digest (tag :1.2)'],
    ['[::1]:5000/app', 'no tag (implies :latest)'],
    ['localhost:5000/app:v2', 'no digest (tag :v2)'],
    ['app@sha256:abc', 'malformed digest (sha256:abc)'],
    ['app@$DIGEST', 'digest not static'],
    ['$IMAGE', 'reference not static, no digest'],
    ['app:${TAG}', 'reference not static, no digest'],
    ['${REGISTRY}/app:1.2', 'no digest (tag :1.2)'],
  ])('%s is mutable: %s', (ref, reason) => {
    expect(judgeImage(ref, ref.includes('$'))).toEqual({ pinned: false, reason });
  });

  it.each([
    `app@${DIGEST}`,
    `app:1.2@${DIGEST}`,
    `registry.local:5000/team/app:1.2@${DIGEST}`,
    `\${REGISTRY}/app@${DIGEST}`,
  ])('%s is pinned', (ref) => {
    expect(judgeImage(ref, ref.includes('$')).pinned).toBe(true);
  });
});

describe('docker, podman, nerdctl', () => {
  it('finds the image of docker run past its options', () => {
    const text =
      'docker run -d --name x -p 80:80 -v /a:/b -e K=V --restart=always --log-opt max-size=10m ' +
      '--mount type=bind,src=/a,dst=/b --add-host db:10.0.0.2 -u 1000 -w /app --network host ' +
      '--health-cmd "curl -f localhost" --cap-add NET_ADMIN -m 512m --platform linux/amd64 ' +
      'registry.local:5000/app:1.2 serve --port 80';
    expect(scanShell(text)).toEqual([
      {
        category: 'container-mutable',
        tool: 'docker',
        action: 'run',
        command: text,
        line: 1,
        detail: 'registry.local:5000/app:1.2: no digest (tag :1.2)',
        target: 'registry.local:5000/app:1.2',
      },
    ]);
  });

  it.each([
    ['docker run -d app:latest', 'docker run app:latest: no digest (tag :latest)'],
    [
      'docker run --rm -it ubuntu bash -c "apt-get install -y x"',
      'docker run ubuntu: no tag (implies :latest)',
    ],
    ['docker run -dit -eFOO=1 -p8080:80 nginx:1.25', 'docker run nginx:1.25: no digest (tag :1.25)'],
    [
      'docker run --env-file /etc/app.env --entrypoint /bin/sh app:2 -c x',
      'docker run app:2: no digest (tag :2)',
    ],
    ['docker create --name c app:3', 'docker create app:3: no digest (tag :3)'],
    ['docker container run -d app:4', 'docker run app:4: no digest (tag :4)'],
    ['docker -H unix:///var/run/docker.sock pull redis:7', 'docker pull redis:7: no digest (tag :7)'],
    ['docker image pull redis', 'docker pull redis: no tag (implies :latest)'],
    ['podman run -d --pod web quay.io/acme/app:1.0', 'podman run quay.io/acme/app:1.0: no digest (tag :1.0)'],
    ['nerdctl -n k8s.io pull app:5', 'nerdctl pull app:5: no digest (tag :5)'],
    ['sudo docker run -d "$IMAGE"', 'docker run $IMAGE: reference not static, no digest'],
    ['docker run --pull=always app@sha256:abc', 'docker run app@sha256:abc: malformed digest (sha256:abc)'],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual([expected]);
  });

  it('reports each image of a multi-image pull', () => {
    expect(found(`podman pull app:1 db@${DIGEST} cache`)).toEqual([
      'podman pull app:1: no digest (tag :1)',
      'podman pull cache: no tag (implies :latest)',
    ]);
  });

  it.each([
    `docker run -d app@${DIGEST}`,
    `docker run --pull=always app@${DIGEST}`,
    `docker run --pull always -e X=1 registry.local:5000/app:1.2@${DIGEST} serve`,
    `docker pull app:1.2@${DIGEST}`,
    'docker ps -a',
    'docker images',
    'docker login -u u -p p registry.example.com',
    'docker exec app apt-get install -y x',
    'docker start app',
    'docker run --help',
    'docker image ls',
    'podman run --rootfs /var/lib/rootfs /bin/sh',
    'echo docker run app:latest',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('ctr and crictl', () => {
  it.each([
    [
      'ctr -n k8s.io image pull docker.io/library/nginx:1.25',
      'ctr pull docker.io/library/nginx:1.25: no digest (tag :1.25)',
    ],
    [
      'ctr images pull --platform linux/amd64 docker.io/library/redis:latest',
      'ctr pull docker.io/library/redis:latest: no digest (tag :latest)',
    ],
    ['ctr i pull docker.io/library/redis', 'ctr pull docker.io/library/redis: no tag (implies :latest)'],
    [
      'ctr run --rm -t --env K=V docker.io/library/alpine:3 box sh',
      'ctr run docker.io/library/alpine:3: no digest (tag :3)',
    ],
    [
      'ctr c create docker.io/library/alpine:3 box',
      'ctr create docker.io/library/alpine:3: no digest (tag :3)',
    ],
    [
      'crictl pull --creds u:p registry.example.com/app:9',
      'crictl pull registry.example.com/app:9: no digest (tag :9)',
    ],
    [
      'crictl -r unix:///run/containerd/containerd.sock pull app',
      'crictl pull app: no tag (implies :latest)',
    ],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual([expected]);
  });

  it.each([
    `ctr -n k8s.io image pull docker.io/library/nginx@${DIGEST}`,
    `crictl pull registry.example.com/app:9@${DIGEST}`,
    'ctr images ls',
    'ctr run --rootfs /var/lib/box box sh',
    'crictl ps',
    'crictl images',
  ])('%s is not a hit', (text) => {
    expect(found(text)).toEqual([]);
  });
});
