/**
 * Errors of the test ledger. A transaction that fails on a Fabric peer reaches the client as the
 * chaincode's message only (status 500 + message), so `ChaincodeError.message` is exactly the message the
 * contract threw (`ACCESS_DENIED: …`); the contract's own code stays the prefix of that message.
 */

export const TEST_LEDGER_ERROR_CODES = [
  /** The chaincode answered with an error status; nothing was committed. */
  'CHAINCODE_ERROR',
  /** A transaction id that is already on the ledger (a peer refuses the proposal). */
  'DUPLICATE_TXID',
  /** Commit-time validation failed: a key read by the transaction changed since it was simulated. */
  'MVCC_READ_CONFLICT',
  /** Commit-time validation failed: a range read by the transaction now returns other keys or versions. */
  'PHANTOM_READ_CONFLICT',
  /** The same simulated transaction was handed to `commit` twice, or an evaluated one was committed. */
  'INVALID_COMMIT',
] as const;

export type TestLedgerErrorCode = (typeof TEST_LEDGER_ERROR_CODES)[number];

export class TestLedgerError extends Error {
  readonly code: TestLedgerErrorCode;
  readonly txId: string | undefined;

  constructor(code: TestLedgerErrorCode, message: string, options?: ErrorOptions & { txId?: string }) {
    super(message, options);
    this.name = 'TestLedgerError';
    this.code = code;
    this.txId = options?.txId;
  }
}

/** The chaincode returned status ≥ 400, as a peer reports it: status and the chaincode's message. */
export class ChaincodeError extends TestLedgerError {
  readonly status: number;

  constructor(status: number, message: string, txId: string) {
    super('CHAINCODE_ERROR', message, { txId });
    this.name = 'ChaincodeError';
    this.status = status;
  }
}
