import { z } from 'zod';
import { DURATION_UNITS, parseDuration } from '../core/duration.js';

/**
 * The image spec: the YAML file a user writes to describe a golden image (docs/spec.md).
 *
 * The schema is strict (an unknown key is an error) and knows nothing about files: local
 * paths (`debs`, `files[].source`, `userData.file`) come out as written. `loadSpec`
 * resolves them against the spec's directory and checks that they exist.
 */

export const VARIANTS = ['minbase', 'essential', 'apt', 'required', 'important', 'standard'] as const;
export type Variant = (typeof VARIANTS)[number];

export const AUTO_UPDATES = ['disabled', 'enabled'] as const;
export type AutoUpdates = (typeof AUTO_UPDATES)[number];

const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** As `checkChannelName` in src/registry/channels.ts (a test ties the two). */
const CHANNEL_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SUITE = /^[a-z][a-z0-9-]*$/;
/** Suites of a foreign repository may be paths (`stable/updates`) or flat (`./`). */
const REPO_SUITE = /^[A-Za-z0-9./][A-Za-z0-9._/-]*$/;
const COMPONENT = /^[a-z0-9][a-z0-9._/-]*$/;
const LAB_REPO = /^[a-z0-9][a-z0-9._-]*$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;
const URL_SCHEMES = /^(https?|file):\/\/[^\s]+$/;
const UNIT = /^[A-Za-z0-9:_.\\@-]+$/;
const UNIT_SUFFIX = /\.(service|socket|timer|path|mount|automount|swap|target|device|slice|scope)$/;
const OWNER = /^([a-z_][a-z0-9_-]*\$?|[0-9]+):([a-z_][a-z0-9_-]*\$?|[0-9]+)$/;
const OCTAL_MODE = /^(0o|0)?[0-7]{1,4}$/;
const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A strict object: unknown keys are `unrecognized_keys` issues (the loader adds "did you mean"). */
const strict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

const text = (what: string) => z.string().min(1, { error: `must be a non-empty ${what}` });
const matching = (pattern: RegExp, message: string) => z.string().regex(pattern, { error: message });

function imagePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path (start with /)';
  if (path.split('/').includes('..')) return 'must not contain ".." segments';
  if (path === '/' || path.endsWith('/')) return 'must name a file, not a directory';
  if (path.includes('\0')) return 'must not contain a NUL character';
  return undefined;
}

/** An absolute path inside the image. */
const imagePath = z.string().superRefine((path, ctx) => {
  const message = imagePathProblem(path);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message });
});

/** A path on the machine that runs goldgate; relative to the spec's directory. */
const localPath = text('path').refine((p) => !p.includes('\0'), {
  error: 'must not contain a NUL character',
});

const unitName = matching(UNIT, 'must be a systemd unit name (e.g. acme-httpd.service)').transform((name) =>
  UNIT_SUFFIX.test(name) ? name : `${name}.service`,
);

const port = z
  .number()
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be between 1 and 65535' })
  .max(65535, { error: 'must be between 1 and 65535' });
const timeoutMs = z
  .number()
  .int({ error: 'must be a whole number of milliseconds' })
  .min(1, { error: 'must be at least 1 (milliseconds)' })
  .max(3_600_000, { error: 'must be at most 3600000 (one hour)' });

/** `0644`, `"0644"`, `644`, `0o644` or a number (the mode's value, e.g. 420); normalised to "0644". */
const mode = z
  .union([z.string(), z.number()], { error: 'must be an octal mode such as "0644"' })
  .transform((value, ctx) => {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (OCTAL_MODE.test(value)) n = Number.parseInt(value.replace(/^0o/, ''), 8);
    else n = Number.NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0o7777) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an octal mode between 0000 and 7777, such as "0644"',
      });
      return z.NEVER;
    }
    return n.toString(8).padStart(4, '0');
  });

const SUITE_OR_FROM = 'give suite (a Debian suite) or from (an image id or a root filesystem directory)';

