#!/usr/bin/env node
// `npm run bench`: builds, installs the peers (lynis), and runs every benchmark in bench/.
import { ensureDebianPackages, ensureNodeModules, run } from './setup-lib.mjs';

ensureNodeModules();
ensureDebianPackages(['mmdebstrap', 'lynis']);
run(['npm', 'run', '--silent', 'build']);
run([process.execPath, 'bench/audit.mjs', ...process.argv.slice(2)]);
