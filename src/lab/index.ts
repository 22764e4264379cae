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
