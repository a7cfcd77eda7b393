/**
 * The VEN: a conformant OpenADR 2.0b client that turns a VTN's events into device actions and
 * its meters into reports. Public surface: the factory, the CLI entry, the pure state machines
 * (for the conformance suite and tests), the transport seam and the error class.
 */
export { createVen, type Ven, type VenOpt, type VenOptions, type VenStatus } from './ven.ts';
export { runVenCommand, VEN_USAGE, type VenCommandIo } from './cli.ts';
export { VenError, VenErrorCode, type VenErrorCodeValue } from './errors.ts';
export { createVenSession, PayloadOrigin, type HandlerResult, type SessionHandler, type VenLogger, type VenSession, type VenSessionOptions } from './session.ts';
export {
  createHttpTransport,
  createPushServer,
  isLoopbackHost,
  serviceUrl,
  SERVICE_OF,
  type HttpTransportOptions,
  type PushServer,
  type PushServerOptions,
  type ServiceName,
  type TlsClientOptions,
  type VtnTransport,
} from './http-transport.ts';
export {
  activeSetting,
  changeOpt,
  EMPTY_EVENT_STORE,
  EventOutcomeKind,
  eventWindow,
  nextChangeAt,
  planAction,
  pruneEvents,
  receiveEvents,
  targetMatches,
  type ActiveSetting,
  type DeviceAction,
  type EventOutcome,
  type EventStoreState,
  type ReceiveContext,
  type StoredEvent,
  type VenIdentity,
} from './event-store.ts';
export {
  acknowledgeOpt,
  cancelOptPayload,
  createOptPayload,
  deviceStatusKey,
  EMPTY_OPT_STATE,
  eventOptTypes,
  newOptRecord,
  optOutsOnStatusChange,
  OptStatus,
  pruneEventOpts,
  putOpt,
  removeOpt,
  type OptOutChange,
  type OptReasonValue,
  type OptRecord,
  type OptScheduleInput,
  type OptState,
  type OptStatusValue,
  type OptWindowInput,
} from './opt-schedules.ts';
export { createVenSignature, peerCertificatePem, SIGNATURE_REFUSED_EVENT, VEN_NONCE_CACHE_ENTRIES, type VenSignature, type VenSignatureOptions } from './xml-signature.ts';
export { createOptPolicy, commandTargetW, type OptDecision, type OptInput, type OptPolicy, type OptPolicyOptions } from './opt-policy.ts';
export { resolveSignal, LOAD_AMOUNT_SIGNAL, DEFAULT_SIGNAL_PREFERENCE, type PowerCommand, type SignalMapOptions } from './signal-map.ts';
export {
  cancelReports,
  createReports,
  dueReports,
  EMPTY_REPORT_STATE,
  metadataPayload,
  MIN_BUFFER_POINTS,
  recordSample,
  type ReportOptions,
  type ReportState,
  type Sample,
} from './reports.ts';
export { createRegistrationPayload, INITIAL_REGISTRATION, RegistrationStatus, stepRegistration, type Registration, type RegistrationState } from './registration.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { openOutbox, OUTBOX_FILE, type Outbox } from './outbox.ts';
export { Metering, type Device, type DeviceLimits, type DeviceReading, type MeteringValue } from './devices/device.ts';
export { createHouseholdSim, RunState, type HouseholdSim, type HouseholdSimOptions, type SimAppliance, type SimRun } from './devices/household-sim.ts';
export {
  italianWeekdayPrices,
  slotOfTime,
  solveSchedule,
  thesisCase,
  THESIS_FIXED_LOAD_BY_HOUR_W,
  THESIS_PRICES_C_EUR_PER_KWH,
  type EmsProblem,
  type EmsSolution,
  type FlexibleAppliance,
} from './ems/index.ts';
