/**
 * Errors of the household EMS. The solver throws `EmsError` only for a malformed problem (the
 * caller's bug: arrays of different lengths, a run that cannot fit its window, a negative power);
 * an infeasible demand-response request is an answer, not an error, and comes back as
 * `status: 'infeasible'` with an `InfeasibilityCode` (see `solver.ts`).
 */

export const EmsErrorCode = {
  /** The problem is malformed; the message names the field and what a valid value looks like. */
  INVALID_PROBLEM: 'INVALID_PROBLEM',
  /** A budget option (`maxNodes`, `deadlineMs`) is not a positive number. */
  INVALID_BUDGET: 'INVALID_BUDGET',
  /** A time of day such as `'10:30'` could not be read or does not fall on a slot boundary. */
  INVALID_TIME: 'INVALID_TIME',
} as const;
export type EmsErrorCodeValue = (typeof EmsErrorCode)[keyof typeof EmsErrorCode];

export class EmsError extends Error {
  override readonly name = 'EmsError';
  readonly code: EmsErrorCodeValue;

  constructor(code: EmsErrorCodeValue, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

export function invalidProblem(message: string): EmsError {
  return new EmsError(EmsErrorCode.INVALID_PROBLEM, message);
}