/** `{ suite, variant, mirror }` (bootstrapped by mmdebstrap) or `{ from }` (a copy of an image or root filesystem). */
const Base = strict({
  suite: matching(SUITE, 'must be a Debian suite name such as bookworm').optional(),
  variant: z.enum(VARIANTS).optional(),
  mirror: matching(URL_SCHEMES, 'must be an http://, https:// or file:// URL').optional(),
  from: text('image id or root filesystem directory')
    .refine((p) => !p.includes('\0'), { error: 'must not contain a NUL character' })
    .optional(),
})
  .superRefine(
    (base, ctx) => {
      if (typeof base !== 'object' || base === null) return;
      if (base.from !== undefined) {
        if (base.suite !== undefined)
          ctx.addIssue({ code: 'custom', path: ['from'], message: `${SUITE_OR_FROM}, not both` });
        for (const key of ['variant', 'mirror'] as const)
          if (base[key] !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: 'applies to a suite base only (from copies a root filesystem as it is)',
            });
      } else if (base.suite === undefined) {
        // With variant or mirror written, the suite is what is missing.
        if (base.variant !== undefined || base.mirror !== undefined)
          ctx.addIssue({ code: 'custom', path: ['suite'], message: 'is required' });
        else ctx.addIssue({ code: 'custom', message: SUITE_OR_FROM });
      }
    },
    { when: () => true },
  )
  .transform((base): SuiteBase | { from: string } =>
    base.from !== undefined
      ? { from: base.from }
      : {
          suite: base.suite ?? '',
          variant: base.variant ?? 'minbase',
          ...(base.mirror === undefined ? {} : { mirror: base.mirror }),
        },
  );

const FileEntry = strict({
  path: imagePath,
  content: z.string().optional(),
  source: localPath.optional(),
  mode: mode.optional(),
  owner: matching(OWNER, 'must be user:group, such as root:root').optional(),
})
  .superRefine(
    (file, ctx) => {
      if (typeof file !== 'object' || file === null) return;
      const hasContent = file.content !== undefined;
      const hasSource = file.source !== undefined;
      if (hasContent && hasSource)
        ctx.addIssue({ code: 'custom', path: ['source'], message: 'give content or source, not both' });
      else if (!hasContent && !hasSource)
        ctx.addIssue({ code: 'custom', message: 'give the file content or a source file' });
    },
    { when: () => true },
  )
  .transform((file) => ({ ...file, mode: file.mode ?? '0644', owner: file.owner ?? 'root:root' }));

const RepositoryEntry = strict({
  lab: matching(LAB_REPO, 'must be a lab repository name such as acme').optional(),
  uri: matching(URL_SCHEMES, 'must be an http://, https:// or file:// URL').optional(),
  suites: z
    .array(matching(REPO_SUITE, 'must be a suite name such as bookworm-security'))
    .min(1, { error: 'must list at least one suite' }),
  components: z
    .array(matching(COMPONENT, 'must be a component name such as main'))
    .min(1, { error: 'must list at least one component' })
    .optional(),
  trusted: z.boolean().optional(),
  signedBy: imagePath.optional(),
})
  .superRefine(
    (repo, ctx) => {
      if (typeof repo !== 'object' || repo === null) return;
      if (repo.lab !== undefined && repo.uri !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['uri'], message: 'give lab or uri, not both' });
        return;
      }
      if (repo.lab === undefined && repo.uri === undefined) {
        ctx.addIssue({ code: 'custom', message: 'give lab (a lab repository name) or uri (a URL)' });
        return;
      }
      if (repo.lab !== undefined && repo.signedBy !== undefined)
        ctx.addIssue({ code: 'custom', path: ['signedBy'], message: 'applies to uri repositories only' });
      if (repo.uri !== undefined && repo.trusted !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['trusted'],
          message: 'applies to lab repositories only (use signedBy)',
        });
      if (repo.uri !== undefined && repo.components === undefined)
        ctx.addIssue({ code: 'custom', path: ['components'], message: 'is required for a uri repository' });
    },
    { when: () => true },
  )
  .transform((repo): Repository => {
    if (repo.lab !== undefined)
      return {
        lab: repo.lab,
        suites: repo.suites,
        components: repo.components ?? ['main'],
        trusted: repo.trusted ?? true,
      };
    return {
      uri: repo.uri ?? '',
      suites: repo.suites,
      components: repo.components ?? [],
      ...(repo.signedBy === undefined ? {} : { signedBy: repo.signedBy }),
    };
  });

const Services = strict({
  enable: z.array(unitName).default([]),
  disable: z.array(unitName).default([]),
  mask: z.array(unitName).default([]),
}).superRefine((services, ctx) => {
  const seen = new Map<string, string>();
  for (const list of ['enable', 'disable', 'mask'] as const) {
    services[list].forEach((unit, index) => {
      const first = seen.get(unit);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [list, index],
          message: `${unit} is already listed in ${first}`,
        });
      else seen.set(unit, list);
    });
  }
});

