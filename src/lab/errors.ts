import { GoldgateError } from '../core/errors.js';
import type { Fault } from '../core/errors.js';

/** A lab failure: an instance that does not boot, does not exist, or a host that cannot run one. */
export class LabError extends GoldgateError {
  constructor(
    code: string,
    message: string,
    options: { fault?: Fault; hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}
