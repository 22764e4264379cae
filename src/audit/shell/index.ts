export { scanArgv, scanShell, scanSystemdExec, scriptPathsOf, splitSystemdExec } from './scan.js';
export type { CommandCategory, CommandHit, ScanArgvOptions, ScanShellOptions } from './types.js';
