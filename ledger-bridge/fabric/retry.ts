/**
 * Which failed submissions the Fabric connector submits again, and when.
 *
 * Two failures leave nothing written and go away on their own:
 * - an endorsement mismatch: the gateway collected endorsements that differ (`ProposalResponsePayloads
 *   do not match`, returned as gRPC `10 ABORTED … failed to collect enough transaction endorsements`),
 *   typically because one organisation's peer had not committed the previous block yet when it ran a
 *   dependent transaction (`evaluateBaseline` right after `recordEnergy`). Nothing was ordered.
 * - an MVCC or phantom read conflict: the transaction was ordered and committed invalid (codes 11, 12)
 *   because another transaction changed what it read. Nothing was written.
 *
 * Such a failure is retried — a new proposal, a new transaction id, endorsed against the state as it
 * is then — only for the contract functions whose effect is fixed by their arguments, so that running
 * them again gives the state one run would have given (`RETRYABLE_FUNCTIONS`). The others
 * (`modifyDRevent` makes a new event version per commit; `setProgramParams` is a governance change
 * decided from a read of the parameters; `redeemTokens` subtracts; the flexibility claims need both
 * organisations' deliberate endorsement) fail to their caller as before.
 *
 * The gateway's gRPC status is the only structured signal of a mismatch: an ABORTED endorsement
 * without a `chaincode response` detail (a contract refusal carries one and is never retried).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GatewayError } from '@hyperledger/fabric-gateway';
import { LedgerError } from '../errors.ts';

/** The contract functions a mismatch or a read conflict is retried for (see the file's comment). */
export const RETRYABLE_FUNCTIONS: readonly string[] = Object.freeze([
  'recordEnergy', // sets a meter-day's values
  'evaluateBaseline', // recomputes a stored baseline from the recorded days
  'enableRetailer',
  'disableRetailer',
  'enrolMeter',
  'disableMeter',
  'recordOptState', // one answer per event version and meter
  'evaluateAvailability', // idempotent by the contract
  'getDRToken', // mints once per customer and event
  'notifyDRevent', // keyed by the event id: a second commit is refused
  'cancelDRevent',
]);

export const RETRY_REASONS = ['ENDORSEMENT_MISMATCH', 'MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

export interface FabricRetryOptions {
  /** Submissions in all, the first included (default 5; 1 = never retry). */
  readonly attempts: number;
  /** Wait before the first retry; doubles each time up to `maxBackoffMs` (defaults 100 ms, 2 s), with ±20 % jitter. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** The functions retried (default `RETRYABLE_FUNCTIONS`). */
  readonly functions: readonly string[];
}

export const DEFAULT_FABRIC_RETRY: FabricRetryOptions = Object.freeze({ attempts: 5, initialBackoffMs: 100, maxBackoffMs: 2_000, functions: RETRYABLE_FUNCTIONS });

/** One retry, as the connector reports it (`onRetry`: logs and metrics). */
export interface FabricRetry {
  readonly fn: string;
  readonly reason: RetryReason;
  /** The attempt that failed (1 = the first submission). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly txId: string;
  readonly error: LedgerError;
}

/** An endorsement the gateway could not collect for a reason other than the contract's refusal. */
export function isEndorsementMismatch(err: unknown): boolean {
  return err instanceof GatewayError && err.code === GrpcStatus.ABORTED && !err.details.some((d) => d.message.startsWith('chaincode response '));
}

/** Why a failed submission may be retried, or undefined (the connector's error; at endorsement its cause is the gateway's). */
export function retryReasonOf(err: LedgerError): RetryReason | undefined {
  if (err.code === 'ENDORSEMENT') return isEndorsementMismatch(err.cause) ? 'ENDORSEMENT_MISMATCH' : undefined;
  const code = err.code === 'VALIDATION' ? err.validationCode?.name : undefined;
  return code === 'MVCC_READ_CONFLICT' || code === 'PHANTOM_READ_CONFLICT' ? code : undefined;
}

/** The wait before retry `attempt` (1 = the first retry). */
export function backoffMs(options: Pick<FabricRetryOptions, 'initialBackoffMs' | 'maxBackoffMs'>, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(base * (0.8 + 0.4 * random()));
}
