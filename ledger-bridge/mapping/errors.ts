/**
 * Errors of the OpenADR ↔ contract mapping, with stable codes. Ledger failures keep their
 * `LedgerError` as `cause` (its contract code or validation code tells what the ledger said).
 */
export const MAPPING_ERROR_CODES = [
  /** The event request is malformed (slots, window, reduction values, targets). */
  'INVALID_REQUEST',
  /** The event does not fit the contract's time grid (crosses a day, off slot boundaries, wrong slot length). */
  'OFF_GRID',
  /** No targeted customer could take part (no baseline for the day). */
  'NO_CUSTOMERS',
  /** A telemetry reading is malformed (value, duration, unit). */
  'INVALID_READING',
  /** The mapping does not know this event (it was not notified through it). */
  'UNKNOWN_EVENT',
  /** The ledger holds no flexibility claim of that id (not submitted yet, or not of this VTN's events). */
  'UNKNOWN_CLAIM',
  /** The step is not allowed in the event's state (e.g. a modification once the event started). */
  'NOT_ALLOWED',
  /** A meter's retailer has no ledger identity (no certificate and key for it): nothing is written for the meter. */
  'NO_IDENTITY',
  /** The ledger refused or failed; see `cause`. */
  'LEDGER',
  /** The mapping store cannot be used by this code (its schema in PostgreSQL is newer). */
  'STORE',
] as const;
export type MappingErrorCode = (typeof MAPPING_ERROR_CODES)[number];

export class MappingError extends Error {
  readonly code: MappingErrorCode;
  constructor(code: MappingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MappingError';
    this.code = code;
  }
}
