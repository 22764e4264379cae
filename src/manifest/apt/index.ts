import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';
import type { AptConfig } from './config.js';
import { collectAptConfig } from './config.js';
import type { AptSource } from './sources.js';
import { collectAptSources } from './sources.js';

export type { AptConfOp, AptConfAssignment, AptConfParse } from './conf-parser.js';
export { parseAptConf, readAptConfFile } from './conf-parser.js';
export type { AptConfig, AptConfigEvent, AptConfigValue, AptPeriodicInterval } from './config.js';
export {
  aptBool,
  aptFindFile,
  aptInt,
  aptList,
  aptPeriodicEnabled,
  aptPeriodicInterval,
  aptValue,
  collectAptConfig,
} from './config.js';
export type { AptSource, AptSources } from './sources.js';
export { collectAptSources } from './sources.js';

/** The apt part of an image's manifest. */
export interface AptManifest {
  config: AptConfig;
  sources: AptSource[];
  /** Source list files read, in APT's order. */
  sourceFiles: string[];
  /** Problems of the configuration, then of the sources. */
  problems: ManifestProblem[];
}

/**
 * Reads APT's configuration and package sources from an image. The configuration is read
 * first because it can move the source lists (`Dir::Etc::sourcelist`, `Dir::Etc::sourceparts`).
 */
export function collectApt(fs: RootFs): AptManifest {
  const config = collectAptConfig(fs);
  const sources = collectAptSources(fs, config);
  return {
    config,
    sources: sources.sources,
    sourceFiles: sources.files,
    problems: [...config.problems, ...sources.problems],
  };
}
