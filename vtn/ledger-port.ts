/**
 * The business steps the VTN needs from the ledger, as a narrow port. A later step implements it
 * with the ledger-bridge mapping (notifyDRevent / queryLoadReduction, recordEnergy, opt state);
 * the VTN works without one (tests, labs), and never waits for the ledger to answer a VEN.
 */

export interface DrEventNotice {
  readonly eventId: string;
  readonly programId: string;
  readonly startMs: number;
  readonly slotMs: number;
  readonly slots: number;
  /** Total reduction asked for, W per slot. */
  readonly reductionW: readonly number[];
  /** The customers targeted. */
  readonly customerIds: readonly string[];
}

export interface OptRecord {
  readonly eventId: string;
  readonly modificationNumber: number;
  readonly venId: string;
  readonly customerId: string;
  readonly optType: 'optIn' | 'optOut';
  readonly at: number;
}

export interface TelemetryPoint {
  readonly venId: string;
  readonly customerId: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly rId: string;
  readonly value: number;
}

export interface LedgerPort {
  /** notifyDRevent, then each targeted customer's OPR (W per slot) from queryLoadReduction. */
  notifyEvent(notice: DrEventNotice): Promise<ReadonlyMap<string, readonly number[]>>;
  /** Record a VEN's opt state for an event (idempotent per event, modificationNumber and VEN). */
  recordOpt(opt: OptRecord): Promise<void>;
  /** Record usage telemetry (idempotent per VEN, rId and interval start). */
  recordTelemetry(points: readonly TelemetryPoint[]): Promise<void>;
}
