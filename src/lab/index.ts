export { execInInstance, gc, launchInstance, listInstances, terminateInstance } from './instance.js';
export type {
  GcResult,
  InstanceInfo,
  InstanceState,
  InstanceStatus,
  LaunchOptions,
  RunResult,
  TerminateResult,
} from './instance.js';
export { LabError } from './errors.js';
export {
  checkLabel,
  commandCheckFromFlag,
  HEALTH_LOG,
  httpCheckFromFlag,
  runHealthChecks,
  unitCheckFromFlag,
} from './health.js';
export type { HealthResult } from './health.js';
