/**
 * Errors of the ledger-bridge. A `LedgerError` says which stage refused the transaction (`code`), and
 * carries the contract's own error code when the contract refused it (`contractCode`, read from the
 * message prefix with `parseContractError`) or Fabric's validation code when the committing peer
 * invalidated it (`validationCode`, name and number as in `peer.TxValidationCode`).
 */
import { parseContractError, type ContractErrorCode } from '../chaincode/index.ts';
import { ValidationCode, type ValidationCodeName } from './ledger.ts';

export const LEDGER_ERROR_CODES = [
  /** The contract refused the call (status ≥ 400 at endorsement); nothing was ordered. */
  'CONTRACT',
  /** The transaction was ordered and committed INVALID (MVCC conflict, policy failure…); nothing written. */
  'VALIDATION',
  /** Endorsement could not be collected: bad proposal signature, unknown MSP, endorsers disagree. */
  'ENDORSEMENT',
  /** The commit did not happen within the submit's timeout (it may still commit later). */
  'TIMEOUT',
  /** The ledger is closed or closing. */
  'CLOSED',
  /** No such block or transaction. */
  'NOT_FOUND',
  /** The store failed (disk full, corrupt file, locked data directory); or the peer cannot be reached. */
  'UNAVAILABLE',
  /** The connector's configuration is wrong (connection profile, MSP folder): the message names the file and the field. */
  'CONFIG',
] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export interface ValidationCodeInfo {
  readonly name: ValidationCodeName;
  readonly number: number;
}

export interface LedgerErrorOptions extends ErrorOptions {
  readonly txId?: string;
  readonly validationCode?: ValidationCodeName;
  readonly blockNumber?: number;
  /** The contract's message (`ACCESS_DENIED: …`), for CONTRACT errors. */
  readonly contractMessage?: string;
}

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  readonly txId: string | undefined;
  /** The contract's stable error code, when the contract refused the call. */
  readonly contractCode: ContractErrorCode | undefined;
  /** Fabric's validation code, when the transaction was committed invalid. */
  readonly validationCode: ValidationCodeInfo | undefined;
  readonly blockNumber: number | undefined;

  constructor(code: LedgerErrorCode, message: string, options: LedgerErrorOptions = {}) {
    super(message, options);
    this.name = 'LedgerError';
    this.code = code;
    this.txId = options.txId;
    this.contractCode = options.contractMessage === undefined ? undefined : parseContractError(options.contractMessage)?.code;
    this.validationCode =
      options.validationCode === undefined ? undefined : { name: options.validationCode, number: ValidationCode[options.validationCode] };
    this.blockNumber = options.blockNumber;
  }
}

/** The contract refused the call: the message is the contract's own (`ACCESS_DENIED: …`). */
export function contractError(message: string, txId?: string): LedgerError {
  return new LedgerError('CONTRACT', message, { contractMessage: message, ...(txId ? { txId } : {}) });
}

/**
 * A transaction committed invalid. `described` names the code as the peer gave it (Fabric's name
 * and number; a code this library has no name for is described by its number).
 */
export function validationError(txId: string, code: ValidationCodeName | undefined, blockNumber: number, described = `${code} (${code === undefined ? '?' : ValidationCode[code]})`): LedgerError {
  const hint =
    code === 'MVCC_READ_CONFLICT' || code === 'PHANTOM_READ_CONFLICT'
      ? 'another transaction changed what this one read; submit it again'
      : code === 'ENDORSEMENT_POLICY_FAILURE'
        ? 'collect endorsements from every organisation the endorsement policy names'
        : 'check the transaction and submit a new one';
  return new LedgerError(
    'VALIDATION',
    `transaction ${txId} was committed invalid in block ${blockNumber} with ${described}; ${hint}`,
    { txId, validationCode: code, blockNumber },
  );
}
