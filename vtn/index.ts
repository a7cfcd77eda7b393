/**
 * The VTN: OpenADR 2.0b services over HTTP (pull and push), registrations, events and their
 * distribution, a durable store, and the public API the admin REST API and the IEC 104 bridge use.
 *
 * Folders (docs/architecture.md): services/ (the OpenADR services and the event model), transports/
 * (HTTP server, push, the VEN queue and transport seam), admin/ (the admin REST API, OpenAPI, tokens),
 * store/, ledger/ (the ports to the ledger and the scheduler), tls/, operations/ (health, metrics,
 * logging), cli/ (configuration and the `oadr-ledger vtn` command). vtn.ts assembles them; vtn-api.ts
 * is the public API's type. This file is the part's public surface; vtn/ may depend on oadr/,
 * ledger-bridge/ and certs/.
 */
export { createVtn, type VtnOptions } from './vtn.ts';
export type { CustomersApi, EnrolCustomerInput, ListenOptions, VenView, VensApi, Vtn } from './vtn-api.ts';
export {
  DEFAULT_PROGRAM_ID,
  DEFAULT_SLOT_MS,
  IEC104_DEFAULTS,
  IEC104_UNITS,
  PROGRAM_SIGNALS,
  REGISTRATION_POLICIES,
  resolveVtnConfig,
  type Iec104Config,
  type Iec104Unit,
  type ProgramConfig,
  type ProgramConfigInput,
  type ProgramSignal,
  type PushConfig,
  type RegistrationPolicy,
  type VtnConfig,
  type VtnConfigInput,
} from './cli/config.ts';
export { VTN_ERROR_CODES, VtnError, type VtnErrorCode } from './errors.ts';
export {
  POWER_REAL_W,
  SIGNAL_IDS,
  type CreateEventInput,
  type EventsApi,
  type EventVenView,
  type EventView,
  type ModifyEventInput,
  type SignalInput,
} from './services/event-service.ts';
export { eventStatus, type EventStatus, type EventVenState, type OptType, type ResponseRequired, type VtnEvent, type VtnSignal } from './services/event-model.ts';
export type { CustomerRecord, QueueItem, RegistrationState, TelemetryRecord, VenRegistration, VtnStore } from './store/store.ts';
export { createSqliteStore, STORE_FILE, type SqliteStoreOptions } from './store/sqlite-store.ts';
export type { DrEventNotice, LedgerPort, OptRecord, TelemetryPoint } from './ledger/port.ts';
export { LOG_COMPONENT, silentLogger, type Logger } from './operations/logger.ts';
export { SERVICES, type DispatchResult, type ServiceName } from './services/dispatch.ts';
export { TRANSPORT_KINDS, type TransportKind, type VenTransport } from './transports/ven-transport.ts';
export { onSignal as onStopSignal, runVtnCommand, VTN_USAGE, type VtnBridge, type VtnCommandIo } from './cli/cli.ts';
export { REPORT_NAMES, SI_SCALE, type CancelReportOptions, type ReportsApi } from './services/report-service.ts';
export { END_DEVICE_ASSETS, type OptApi, type OptAtOptions, type OptEntry, type OptView, type OptWindow } from './services/opt-service.ts';
export { LEDGER_LATENCY_BUCKETS, METRIC, PROMETHEUS_CONTENT_TYPE, type VtnMetrics } from './operations/metrics.ts';
export { HEALTH_PATHS, type Readiness } from './operations/health.ts';
export { ADMIN_PREFIX, ADMIN_ROUTES, type AdminRoute } from './admin/routes.ts';
export { PROBLEM_CONTENT_TYPE, type Problem } from './admin/admin-api.ts';
export { DOCS_PATH, OPENAPI_PATH, openApiDocument } from './admin/openapi.ts';
export { ADMIN_ROLES, hashToken, ROLE_PERMISSIONS, type AdminRole, type Permission } from './admin/auth.ts';
export type { AdminTokenRecord, ReportRequestRecord, ReportRequestState, TelemetryPointRecord } from './store/store.ts';
export { createMappingLedgerPort, customerLookups, knownRetailers, type CustomerDirectory, type CustomerLookups, type MappingLedgerPort, type MappingLedgerPortOptions } from './ledger/mapping-port.ts';
export { checkStoreFiles, checkStoresAgree, type StoreAgreement, type StoreAgreementInput } from './ledger/startup-check.ts';