const HttpCheck = strict({
  port,
  path: z.string().startsWith('/', { error: 'must start with /' }),
  expect: z
    .number()
    .int({ error: 'must be an HTTP status code' })
    .min(100, { error: 'must be an HTTP status code (100-599)' })
    .max(599, { error: 'must be an HTTP status code (100-599)' })
    .default(200),
  timeoutMs: timeoutMs.optional(),
});
const CommandCheck = strict({
  argv: z.array(text('argument')).min(1, { error: 'must have at least the program to run' }),
  expectExit: z
    .number()
    .int({ error: 'must be an exit status' })
    .min(0, { error: 'must be an exit status (0-255)' })
    .max(255, { error: 'must be an exit status (0-255)' })
    .default(0),
  timeoutMs: timeoutMs.optional(),
});
const UnitCheck = strict({ name: unitName });

const HealthEntry = strict({
  name: text('name').optional(),
  http: HttpCheck.optional(),
  command: CommandCheck.optional(),
  unit: UnitCheck.optional(),
})
  .superRefine(
    (check, ctx) => {
      if (typeof check !== 'object' || check === null) return;
      const kinds = (['http', 'command', 'unit'] as const).filter((kind) => kind in check);
      if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: 'give one of http, command or unit' });
      else if (kinds.length > 1)
        ctx.addIssue({
          code: 'custom',
          path: [kinds[1] ?? 'unit'],
          message: `give one of http, command or unit, not ${kinds.join(' and ')}`,
        });
    },
    { when: () => true },
  )
  .transform((check): HealthCheck => {
    if (check.http !== undefined)
      return { name: check.name ?? `http :${check.http.port}${check.http.path}`, http: check.http };
    if (check.command !== undefined)
      return { name: check.name ?? `command ${check.command.argv.join(' ')}`, command: check.command };
    const unit = check.unit ?? { name: '' };
    return { name: check.name ?? `unit ${unit.name}`, unit };
  });

export const PATCH_INCLUDE = ['security', 'all'] as const;
export type PatchInclude = (typeof PATCH_INCLUDE)[number];

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const MAX_MIN_AGE_MS = 3650 * DURATION_UNITS.d;

/** `0`, `12h`, `2d`, `1w` (a bare number is days), kept as written; at most ten years. */
const minAge = z
  .union([z.string(), z.number()], { error: 'must be a duration such as 0, 12h, 2d or 1w' })
  .transform((value, ctx) => {
    const text = String(value).trim();
    const ms = parseDuration(text);
    if (ms === undefined || ms > MAX_MIN_AGE_MS) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be a duration such as 0, 12h, 2d or 1w (m minutes, h hours, d days, w weeks; at most 3650d)',
      });
      return z.NEVER;
    }
    return text;
  });

const packageNames = z.array(matching(PACKAGE_NAME, 'must be a Debian package name (no version)'));

/** What `goldgate patch` may take (docs/gate.md, Patch policy). */
const PatchPolicySchema = strict({
  include: z.enum(PATCH_INCLUDE).default('security'),
  minAge: minAge.default('0'),
  hold: packageNames.default([]),
  allow: packageNames.default([]),
});

const UserData = z.union([z.string(), strict({ file: localPath })], {
  error: 'must be the user-data text or { file: path }',
});

/** The schema of an image spec as written: strict, with defaults applied, local paths as written. */
export const ImageSpecSchema = strict({
  name: matching(
    IMAGE_NAME,
    'must be lower-case letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit',
  ),
  base: Base,
  packages: z.array(matching(PACKAGE, 'must be a Debian package name, optionally name=version')).default([]),
  debs: z.array(localPath.refine((p) => p.endsWith('.deb'), { error: 'must be a .deb file' })).default([]),
  files: z.array(FileEntry).default([]),
  repositories: z.array(RepositoryEntry).default([]),
  services: Services.default({ enable: [], disable: [], mask: [] }),
  autoUpdates: z.enum(AUTO_UPDATES).default('disabled'),
  health: z.array(HealthEntry).default([]),
  userData: UserData.optional(),
  dnsAllow: z
    .array(
      z
        .string()
        .transform((d) => d.toLowerCase().replace(/\.$/, ''))
        .refine((d) => DOMAIN.test(d), {
          error: 'must be a domain (deb.distro-mirror.example) or *.suffix (*.distro-mirror.example)',
        }),
    )
    .optional(),
  channels: z
    .array(
      matching(
        CHANNEL_NAME,
        'must be a channel name: lowercase letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit',
      ),
    )
    .optional(),
  patch: PatchPolicySchema.optional(),
}).superRefine((spec, ctx) => {
  const names = new Map<string, number>();
  spec.packages.forEach((entry, index) => {
    const name = entry.split('=')[0] ?? entry;
    if (names.has(name))
      ctx.addIssue({ code: 'custom', path: ['packages', index], message: `${name} is listed twice` });
    names.set(name, index);
  });
  const paths = new Set<string>();
  spec.files.forEach((file, index) => {
    if (paths.has(file.path))
      ctx.addIssue({
        code: 'custom',
        path: ['files', index, 'path'],
        message: `${file.path} is listed twice`,
      });
    paths.add(file.path);
  });
  spec.channels?.forEach((channel, index) => {
    if (spec.channels?.indexOf(channel) !== index)
      ctx.addIssue({ code: 'custom', path: ['channels', index], message: `${channel} is listed twice` });
  });
});

