/**
 * The folder ledger/ connects the VTN to a ledger: this port, its implementation over the
 * ledger-bridge mapping, the embedded ledger's set-up and the settlement scheduler. It may depend on
 * ledger-bridge/ (its index), services/ and operations/logger.ts.
 *
 * The business steps the VTN needs from the ledger, as a narrow port. `createMappingLedgerPort`
 * (mapping-port.ts) implements it with the ledger-bridge mapping (notifyDRevent /
 * queryLoadReduction, recordEnergy, evaluateAvailability + getDRToken); the VTN works without one
 * (tests, labs), and never waits for the ledger to answer a VEN.
 */

export interface DrEventNotice {
  readonly eventId: string;
  readonly programId: string;
  readonly startMs: number;
  readonly slotMs: number;
  /** Number of intervals: one per contract slot the event overlaps. */
  readonly slots: number;
  /** The event's length; absent: slots × slotMs (an event off the slot grid covers its first and last slot in part). */
  readonly durationMs?: number;
  /** Total reduction asked for while the event runs, W per interval. */
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
  /** W (mean power over the interval) or Wh (energy in the interval), SI scale already applied. */
  readonly value: number;
  readonly unit: 'W' | 'Wh';
}

/**
 * One day of meter history: one value (Wh) per contract slot (96 quarter hours) of the contract day
 * `date` — the day in the program's time zone (Europe/Rome by default), as the contract counts days.
 */
export interface EnergyDay {
  /** `YYYY-MM-DD`. */
  readonly date: string;
  readonly valuesWh: readonly number[];
}

/** One slot of a customer's day as the ledger holds it. */
export interface EnergySlotView {
  readonly slot: number;
  /** ISO start of the slot. */
  readonly start: string;
  /** Average power over the slot, W; null when the ledger holds none. */
  readonly watts: number | null;
  /** `measured` (the VEN's telemetry), `imported` (meter history) or `missing`. */
  readonly source: 'measured' | 'imported' | 'missing';
}

export interface CustomerEnergyView {
  readonly customerId: string;
  readonly meterId: string;
  /** `YYYY-MM-DD`, the contract day. */
  readonly date: string;
  readonly slots: readonly EnergySlotView[];
  readonly measured: number;
  readonly imported: number;
  readonly missing: number;
}

/**
 * A customer's day of an event, slot by slot (the thesis's figures 5.4–5.7): arrays of the whole
 * contract day (`slotsPerDay` values) and, per window slot, what the contract asked and paid.
 */
export interface CustomerEventView {
  readonly customerId: string;
  readonly meterId: string;
  readonly eventId: string;
  /** The contract day, `YYYY-MM-DD`. */
  readonly date: string;
  /** The contract's event status. */
  readonly status: string;
  /** ISO start of every slot of the day. */
  readonly slotStarts: readonly string[];
  /** The customer's baseline for the day, W per slot; null when it has none (`baselineMissing` says why). */
  readonly baselineW: ReadonlyArray<number> | null;
  readonly baselineMissing?: unknown;
  /** The average power on the ledger, W per slot (null: none). */
  readonly measuredW: ReadonlyArray<number | null>;
  /** Where each slot's value came from: measured, imported or missing. */
  readonly sources: readonly string[];
  /** Availability per slot of the day, 0…1 (the contract's A). */
  readonly availability: readonly number[];
  /** Slot indexes of the event window. */
  readonly window: readonly number[];
  /** Per window slot: the OPR (W), the target (the window baseline minus the OPR, W) and the tokens earned (milli-tokens; null until settled). */
  readonly oprW: readonly number[];
  readonly targetW: readonly number[];
  readonly tokensMilli: ReadonlyArray<number> | null;
  /** The event's tokens in all (milli-tokens), null until settled. */
  readonly totalTokensMilli: number | null;
  readonly balanceMilli: number;
}

