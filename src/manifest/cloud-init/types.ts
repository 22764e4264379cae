import type { ManifestProblem, SourceRef } from '../types.js';

/** A YAML value as plain JSON (dates become ISO strings, binary becomes base64). */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One audit-relevant cloud-config key (`package_upgrade`, `apt.sources`, ...), as it wins after merging. */
export interface CloudInitSetting {
  /** Dotted path of the key: `package_upgrade`, `apt.preserve_sources_list`. */
  key: string;
  value: JsonValue;
  /** The file that won the merge for this key, and the line of the key in it. */
  source: SourceRef;
}

export type CloudInitStage = 'init' | 'config' | 'final';

/** One entry of `cloud_init_modules` / `cloud_config_modules` / `cloud_final_modules`. */
export interface CloudInitModuleEntry {
  /** Canonical module name: `-` replaced by `_` (`package_update_upgrade_install`). */
  name: string;
  /** As written (`package-update-upgrade-install`). */
  raw: string;
  stage: CloudInitStage;
  /** Frequency override from `[name, frequency]` entries (`always`), else null. */
  frequency: string | null;
  source: SourceRef;
}

/** Modules whose presence matters to mutability rules; null when not listed in any stage. */
export interface CloudInitEnabledModules {
  package_update_upgrade_install: CloudInitModuleEntry | null;
  apt_configure: CloudInitModuleEntry | null;
  bootcmd: CloudInitModuleEntry | null;
  runcmd: CloudInitModuleEntry | null;
  /** runcmd only writes a script; scripts_user is what runs it. */
  scripts_user: CloudInitModuleEntry | null;
  scripts_vendor: CloudInitModuleEntry | null;
  scripts_per_boot: CloudInitModuleEntry | null;
  scripts_per_instance: CloudInitModuleEntry | null;
  scripts_per_once: CloudInitModuleEntry | null;
  snap: CloudInitModuleEntry | null;
}

export type CloudInitPartType = 'cloud-config' | 'shell' | 'boothook' | 'include' | 'unknown';

/** One part of a user-data/vendor-data blob, after cloud-init's own content-type routing. */
export interface CloudInitPart {
  type: CloudInitPartType;
  /** The MIME type cloud-init routes the part by (`text/cloud-config`, `text/x-shellscript`, ...). */
  contentType: string;
  /**
   * Line in the file where the part's body starts. When `encoded` is false, line N of `text`
   * (or of the cloud-config) is file line `startLine + N - 1`. When `encoded` is true (base64,
   * quoted-printable or gzip), it is the line of the part's header and every line cited for
   * the part is that line.
   */
  startLine: number;
  encoded: boolean;
  /** The part starts with `## template: jinja`: cloud-init renders it before use; parsed unrendered here. */
  jinja: boolean;
  /** Parsed cloud-config ({} when it could not be parsed). */
  config?: JsonObject;
  settings?: CloudInitSetting[];
  /** Script text for shell/boothook parts, the URL list (one a line) for include parts, the patch of `text/cloud-config-jsonp`. */
  text?: string;
  /** Include parts: the URLs fetched at boot. */
  urls?: string[];
}

export type CloudInitUserDataKind = 'user-data' | 'vendor-data' | 'script';

/** A baked user-data, vendor-data or boot script file. */
export interface CloudInitUserData {
  path: string;
  kind: CloudInitUserDataKind;
  /** For scripts under /var/lib/cloud/scripts: `per-boot`, `per-instance` or `per-once`. */
  phase: 'per-boot' | 'per-instance' | 'per-once' | null;
  /** For scripts: cloud-init runs only executable files. Null for user-data and vendor-data. */
  executable: boolean | null;
  /** The whole file was gzip-compressed. */
  gzip: boolean;
  parts: CloudInitPart[];
}

/** What `repo_upgrade` amounts to (Amazon Linux upgrades security packages at first boot by default). */
export interface CloudInitRepoUpgrade {
  /** The merged value from the configuration files, or null when unset. */
  value: JsonValue;
  source: SourceRef | null;
  amazonLinux: boolean;
  /** The value cloud-init acts on: the setting, else `security` on Amazon Linux, else null. */
  effective: string | null;
}

export interface CloudInitSection {
  /** `/etc/cloud/cloud.cfg` or `/usr/bin/cloud-init` exists. */
  present: boolean;
  /** Which of those exist. */
  presence: SourceRef[];
  /** `/etc/cloud/cloud-init.disabled` exists: cloud-init does not run at boot. */
  disabled: SourceRef | null;
  /** Configuration files read, lowest priority first (cloud.cfg, then cloud.cfg.d/*.cfg in lexical order). */
  files: string[];
  /** The merged configuration, as cloud-init would see it before user-data. */
  config: JsonObject;
  settings: CloudInitSetting[];
  modules: Record<CloudInitStage, CloudInitModuleEntry[]>;
  enabled: CloudInitEnabledModules;
  repoUpgrade: CloudInitRepoUpgrade;
  userData: CloudInitUserData[];
  problems: ManifestProblem[];
}
