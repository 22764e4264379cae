/** Who is at fault when an operation fails: the user's input, the environment, or goldgate itself. */
export type Fault = 'user' | 'environment' | 'tool';

/**
 * The one base error of goldgate. `code` is stable and machine-readable; the CLI maps
 * `fault` to an exit status and prints `message` plus `hint` as one clear line.
 */
export class GoldgateError extends Error {
  readonly code: string;
  readonly fault: Fault;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { fault?: Fault; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fault = options.fault ?? 'tool';
    this.hint = options.hint;
  }
}

/** Bad arguments or input written by the user (a spec, a flag, a path that does not exist). */
export class UsageError extends GoldgateError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, fault: 'user' });
  }
}

/** A missing prerequisite or an environment that cannot do the job (not root, no mmdebstrap). */
export class EnvironmentError extends GoldgateError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, fault: 'environment' });
  }
}

export function isGoldgateError(error: unknown): error is GoldgateError {
  return error instanceof GoldgateError;
}