/**
 * A flexibility claim of an event (docs/uvam.md): the JRC record of one metering period (a window
 * slot) with the unit's aggregate power and each customer's component, from the ledger.
 */
export interface ClaimView {
  readonly claimId: string;
  readonly eventId: string;
  /** The metering period, ISO. */
  readonly periodStart: string;
  readonly periodEnd: string;
  /** `pending`: not on the ledger yet; `recorded`: valid, for the system operator to confirm; `failed`: with its reasons; `confirmed` by the operator. */
  readonly status: 'pending' | 'recorded' | 'failed' | 'confirmed';
  /** The aggregate, W (+ consumption); null while pending. */
  readonly powerW: number | null;
  /** The nominal voltages the record carries, V (not metered); null while pending. */
  readonly voltageLLV: number | null;
  readonly voltageLNV: number | null;
  /** Customers in the claim, and those without a measurement on the ledger for the period. */
  readonly customers: number;
  readonly missing: number;
  readonly reasons: readonly string[];
  readonly submittedTxId: string | null;
  readonly confirmedTxId: string | null;
  /** Each customer's component (one claim's view only), W; null: no measurement. */
  readonly components?: ReadonlyArray<{ readonly customerId: string; readonly meterId: string; readonly powerW: number | null }>;
}

/** What the claim step did for an event (the scheduler's pass). */
export interface ClaimsStep {
  readonly state: 'submitted' | 'waiting' | 'none';
  readonly reason?: string;
  /** Claims written by this step. */
  readonly submitted: number;
}

/** What a modification of an event on the ledger changes besides its total. */
export interface LedgerEventReschedule {
  readonly startMs?: number;
  readonly durationMs?: number;
  readonly customerIds?: readonly string[];
}

/** What settlement gave, per customer. */
export interface LedgerSettlement {
  readonly eventId: string;
  readonly status: 'settled' | 'partial' | 'cancelled';
  /** Milli-tokens each settled customer earned in this event. */
  readonly rewardsMilli: ReadonlyMap<string, number>;
  /** Customers not settled yet (e.g. measurements missing), with the reason. */
  readonly unsettled: ReadonlyMap<string, string>;
}

