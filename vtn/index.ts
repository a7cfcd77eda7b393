/**
 * The VTN: OpenADR 2.0b services over HTTP (pull and push), registrations, events and their
 * distribution, a durable store, and the public API the admin REST API and the IEC 104 bridge use.
 */
export { createVtn, type CustomersApi, type EnrolCustomerInput, type ListenOptions, type VenView, type VensApi, type Vtn, type VtnOptions } from './vtn.ts';
export {
  DEFAULT_PROGRAM_ID,
  DEFAULT_SLOT_MS,
  PROGRAM_SIGNALS,
  REGISTRATION_POLICIES,
  resolveVtnConfig,
  type ProgramConfig,
  type ProgramConfigInput,
  type ProgramSignal,
  type PushConfig,
  type RegistrationPolicy,
  type VtnConfig,
  type VtnConfigInput,
} from './config.ts';
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
} from './event-service.ts';
export { eventStatus, type EventStatus, type ResponseRequired, type VtnEvent, type VtnSignal } from './event-model.ts';
export type { CustomerRecord, EventVenState, OptType, QueueItem, RegistrationState, TelemetryRecord, VenRegistration, VtnStore } from './store.ts';
export { createSqliteStore, STORE_FILE, type SqliteStoreOptions } from './sqlite-store.ts';
export type { DrEventNotice, LedgerPort, OptRecord, TelemetryPoint } from './ledger-port.ts';
export { LOG_COMPONENT, silentLogger, type Logger } from './logger.ts';
export { SERVICES, type DispatchResult, type ServiceName } from './dispatch.ts';
export { TRANSPORT_KINDS, type TransportKind, type VenTransport } from './ven-transport.ts';
export { runVtnCommand, VTN_USAGE } from './cli.ts';
export { REPORT_NAMES, SI_SCALE, type CancelReportOptions, type ReportsApi } from './report-service.ts';
export { END_DEVICE_ASSETS, type OptApi, type OptAtOptions, type OptEntry, type OptView, type OptWindow } from './opt-service.ts';
export { LEDGER_LATENCY_BUCKETS, METRIC, PROMETHEUS_CONTENT_TYPE, type VtnMetrics } from './metrics.ts';
export { HEALTH_PATHS, type Readiness } from './health.ts';
export { ADMIN_PREFIX, ADMIN_ROUTES, type AdminRoute } from './admin-routes.ts';
export { PROBLEM_CONTENT_TYPE, type Problem } from './admin-api.ts';
export { DOCS_PATH, OPENAPI_PATH, openApiDocument } from './openapi.ts';
export { ADMIN_ROLES, hashToken, ROLE_PERMISSIONS, type AdminRole, type Permission } from './auth.ts';
export type { AdminTokenRecord, ReportRequestRecord, ReportRequestState, TelemetryPointRecord } from './store.ts';
