/**
 * The one error the math throws: a caller handed it something outside its domain (a malformed
 * day, a vector of the wrong length, a negative power, a parameter out of range). The message
 * starts with the contract's stable prefix `INVALID_ARGUMENT: `, so a transaction function may let
 * it propagate unchanged (dr-contract.md, "Contract errors … with a stable code prefix").
 *
 * Running out of data is not an error here: `computeBaseline` answers `{ ok: false, found, needed }`
 * and the contract turns that into `BASELINE_NOT_FOUND: …`.
 */
export const MathErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;
export type MathErrorCodeValue = (typeof MathErrorCode)[keyof typeof MathErrorCode];

export class MathArgumentError extends RangeError {
  override readonly name = 'MathArgumentError';
  readonly code: MathErrorCodeValue = MathErrorCode.INVALID_ARGUMENT;

  constructor(message: string, options?: ErrorOptions) {
    super(`${MathErrorCode.INVALID_ARGUMENT}: ${message}`, options);
  }
}

/** True when `value` is an integer in [min, max] (min, max safe integers); cheap enough for hot loops. */
export function isIntegerIn(value: unknown, min: number, max: number): boolean {
  // Stryker disable next-line all: every caller runs requireInteger whenever this says no, which checks again; a stricter form only calls it more often (a laxer one is killed by the bad-input tests)
  return typeof value === 'number' && value >= min && value <= max && Math.floor(value) === value;
}

/** Throws `MathArgumentError` unless `value` is a safe integer in [min, max]. */
export function requireInteger(name: string, value: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new MathArgumentError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
