import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildDeb } from '../../repo/build-deb.js';
import { createRepo, listRepos, publish } from '../../repo/repo.js';
import type { RepoInfo } from '../../repo/repo.js';
import type { Terminal } from '../terminal.js';
import { printableDeep } from '../../core/printable.js';

interface PublishFlags {
  suite: string;
  component: string;
  origin?: string;
  label?: string;
  codename?: string;
  description?: string;
  json?: boolean;
}

function renderRepos(unsafe: readonly RepoInfo[]): string {
  const repos = printableDeep(unsafe);
  if (repos.length === 0) return 'no repositories (create one with: goldgate repo create NAME)\n';
  const lines: string[] = [];
  for (const repo of repos) {
    lines.push(`${repo.name}  ${repo.path}`);
    if (repo.suites.length === 0) lines.push('  (no suites published)');
    for (const suite of repo.suites) {
      lines.push(
        `  ${suite.suite}  origin ${suite.origin}, label ${suite.label}, codename ${suite.codename}; ${suite.components.join(' ')}; ${suite.architectures.join(' ')}`,
      );
      const width = Math.max(0, ...suite.packages.map((p) => p.name.length));
      for (const pkg of suite.packages)
        lines.push(`    ${pkg.name.padEnd(width)}  ${pkg.versions.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Publishes debs and prints what happened. */
async function publishDebs(
  name: string,
  debs: string[],
  flags: PublishFlags,
  terminal: Terminal,
): Promise<void> {
  const outcome = await publish(name, debs, {
    suite: flags.suite,
    component: flags.component,
    origin: flags.origin,
    label: flags.label,
    codename: flags.codename,
    description: flags.description,
  });
  if (flags.json === true) {
    const json = {
      repo: outcome.repo,
      published: outcome.published.map((p) => ({
        package: p.package,
        version: p.version,
        architecture: p.architecture,
        filename: p.filename,
      })),
    };
    terminal.out(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  for (const p of outcome.published) {
    terminal.out(
      `${p.added ? 'published' : 'unchanged'}  ${p.package} ${p.version} (${p.architecture})  ${p.filename}\n`,
    );
  }
  terminal.out(
    outcome.changed
      ? `suite ${flags.suite} of ${name} updated: ${outcome.repo.path}/dists/${flags.suite}/Release\n`
      : `suite ${flags.suite} of ${name} unchanged\n`,
  );
}

export function registerRepo(program: Command, terminal: Terminal, _result: { code: number }): void {
  const repo = program
    .command('repo')
    .summary('lab apt repositories: create, publish .deb files, list')
    .description(
      'Manage the lab apt repositories under $GOLDGATE_HOME/repos (default ~/.local/share/goldgate/repos). Each is a real apt archive: a pool keeping every version ever published, and per suite the Packages indexes and a Release file with checksums. An image reaches one with `deb [trusted=yes] file:///srv/repo SUITE main`. A suite published with --origin Debian --label Debian-Security --codename bookworm-security is taken by stock unattended-upgrades as a Debian security origin, which is how the lab reproduces an instance upgrading itself at boot.',
    )
    .addHelpText(
      'after',
      `
Examples:
  goldgate repo create lab
  goldgate repo publish lab --suite bookworm-security --origin Debian --label Debian-Security \\
    --codename bookworm-security acme-runtime_1.0+deb12u1_all.deb
  goldgate repo ls --json

Layout and the security-origin trick: docs/repo.md.`,
    );

  repo
    .command('create')
    .summary('create an empty repository')
    .description(
      'Create an empty repository named NAME under $GOLDGATE_HOME/repos/NAME, with an empty pool/ and dists/. Names are 1 to 63 lower-case letters, digits and dashes. A repository that exists is never overwritten (exit 2).',
    )
    .argument('<name>', 'repository name: lower-case letters, digits and dashes')
    .option('--json', 'print the repository as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  goldgate repo create lab\n  GOLDGATE_HOME=/srv/goldgate goldgate repo create lab --json',
    )
    .action(async (name: string, flags: { json?: boolean }) => {
      const info = await createRepo(name);
      if (flags.json === true) terminal.out(`${JSON.stringify({ repo: info }, null, 2)}\n`);
      else terminal.out(`created repository ${info.name} at ${info.path}\n`);
    });

  repo
    .command('publish')
    .summary('publish .deb files into a suite')
    .description(
      'Copy each .deb into the pool (pool/COMPONENT/<initial>/<source>/<package>_<version>_<arch>.deb) and rewrite the suite: dists/SUITE/COMPONENT/binary-ARCH/Packages and Packages.gz for amd64, all and every architecture present (an Architecture: all package is listed in each), and dists/SUITE/Release with MD5Sum and SHA256 of every index. Versions published before stay listed and downloadable. The suite switches atomically. Publishing a file the suite already has changes nothing; a different file for a published package, version and architecture is refused (exit 2). --origin, --label, --codename and --description default to the suite\'s current values, or goldgate, "goldgate lab", the suite name and "goldgate lab repository NAME".',
    )
    .argument('<name>', 'repository name')
    .argument(
      '<debs...>',
      '.deb files to publish, or package source trees (a directory with DEBIAN/control and the files at their in-image paths), built reproducibly with dpkg-deb first',
    )
    .requiredOption('--suite <suite>', 'suite to publish into (e.g. bookworm-security)')
    .option('--component <component>', 'archive component', 'main')
    .option('--origin <origin>', 'Release Origin (Debian for the security-origin trick)')
    .option('--label <label>', 'Release Label (Debian-Security for the security-origin trick)')
    .option('--codename <codename>', 'Release Codename (bookworm-security for the security-origin trick)')
    .option('--description <text>', 'Release Description')
    .option('--json', 'print the repository and what was published as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate repo publish lab --suite bookworm acme-runtime_1.0_all.deb
  goldgate repo publish acme --suite bookworm examples/acme/packages/acme-runtime-1.0
  goldgate repo publish lab --suite bookworm-security --origin Debian --label Debian-Security \\
    --codename bookworm-security acme-runtime_1.0+deb12u1_all.deb --json`,
    )
    .action(async (name: string, inputs: string[], flags: PublishFlags) => {
      const built = mkdtempSync(join(tmpdir(), 'goldgate-publish-'));
      const debs: string[] = [];
      try {
        for (const input of inputs)
          debs.push(
            statSync(input, { throwIfNoEntry: false })?.isDirectory() === true
              ? await buildDeb(input, built)
              : input,
          );
        await publishDebs(name, debs, flags, terminal);
      } finally {
        rmSync(built, { recursive: true, force: true });
      }
    });

  repo
    .command('ls')
    .summary('list repositories, their suites and packages')
    .description(
      'List every repository under $GOLDGATE_HOME/repos with its suites (origin, label, codename, components, architectures) and, per suite, each package with every version it lists, oldest first.',
    )
    .option('--json', 'print {"repos": [...]} as JSON')
    .addHelpText(
      'after',
      "\nExamples:\n  goldgate repo ls\n  goldgate repo ls --json | jq '.repos[].suites[].packages'",
    )
    .action(async (flags: { json?: boolean }) => {
      const repos = await listRepos();
      if (flags.json === true) terminal.out(`${JSON.stringify({ repos }, null, 2)}\n`);
      else terminal.out(renderRepos(repos));
    });
}
