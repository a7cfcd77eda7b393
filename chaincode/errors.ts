/**
 * Contract errors. Every error the contract throws is an `Error` whose message starts with a stable code
 * and a colon (`BASELINE_NOT_FOUND: customer=… found=… needed=…`): a Fabric peer only carries the
 * message text back to the client, so the code must live in the message. The ledger-bridge turns the
 * prefix into a typed error with `parseContractError`; nobody matches the free text after the colon.
 */

export const ERROR_CODES = [
  'ACCESS_DENIED',
  'BASELINE_NOT_FOUND',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'CONFLICT',
  /** enrolMeter: the meter is enabled under another retailer (the bridge answers "belongs to another retailer"). */
  'METER_HELD',
  /** setProgramParams: the change would take the system operator's authority from the caller. */
  'OPERATOR_LOCKOUT',
] as const;

export type ContractErrorCode = (typeof ERROR_CODES)[number];

export class ContractError extends Error {
  readonly code: ContractErrorCode;

  constructor(code: ContractErrorCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.name = 'ContractError';
    this.code = code;
  }
}

export function accessDenied(message: string): ContractError {
  return new ContractError('ACCESS_DENIED', message);
}

export function invalidArgument(message: string): ContractError {
  return new ContractError('INVALID_ARGUMENT', message);
}

export function notFound(message: string): ContractError {
  return new ContractError('NOT_FOUND', message);
}

export function conflict(message: string): ContractError {
  return new ContractError('CONFLICT', message);
}

export function meterHeld(message: string): ContractError {
  return new ContractError('METER_HELD', message);
}

export function operatorLockout(message: string): ContractError {
  return new ContractError('OPERATOR_LOCKOUT', message);
}

export function baselineNotFound(customer: string, found: number, needed: number): ContractError {
  return new ContractError(
    'BASELINE_NOT_FOUND',
    `customer=${customer} found=${found} needed=${needed}; record more complete non-event days before the target day or lower X`,
  );
}

/**
 * The numbers of a `BASELINE_NOT_FOUND` message as `baselineNotFound` writes it (`customer=… found=N
 * needed=X; …`), read back by callers that explain the shortfall; undefined for any other message.
 */
export function parseBaselineNotFound(message: string): { customer: string; found: number; needed: number } | undefined {
  const parsed = parseContractError(message);
  if (parsed?.code !== 'BASELINE_NOT_FOUND') return undefined;
  const fields = new Map((parsed.detail.split(';')[0] ?? '').trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  const found = Number(fields.get('found'));
  const needed = Number(fields.get('needed'));
  const customer = fields.get('customer');
  if (customer === undefined || !Number.isInteger(found) || !Number.isInteger(needed)) return undefined;
  return { customer, found, needed };
}

/** Reads the code back from an error message as it arrives from a peer; undefined if it carries none. */
export function parseContractError(message: string): { code: ContractErrorCode; detail: string } | undefined {
  const colon = message.indexOf(':');
  if (colon <= 0) return undefined;
  const code = message.slice(0, colon);
  if (!(ERROR_CODES as readonly string[]).includes(code)) return undefined;
  return { code: code as ContractErrorCode, detail: message.slice(colon + 1).trim() };
}
