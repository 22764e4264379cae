// Installing what goldgate needs, shared by the test and demo commands. Plain Node (no
// dependencies), so it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Runs a command with inherited output; throws on failure unless allowed. */
export function run(argv, { allowFailure = false, env = process.env } = {}) {
  const [command, ...args] = argv;
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) throw result.error;
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`${argv.join(' ')} exited with ${result.status}`);
  }
  return result.status;
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
}

/**
 * npm ci when node_modules is missing. better-sqlite3 is compiled here, never downloaded:
 * `build-from-source` stops its prebuilt-binary fetch, and node-gyp is
 * pointed at the headers of the running Node when they are installed beside it, so that it
 * does not fetch those either.
 */
export function ensureNodeModules() {
  if (existsSync('node_modules/.package-lock.json')) return;
  const env = { ...process.env, npm_config_build_from_source: 'true' };
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
  run(['npm', 'ci', '--no-audit', '--no-fund'], { env });
}

/**
 * Installs Debian packages whose command is missing. Each entry is a package named after its
 * command (`mmdebstrap`), or `[command, package]` (`['ip', 'iproute2']`).
 */
export function ensureDebianPackages(packages) {
  const missing = packages
    .map((entry) => (Array.isArray(entry) ? entry : [entry, entry]))
    .filter(([command]) => !hasCommand(command))
    .map(([, name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing: ${missing.join(', ')}. Install them: sudo apt-get install ${missing.join(' ')}`,
    );
  }
  console.error(`installing Debian packages: ${missing.join(', ')}`);
  run(['apt-get', 'update', '-q']);
  run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