/** A spec as the schema returns it: defaults applied, local paths as written. */
export type ImageSpecDocument = z.output<typeof ImageSpecSchema>;

/** The spec's `patch` policy with its defaults: which pending updates `goldgate patch` takes. */
export interface PatchPolicy {
  /** `security` (default): updates from a security suite only; `all`: every update. */
  include: PatchInclude;
  /** How long goldgate must have seen a version before taking it, as written (`0`, `12h`, `2d`). */
  minAge: string;
  /** Packages never updated. */
  hold: string[];
  /** Packages whose newest update is taken whatever include and minAge say (hold wins). */
  allow: string[];
}

/** A local path (on the machine running goldgate): `path` is absolute, `declared` is as written in the spec. */
export interface LocalPath {
  path: string;
  declared: string;
}

export interface LabRepository {
  /** A repository the lab serves (`goldgate lab repo`), by name. */
  lab: string;
  suites: string[];
  /** Default `['main']`. */
  components: string[];
  /** `deb [trusted=yes]`: the lab repository is unsigned. Default `true`. */
  trusted: boolean;
}

export interface UriRepository {
  uri: string;
  suites: string[];
  components: string[];
  /** A keyring path inside the image (`Signed-By:`). */
  signedBy?: string;
}

export type Repository = LabRepository | UriRepository;

export interface HttpHealthCheck {
  port: number;
  path: string;
  /** Default 200. */
  expect: number;
  timeoutMs?: number | undefined;
}

export interface CommandHealthCheck {
  argv: string[];
  /** Default 0. */
  expectExit: number;
  timeoutMs?: number | undefined;
}

/** A health check; `name` defaults to a label such as `http :8080/health`. */
export type HealthCheck =
  | { name: string; http: HttpHealthCheck }
  | { name: string; command: CommandHealthCheck }
  | { name: string; unit: { name: string } };

export interface FileSpec {
  /** Absolute path inside the image. */
  path: string;
  content?: string | undefined;
  source?: LocalPath | undefined;
  /** Octal, four digits: "0644" (the default). */
  mode: string;
  /** user:group, default "root:root". */
  owner: string;
}

/** A base bootstrapped by mmdebstrap. */
export interface SuiteBase {
  suite: string;
  /** Default `minbase`. */
  variant: Variant;
  mirror?: string | undefined;
}

/** The root filesystem a derived image starts from (`base: { from }`), resolved by `loadSpec`. */
export interface ParentImage {
  /** As written in the spec: an image id or a path. */
  declared: string;
  /** The root filesystem directory to copy (absolute). */
  path: string;
  /** The stored image's id, when `from` names one (by its id or its root filesystem). */
  image?: string;
}

/** A base copied from an image or a root filesystem instead of bootstrapped. */
export interface DerivedBase {
  from: ParentImage;
}

/** A validated image spec with every default applied and every local path resolved. */
export interface ImageSpec {
  name: string;
  base: SuiteBase | DerivedBase;
  packages: string[];
  debs: LocalPath[];
  files: FileSpec[];
  repositories: Repository[];
  services: { enable: string[]; disable: string[]; mask: string[] };
  autoUpdates: AutoUpdates;
  health: HealthCheck[];
  userData?: string | { file: LocalPath } | undefined;
  dnsAllow?: string[] | undefined;
  /** The channels its images are promoted to, in order: `pipeline run` and `patch` promote to the first. */
  channels?: string[] | undefined;
  patch?: PatchPolicy | undefined;
}

/** Whether the spec derives from an image or root filesystem (`base: { from }`). */
export function isDerived(base: ImageSpec['base']): base is DerivedBase {
  return 'from' in base;
}

/** The identity a derived image records as its `parent`: the stored image's id, else the absolute path. */
export function parentIdentity(from: ParentImage): string {
  return from.image ?? from.path;
}

/** Splits a `packages` entry into its name and pinned version. */
export function parsePackage(entry: string): { name: string; version?: string } {
  const at = entry.indexOf('=');
  return at < 0 ? { name: entry } : { name: entry.slice(0, at), version: entry.slice(at + 1) };
}

/** Whether a DNS name matches a `dnsAllow` pattern (`*.suffix` matches names under suffix, not suffix itself). */
export function dnsAllowed(name: string, patterns: readonly string[]): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  return patterns.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern,
  );
}
