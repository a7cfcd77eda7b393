/**
 * The folder store/ is the VTN's durable state: this interface and the node:sqlite store. It may depend
 * on oadr/ types, the event model's types and the configuration types.
 *
 * The VTN's own durable state, behind an interface so another back-end can replace the default
 * `node:sqlite` one (sqlite-store.ts). What must be shared and certified lives on the ledger; this
 * store holds what the VTN needs to speak OpenADR: customers it may serve, registrations, per-VEN
 * FIFO queues, the events as it distributes them and each VEN's view of them (values, opt state,
 * cancellation acknowledgement), report metadata, requests and telemetry, opt schedules.
 *
 * The interface is synchronous: node:sqlite is, and a poll then costs no promise hops.
 */
import type { Payload, PayloadType } from '../../oadr/index.ts';
import type { ProgramConfigInput } from '../cli/config.ts';
import type { EventVenState, VtnEvent } from '../services/event-model.ts';

export interface CustomerRecord {
  readonly customerId: string;
  /** oadrVenName that links a registering VEN to this customer (registration policy enrolled-only). */
  readonly venName: string | undefined;
  /** Certificate fingerprint (the security issue will link VENs by it). */
  readonly fingerprint: string | undefined;
  /** A venID pre-configured in the VEN (R402), if any. */
  readonly venId: string | undefined;
  readonly enrolledAt: number;
  /** The customer's meter (POD) id at the retailer's data hub (admin API). */
  readonly meterId?: string | undefined;
  /** The retailer serving the customer (admin API). */
  readonly retailer?: string | undefined;
  /** The program the customer takes part in (report settings); default the first configured. */
  readonly programId?: string | undefined;
  /** The most this customer can plausibly draw or feed in (W, its connection); default its program's `maxTelemetryW`. */
  readonly maxTelemetryW?: number | undefined;
}

export type RegistrationState = 'registered' | 'cancelling';

export interface VenRegistration {
  readonly venId: string;
  readonly registrationId: string;
  readonly customerId: string;
  readonly venName: string | undefined;
  readonly fingerprint: string | undefined;
  readonly profileName: '2.0a' | '2.0b';
  readonly transportName: 'simpleHttp' | 'xmpp';
  readonly transportAddress: string | undefined;
  readonly httpPullModel: boolean;
  readonly reportOnly: boolean;
  readonly xmlSignature: boolean;
  readonly registeredAt: number;
  readonly state: RegistrationState;
  /** The VTN asked for a re-registration (oadrRequestReregistration): the next create keeps the VEN's state (R406). */
  readonly reregistrationRequested: boolean;
}

/** A payload waiting for a VEN. An `oadrDistributeEvent` is stored as a marker and built when delivered (always current, R50). */
export interface QueueItem {
  readonly seq: number;
  readonly venId: string;
  readonly kind: PayloadType;
  readonly payload: Payload | undefined;
  readonly enqueuedAt: number;
}

export interface TelemetryRecord {
  readonly venId: string;
  readonly reportRequestId: string;
  readonly reportSpecifierId: string;
  readonly receivedAt: number;
  /** The decoded `Report`, as JSON. */
  readonly report: unknown;
}

/** Where a report request of the VTN to a VEN stands (rules §6.3–6.5). */
export type ReportRequestState =
  /** Sent (piggy-backed or by oadrCreateReport), not yet confirmed by oadrCreatedReport. */
  | 'requested'
  /** Listed by the VEN in oadrPendingReports, or data arrived. */
  | 'active'
  /** The VEN answered the request with an error. */
  | 'refused'
  /** To be cancelled inside the next oadrUpdatedReport for it (R328). */
  | 'cancel-piggyback'
  /** oadrCancelReport queued, waiting for oadrCanceledReport. */
  | 'cancelling'
  /** Cancelled with reportToFollow: exactly one more report is accepted (R345). */
  | 'final'
  | 'cancelled'
  /** Sent `reportRequestRetries` times more without an answer; data for it is still taken. */
  | 'unanswered';

