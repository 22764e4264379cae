import aptHistory from './parsers/apt-history/index.js';
import aptTerm from './parsers/apt-term/index.js';
import asgActivities from './parsers/asg-activities/index.js';
import cloudInitOutput from './parsers/cloud-init-output/index.js';
import cloudInit from './parsers/cloud-init/index.js';
import dnsmasq from './parsers/dnsmasq/index.js';
import dpkg from './parsers/dpkg/index.js';
import goldgateHealth from './parsers/goldgate-health/index.js';
import journal from './parsers/journal/index.js';
import route53Resolver from './parsers/route53-resolver/index.js';
import syslog from './parsers/syslog/index.js';
import unattendedUpgradesDpkg from './parsers/unattended-upgrades-dpkg/index.js';
import unattendedUpgrades from './parsers/unattended-upgrades/index.js';
import type { LogParser } from './types.js';

/**
 * Every log parser, in the order formats are tried: a file goes to the first parser whose
 * `detect` accepts it. A parser is a folder in `parsers/` plus one line here.
 */
export const LOG_PARSERS: readonly LogParser[] = [
  aptHistory,
  dpkg,
  unattendedUpgradesDpkg,
  unattendedUpgrades,
  aptTerm,
  cloudInitOutput,
  cloudInit,
  journal,
  route53Resolver,
  goldgateHealth,
  asgActivities,
  dnsmasq,
  syslog,
] as LogParser[];
