#!/usr/bin/env node
// `npm run bench`: builds, installs the peers (lynis, jq, aide), and runs every benchmark in bench/.
import { ensureDebianPackages, ensureNodeModules, run } from './setup-lib.mjs';

ensureNodeModules();
ensureDebianPackages(['mmdebstrap', ['ip', 'iproute2'], 'lynis', 'jq', 'aide']);
run(['npm', 'run', '--silent', 'build']);
run([process.execPath, 'bench/audit.mjs']);
run([process.execPath, 'bench/dns.mjs', '--size-mb', '1024', '--runs', '5', '--jq-runs', '1']);
run([process.execPath, 'bench/lab.mjs', '--runs', '20', '--parallel', '50']);
run([process.execPath, 'bench/drift.mjs', '--skip-build']);
run([process.execPath, 'bench/verify.mjs', '--runs', '10']);
run([process.execPath, 'bench/group.mjs', '--runs', '3', '--size', '20', '--reconcile-size', '50']);
run([process.execPath, 'bench/registry.mjs', '--runs', '10']);
run([process.execPath, 'bench/patch.mjs', '--runs', '3']);