/** A report the VTN asked a VEN for (TELEMETRY_USAGE, TELEMETRY_STATUS, HISTORY_USAGE). */
export interface ReportRequestRecord {
  readonly venId: string;
  readonly reportRequestId: string;
  readonly reportSpecifierId: string;
  /** The data report's name, e.g. `TELEMETRY_USAGE` (metadata name without `METADATA_`). */
  readonly reportName: string;
  readonly rIds: readonly string[];
  /** Units of each rID from the VEN's metadata: `W`, `Wh`, `count` or another item unit; the SI scale applied to values. */
  readonly units: Readonly<Record<string, { readonly unit: string; readonly scale: number }>>;
  readonly granularityMs: number;
  readonly backDurationMs: number;
  /** HISTORY_USAGE: the past span asked for (reportInterval dtstart and duration, R325). */
  readonly historyFromMs?: number;
  readonly historyToMs?: number;
  readonly state: ReportRequestState;
  /** Set on a stand-alone cancel: whether one more report was asked for (R345). */
  readonly reportToFollow?: boolean;
  /** How often the request was sent again because the VEN did not answer it. */
  readonly resends?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * One reported interval of one data point, as stored, keyed by VEN, rID and start — whatever report
 * request it came under (a VEN that restarts sends the same intervals under a new one): the same
 * interval (same duration) again is a duplicate (dropped) or, with another value, a correction
 * (R346: replaces it).
 */
export interface TelemetryPointRecord {
  readonly venId: string;
  readonly reportRequestId: string;
  readonly reportName: string;
  readonly rId: string;
  readonly startMs: number;
  /** 0 for point data. */
  readonly durationMs: number;
  /** The value with the SI scale applied (`W`, `Wh`…); undefined for a resource status. */
  readonly value: number | undefined;
  readonly unit: string | undefined;
  readonly quality: string | undefined;
  /** TELEMETRY_STATUS: the oadrPayloadResourceStatus. */
  readonly status: unknown;
  readonly receivedAt: number;
}

export type TelemetryPointOutcome = 'added' | 'duplicate' | 'corrected' | 'conflict';

/**
 * A piece of ledger work the VTN acknowledged to a VEN, waiting in the store's outbox until the
 * ledger side has durably taken it (vtn/ledger/outbox.ts). One row per business key: work queued
 * again under the same key replaces the waiting one (a correction) and gets a new `seq`.
 */
export interface LedgerWorkRecord {
  readonly seq: number;
  /** The business key, e.g. `telemetry|venId|rId|start|duration`. */
  readonly key: string;
  readonly kind: string;
  readonly data: unknown;
  readonly queuedAt: number;
}

export const ADMIN_ROLES = ['operator', 'retailer', 'read-only'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** A bearer token of the admin API; only its SHA-256 is stored. */
export interface AdminTokenRecord {
  readonly tokenId: string;
  /** Hex SHA-256 of the token. */
  readonly hash: string;
  readonly role: AdminRole;
  readonly name: string;
  readonly createdAt: number;
  /** A retailer token speaks for this retailer: it sees and manages only customers whose `retailer` is this. */
  readonly retailerId?: string | undefined;
  /** When the token stops working (ms since the epoch); absent: it does not expire. */
  readonly expiresAt?: number | undefined;
}

/** Time spent waiting on a networked store (PostgreSQL): its round trips so far. */
export interface StoreLatency {
  readonly count: number;
  readonly sumMs: number;
  /** Upper bounds (ms) of the histogram's buckets. */
  readonly bucketsMs: readonly number[];
  /** Cumulative counts of round trips at or under each bound. */
  readonly counts: readonly number[];
}

/**
 * What a store shared by several VTN processes (PostgreSQL) adds: which process runs a duty that
 * must run once in the cluster (a timer pass), which process pushes to a VEN, which process runs an
 * event's creation.
 */
export interface ClusterCoordination {
  /** True while this process holds the named duty's lease: taken at the first call, kept until the process or its database connection goes. */
  lease(duty: string): boolean;
  /** Takes the right to push to this VEN, one process at a time; false while another process has it. */
  claimVen(venId: string): boolean;
  releaseVen(venId: string): void;
  /**
   * Takes the right to run this event's creation (its saga), one process at a time: held by the
   * process creating it until the creation ends, or until that process or its database connection
   * goes — a creation whose claim is free and whose saga is still `started` was cut short.
   */
  claimEvent(eventId: string): boolean;
  releaseEvent(eventId: string): void;
}

export interface VtnStore {
  // customers
  putCustomer(c: CustomerRecord): void;
  getCustomer(customerId: string): CustomerRecord | undefined;
  findCustomerByVenName(venName: string): CustomerRecord | undefined;
  findCustomerByVenId(venId: string): CustomerRecord | undefined;
  /** The customer whose meter is `meterId` (one meter belongs to one customer). */
  findCustomerByMeterId(meterId: string): CustomerRecord | undefined;
  /**
   * Every customer whose meter is `meterId` (its `meterId`, or its id when it names none): one, or
   * more only when the store was changed around the admin API's checks.
   */
  customersOfMeter(meterId: string): CustomerRecord[];
  listCustomers(): CustomerRecord[];

  // registrations
  putRegistration(r: VenRegistration): void;
  getRegistration(venId: string): VenRegistration | undefined;
  /** A registration whose venID equals `venId` ignoring letter case (for telling 452 from 463, R512). */
  findRegistrationIgnoringCase(venId: string): VenRegistration | undefined;
  findRegistrationByCustomer(customerId: string): VenRegistration | undefined;
  /** The registration bound to a certificate fingerprint (as `certificateFingerprint` writes it); indexed. */
  findRegistrationByFingerprint(fingerprint: string): VenRegistration | undefined;
  /** The registration with this registrationID; indexed. */
  findRegistrationByRegistrationId(registrationId: string): VenRegistration | undefined;
  listRegistrations(): VenRegistration[];
  countRegistrations(): number;
  /**
   * The customer a venID was first issued to or registered for, even after the registration is
   * gone: a venID is never given to another customer.
   */
  venIdOwner(venId: string): string | undefined;
  /**
   * Erase a VEN's state: its queue, report metadata, requests and telemetry links, opt schedules
   * and per-event state; the registration too unless `keepRegistration` (R406, R407).
   */
  eraseVen(venId: string, options: { readonly keepRegistration: boolean }): void;

  // per-VEN FIFO queue
  enqueue(venId: string, kind: PayloadType, payload: Payload | undefined, at: number): number;
  peek(venId: string): QueueItem | undefined;
  /** Take the head of the queue, in one transaction. */
  shift(venId: string): QueueItem | undefined;
  removeQueued(seq: number): void;
  /** Remove undelivered items of one kind (a new oadrDistributeEvent replaces an older one). */
  removeQueuedKind(venId: string, kind: PayloadType): number;
  queueDepth(venId: string): number;
  /** Items queued for all VENs (metrics). */
  queueDepthTotal(): number;
  /** venIDs with at least one queued item. */
  vensWithQueuedItems(): string[];

  // events
  putEvent(e: VtnEvent): void;
  getEvent(eventId: string): VtnEvent | undefined;
  listEvents(): VtnEvent[];
  putEventVen(s: EventVenState): void;
  getEventVen(eventId: string, venId: string): EventVenState | undefined;
  listEventVens(eventId: string): EventVenState[];
  /** The events a VEN is targeted by, with its state, oldest first. */
  listVenEvents(venId: string): Array<{ readonly event: VtnEvent; readonly state: EventVenState }>;

  // reports (metadata, requests, telemetry)
  putReportMetadata(venId: string, reports: unknown, at: number): void;
  getReportMetadata(venId: string): { readonly reports: unknown; readonly at: number } | undefined;
  appendTelemetry(t: TelemetryRecord): void;
  listTelemetry(venId: string): TelemetryRecord[];

  // report requests of the VTN to VENs, and telemetry points (reports increment)
  putReportRequest(r: ReportRequestRecord): void;
  getReportRequest(venId: string, reportRequestId: string): ReportRequestRecord | undefined;
  listReportRequests(venId: string): ReportRequestRecord[];
  /**
   * Stores a point: `added`; the same again `duplicate` (nothing written); the same interval (same
   * duration) with another value, quality or status `corrected` (replaces it, R346); another
   * duration for the same start `conflict` (the first stays).
   */
  insertTelemetryPoint(p: TelemetryPointRecord): TelemetryPointOutcome;
  /** Points of a VEN with `fromMs ≤ start < toMs`, oldest first. */
  listTelemetryPoints(venId: string, fromMs?: number, toMs?: number): TelemetryPointRecord[];

  // the outbox of ledger work: written in the same transaction as what it comes from
  /** Queue work under its business key (replacing work waiting under the same key). */
  putLedgerWork(key: string, kind: string, data: unknown, at: number): void;
  /** The oldest waiting work first. */
  listLedgerWork(limit: number): LedgerWorkRecord[];
  /** Remove done work by `seq` (work queued again meanwhile under the same key has another seq and stays). */
  deleteLedgerWork(seqs: readonly number[]): void;
  ledgerWorkDepth(): number;

  // programs written through the admin API (the configuration's are not stored)
  putProgram(p: ProgramConfigInput): void;
  listPrograms(): ProgramConfigInput[];
  /** False when no such program was stored. */
  deleteProgram(programId: string): boolean;

  // admin API bearer tokens (hashes only)
  putAdminToken(t: AdminTokenRecord): void;
  findAdminTokenByHash(hash: string): AdminTokenRecord | undefined;
  listAdminTokens(): AdminTokenRecord[];
  /** Deletes a token and remembers its hash as revoked, so that the same token is never stored again. */
  deleteAdminToken(tokenId: string): boolean;
  isAdminTokenRevoked(hash: string): boolean;

  // opt schedules (EiOpt)
  putOpt(venId: string, optId: string, opt: unknown, at: number): void;
  deleteOpt(venId: string, optId: string): boolean;
  listOpts(venId: string): Array<{ readonly optId: string; readonly opt: unknown; readonly at: number }>;

  // event creations from the ledger in progress (the saga's recorded outcome, written before the ledger is touched)
  putEventSaga(s: EventSagaRecord): void;
  deleteEventSaga(eventId: string): void;
  listEventSagas(): EventSagaRecord[];

  /**
   * Commits a small write and removes it: throws the store's own error (disk full, I/O error,
   * read-only file) while the store cannot write (readiness).
   */
  probeWrite(): void;

  /** A networked store's round trips (metrics); absent for the SQLite store. */
  latency?(): StoreLatency;
  /** Present when several VTN processes share the store; absent: this process is alone. */
  readonly cluster?: ClusterCoordination;

  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/**
 * An event creation from the ledger that has not finished: `started` is written before
 * notifyDRevent; the row goes in the transaction that stores the event (done), or once the
 * ledger has cancelled it (`compensating`: the creation failed after the ledger may have taken it).
 * `pending`: the ledger could not be reached; the creation is completed when it answers again.
 * `expired` / `refused` / `cancelled`: a creation that ended without an event (its start passed first,
 * the ledger refused it, or the operator cancelled it), kept for the operator to read (`outcome`
 * while its compensation runs).
 */
export interface EventSagaRecord {
  readonly eventId: string;
  readonly state: 'started' | 'compensating' | 'pending' | 'expired' | 'refused' | 'cancelled';
  /** While `compensating`: the state the record takes once the ledger has cancelled the event (absent: the row goes). */
  readonly outcome?: 'expired' | 'refused' | 'cancelled';
  /** What `events.create` needs to complete the creation (the ledger notice, the caller's input). */
  readonly request: unknown;
  readonly at: number;
  readonly error?: string;
}
