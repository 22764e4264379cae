import { UsageError } from '../core/errors.js';

const REPO_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Debian suites and codenames: bookworm, bookworm-security, stable-updates, lab.1
const SUITE_NAME = /^[a-z0-9][a-z0-9.+-]{0,62}$/;
const COMPONENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Debian policy 5.6.1: lower-case letters, digits, + - . ; at least two characters.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;

/** Throws a UsageError unless `name` is a valid repository name (`^[a-z0-9][a-z0-9-]{0,62}$`). */
export function validateRepoName(name: string): void {
  if (!REPO_NAME.test(name))
    throw new UsageError('BAD_REPO_NAME', `"${name}" is not a valid repository name`, {
      hint: 'use 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit (e.g. lab-security)',
    });
}

/** Throws a UsageError unless `suite` can name a directory under dists/ (bookworm-security). */
export function validateSuiteName(suite: string): void {
  if (!SUITE_NAME.test(suite))
    throw new UsageError('BAD_SUITE_NAME', `"${suite}" is not a valid suite name`, {
      hint: 'use lower-case letters, digits, dots, pluses and dashes (e.g. bookworm-security)',
    });
}

/** Throws a UsageError unless `component` is a valid archive component (main, contrib). */
export function validateComponentName(component: string): void {
  if (!COMPONENT_NAME.test(component))
    throw new UsageError('BAD_COMPONENT_NAME', `"${component}" is not a valid component name`, {
      hint: 'use lower-case letters, digits and dashes (e.g. main)',
    });
}

export function isValidPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

export function isValidArchitecture(arch: string): boolean {
  return ARCHITECTURE.test(arch);
}
