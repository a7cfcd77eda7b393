/**
 * The VTN's public API as a type: what `createVtn` returns and what the admin REST API, the IEC 104
 * bridge and tests call. Types only, below both the VTN's assembly (vtn.ts) and its callers, so
 * neither imports the other.
 */
import type { FastifyInstance } from 'fastify';
import type { Payload } from '../oadr/index.ts';
import type { VtnConfig } from './cli/config.ts';
import type { EventsApi } from './services/event-service.ts';
import type { DispatchResult } from './services/dispatch.ts';
import type { HandleMeta } from './transports/http-server.ts';
import type { VtnMetrics } from './operations/metrics.ts';
import type { ProgramsApi } from './services/programs.ts';
import type { OptApi } from './services/opt-service.ts';
import type { ReportsApi } from './services/report-service.ts';
import type { EnrolVen20aInput } from './services/ven-20a.ts';
import type { LedgerOutbox } from './ledger/outbox.ts';
import type { CustomerRecord, VenRegistration, VtnStore } from './store/store.ts';
import type { TransportKind } from './transports/ven-transport.ts';

export interface VenView extends VenRegistration {
  readonly queueDepth: number;
  /** Last payload received from the VEN since this process started (ms), if any. */
  readonly lastContactAt: number | undefined;
  /** How payloads reach the VEN: `http-pull`, `http-push` or `xmpp`. */
  readonly transport: TransportKind;
  /** Heard from within the last three poll intervals (`pollFrequencyMs`) of this process. */
  readonly online: boolean;
}

export interface VensApi {
  list(): VenView[];
  get(venId: string): VenView | undefined;
  /** Queue (pull) or push oadrCancelPartyRegistration; the VEN is deleted when it acknowledges (R407). */
  cancelRegistration(venId: string): void;
  /** Queue (pull) or push oadrRequestReregistration. */
  requestReregistration(venId: string): void;
  /** Enrol a 2.0a VEN by venID and certificate fingerprint (2.0a has no registration service, R506). */
  enrol20a(input: EnrolVen20aInput): VenView;
}

export interface EnrolCustomerInput {
  readonly customerId: string;
  readonly venName?: string;
  readonly venId?: string;
  readonly fingerprint?: string;
}

export interface CustomersApi {
  enrol(input: EnrolCustomerInput): CustomerRecord;
  get(customerId: string): CustomerRecord | undefined;
  list(): CustomerRecord[];
}

export interface ListenOptions {
  readonly port?: number;
  readonly host?: string;
}

export interface Vtn {
  readonly config: VtnConfig;
  readonly store: VtnStore;
  /** The fastify instance (tests use `app.inject()`). */
  readonly app: FastifyInstance;
  readonly events: EventsApi;
  readonly vens: VensApi;
  readonly customers: CustomersApi;
  /** Report requests, metadata and telemetry (EiReport). */
  readonly reports: ReportsApi;
  /** Opt schedules and event opts (EiOpt); `availableAt(venId, time)`. */
  readonly opt: OptApi;
  /** The programs: the configuration's, and those created or changed through the admin API (stored). */
  readonly programs: ProgramsApi;
  readonly metrics: VtnMetrics;
  /** URL of the separate admin server (config `adminPort`) once listening; undefined when the admin API shares the OpenADR port. */
  adminUrl(): string | undefined;
  /** Handle one decoded VEN→VTN payload, whatever the transport (XMPP plugs in here); `peerFingerprint` turns on the venID binding (R517). */
  handle(payload: Payload, meta?: HandleMeta): DispatchResult;
  /** The outbox of acknowledged ledger work (ledger/outbox.ts); absent without a ledger. */
  readonly ledgerOutbox: LedgerOutbox | undefined;
  /** One pass of the R52 timer now (it runs every poll frequency): re-queues unacknowledged cancellations for pull VENs; returns how many VENs. */
  resendCancellations(): number;
  /** One pass of the report-request re-send now (also on a timer): the requests sent again. */
  resendReportRequests(): number;
  /** Asks the ledger now, as the probe does every 15 s; resolves once it answered or failed (`/readyz` and `oadr_vtn_ledger_up` then report it). */
  probeLedger(): Promise<void>;
  /** Start listening; resolves to the base URL, e.g. `http://127.0.0.1:41234`. */
  listen(options?: ListenOptions): Promise<string>;
  close(): Promise<void>;
}