export interface LedgerPort {
  /**
   * notifyDRevent, then each targeted customer's OPR (W per slot) from queryLoadReduction; a
   * customer the contract gave no allocation (no baseline for the day) is absent from the map.
   */
  notifyEvent(notice: DrEventNotice): Promise<ReadonlyMap<string, readonly number[]>>;
  /**
   * modifyDRevent (a new version) with a new total per interval and, when given, a new start or
   * duration within the event's day and (before the start) new targeted customers; each allocated
   * customer's new OPR.
   */
  modifyEvent?(eventId: string, reductionW: readonly number[], change?: LedgerEventReschedule): Promise<ReadonlyMap<string, readonly number[]>>;
  /**
   * cancelDRevent (idempotent). `deliveredUntilMs`: when the VENs were told of the cancellation (the
   * metering periods that ended by then get their flexibility claims); absent when none was sent.
   */
  cancelEvent?(eventId: string, deliveredUntilMs?: number): Promise<void>;
  /** Closes the event day's telemetry, then evaluateAvailability + getDRToken (idempotent). */
  settleEvent?(eventId: string): Promise<LedgerSettlement>;
  /**
   * Synchronous local reads (an object, not a method, so wrappers that make every method async
   * leave it alone): the OPR per customer of an event notified through this port, or undefined.
   */
  readonly allocations?: {
    oprOf(eventId: string): ReadonlyMap<string, readonly number[]> | undefined;
    /** Each allocated customer's window baseline, W per interval, as the contract froze it with the allocation. */
    baselineOf?(eventId: string): ReadonlyMap<string, readonly number[]> | undefined;
    /** The total reduction asked, W per interval, of an event notified through this port. */
    requestOf?(eventId: string): readonly number[] | undefined;
    /** Whether the event is settled on the ledger. */
    settled?(eventId: string): boolean;
    /** Whether the event stands notified on the ledger (neither cancelled nor settled there). */
    notified?(eventId: string): boolean;
  };
  /**
   * Record a VEN's opt state for an event (idempotent per event, modificationNumber and VEN).
   * Resolves once it is on the ledger, or the ledger refused it for good (logged); rejects on a
   * failure worth retrying (the outbox of ledger work sends it again).
   */
  recordOpt(opt: OptRecord): Promise<void>;
  /**
   * Record usage telemetry (idempotent per VEN, rId and interval start), and the slots the ledger
   * side still owes. Resolves once the readings are held durably and every slot they completed is on
   * the ledger; rejects otherwise (the outbox retries). Readings that can never be recorded (from
   * the future, malformed) are logged and resolve.
   */
  recordTelemetry(points: readonly TelemetryPoint[]): Promise<void>;
  /** The readings the ledger side does not hold (reconciliation at start). */
  missingTelemetry?(points: readonly TelemetryPoint[]): Promise<TelemetryPoint[]>;
  // Optional: the admin API answers 501 while the port lacks them.
  /** Meter history upload (the retailer's data hub): recordEnergy per day. */
  importEnergy?(customerId: string, days: readonly EnergyDay[]): Promise<void>;
  /** The contract day (`YYYY-MM-DD`, in the contract's time zone) that holds an instant. */
  contractDay?(ms: number): Promise<string>;
  /** The slot values the ledger holds for a customer's day, and which are measured, imported or missing. */
  energy?(customerId: string, date: string): Promise<CustomerEnergyView>;
  /** Submits the event's flexibility claims once it ended and its telemetry is on the ledger (idempotent). */
  submitClaims?(eventId: string): Promise<ClaimsStep>;
  /** The event's claims, one per metering period, as the ledger holds them. */
  claims?(eventId: string): Promise<readonly ClaimView[]>;
  /** One claim of the event, with its components. */
  claim?(eventId: string, claimId: string): Promise<ClaimView>;
  /** The system operator confirms a recorded claim (validateFlexibility); NOT_ALLOWED for a failed or confirmed one. */
  validateClaim?(eventId: string, claimId: string): Promise<ClaimView>;
  /** A customer's DR token balance. */
  tokenBalance?(customerId: string): Promise<unknown>;
  /** A customer's baseline (for a day, `YYYY-MM-DD`, or the latest). */
  baseline?(customerId: string, date?: string): Promise<unknown>;
  /** The contract's program parameters (queryProgramParams). */
  contractParams?(): Promise<unknown>;
  /** setProgramParams with the parameters given; resolves to the parameters after the change. */
  setContractParams?(params: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** Ledger blocks, newest first. */
  blocks?(options: { readonly from?: number; readonly limit: number }): Promise<unknown>;
  /** Re-checks the whole ledger (hashes, signatures, world state against the blocks); the report. */
  verify?(): Promise<unknown>;
  /** The contract's record of an event: day, window, requested, allocated and unallocated W per slot, status. */
  eventTotals?(eventId: string): Promise<unknown>;
  /** A customer's day of an event: baseline, measured, target, OPR, tokens per slot and availability. */
  customerEvent?(customerId: string, eventId: string): Promise<CustomerEventView>;
  /** Resolves when the ledger answers (readiness); rejects otherwise. */
  ping?(): Promise<void>;
  /**
   * The ledger's retried submissions so far, by contract function and reason (the Fabric connector's
   * endorsement mismatches and read conflicts), for `/metrics`. An object, read synchronously.
   */
  readonly retries?: LedgerRetryCounts;
}

/** Retried ledger submissions counted by contract function and reason. */
export interface LedgerRetryCounts {
  counts(): ReadonlyArray<{ readonly fn: string; readonly reason: string; readonly count: number }>;
}
