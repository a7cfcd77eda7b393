/**
 * The VEN registration state machine (rules digest 3.4): pure `stepRegistration(state, event)`
 * returning the next state and the actions for the session to carry out.
 */
import { durationToMs, ResponseCode, type CreatedPartyRegistration, type CreatePartyRegistration } from '../oadr/index.ts';

export const RegistrationStatus = {
  UNREGISTERED: 'UNREGISTERED',
  REGISTERING: 'REGISTERING',
  SYNCING: 'SYNCING',
  OPERATIONAL: 'OPERATIONAL',
  REREGISTERING: 'REREGISTERING',
} as const;
export type RegistrationStatusValue = (typeof RegistrationStatus)[keyof typeof RegistrationStatus];

export interface Registration {
  readonly venId: string;
  readonly registrationId: string;
  readonly vtnId: string;
  /** oadrRequestedOadrPollFreq in ms (R403); undefined when the VTN gave none. */
  readonly pollFreqMs: number | undefined;
}

export interface RegistrationState {
  readonly status: RegistrationStatusValue;
  readonly registration: Registration | undefined;
  /** Consecutive failures, for the back-off (§9.1.7). */
  readonly failures: number;
}

export const INITIAL_REGISTRATION: RegistrationState = { status: RegistrationStatus.UNREGISTERED, registration: undefined, failures: 0 };

export type RegistrationEvent =
  | { readonly type: 'boot' }
  | { readonly type: 'retry' }
  | { readonly type: 'created'; readonly payload: CreatedPartyRegistration }
  | { readonly type: 'failed' }
  | { readonly type: 'synced' }
  | { readonly type: 'reregistrationRequested' }
  | { readonly type: 'cancelReceived' }
  | { readonly type: 'cancelAcknowledged' }
  | { readonly type: 'notRegistered' };

export type RegistrationAction =
  /** Send oadrCreatePartyRegistration; with IDs when re-registering (R402). */
  | { readonly type: 'sendCreate'; readonly registration: Registration | undefined }
  | { readonly type: 'backoff'; readonly failures: number }
  | { readonly type: 'store'; readonly registration: Registration }
  /** R407: delete everything about the VTN (events, report requests, IDs). */
  | { readonly type: 'clear' }
  /** R309 + R405: send metadata, fetch events. */
  | { readonly type: 'sync' }
  /** R301 on re-registration: metadata again (CHOICE, see docs/ven.md). */
  | { readonly type: 'sendMetadata' };

export interface RegistrationStep {
  readonly state: RegistrationState;
  readonly actions: readonly RegistrationAction[];
}

const S = RegistrationStatus;

/** Reads the IDs out of an oadrCreatedPartyRegistration; undefined when it is an error or lacks them. */
export function registrationFrom(payload: CreatedPartyRegistration): Registration | undefined {
  if (payload.response.code !== ResponseCode.OK || payload.venId === undefined || payload.registrationId === undefined) return undefined;
  let pollFreqMs: number | undefined;
  try {
    pollFreqMs = payload.pollFrequency === undefined ? undefined : durationToMs(payload.pollFrequency, Date.UTC(2000, 0, 1));
  } catch {
    pollFreqMs = undefined;
  }
  return { venId: payload.venId, registrationId: payload.registrationId, vtnId: payload.vtnId, pollFreqMs };
}

export function stepRegistration(state: RegistrationState, event: RegistrationEvent): RegistrationStep {
  switch (event.type) {
    case 'boot':
    case 'retry':
      if (state.status !== S.UNREGISTERED) return { state, actions: [] };
      // R401: an unregistered VEN that knows its VTN registers. CHOICE: with stored IDs if it has them.
      return { state: { ...state, status: state.registration === undefined ? S.REGISTERING : S.REREGISTERING }, actions: [{ type: 'sendCreate', registration: state.registration }] };
    case 'created': {
      if (state.status !== S.REGISTERING && state.status !== S.REREGISTERING) return { state, actions: [] };
      const registration = registrationFrom(event.payload);
      if (registration === undefined) {
        const failures = state.failures + 1;
        // A refused re-registration with stored IDs starts over without them (R406).
        return { state: { status: S.UNREGISTERED, registration: undefined, failures }, actions: [{ type: 'clear' }, { type: 'backoff', failures }] };
      }
      const fresh = state.status === S.REGISTERING || state.registration?.registrationId !== registration.registrationId;
      return fresh
        ? { state: { status: S.SYNCING, registration, failures: 0 }, actions: [{ type: 'store', registration }, { type: 'sync' }] }
        : { state: { status: S.OPERATIONAL, registration, failures: 0 }, actions: [{ type: 'store', registration }, { type: 'sendMetadata' }] };
    }
    case 'failed': {
      if (state.status !== S.REGISTERING && state.status !== S.REREGISTERING) return { state, actions: [] };
      const failures = state.failures + 1;
      return { state: { ...state, status: S.UNREGISTERED, failures }, actions: [{ type: 'backoff', failures }] };
    }
    case 'synced':
      return state.status === S.SYNCING ? { state: { ...state, status: S.OPERATIONAL }, actions: [] } : { state, actions: [] };
    case 'reregistrationRequested':
      if (state.status !== S.OPERATIONAL && state.status !== S.SYNCING) return { state, actions: [] };
      return { state: { ...state, status: S.REREGISTERING }, actions: [{ type: 'sendCreate', registration: state.registration }] };
    case 'cancelReceived':
    case 'cancelAcknowledged':
    case 'notRegistered':
      // R407 (and CHOICE: a 463 means the VTN forgot us): delete all, register again later (R401).
      if (state.status === S.UNREGISTERED && state.registration === undefined) return { state, actions: [] };
      return { state: { status: S.UNREGISTERED, registration: undefined, failures: 0 }, actions: [{ type: 'clear' }, { type: 'backoff', failures: 1 }] };
  }
}

export interface CreateRegistrationOptions {
  readonly requestId: string;
  readonly venName: string;
  readonly registration: Registration | undefined;
  /** HTTP pull (default) or push with this base address (R402); over XMPP the VEN's full JID (§9.3.4.1). */
  readonly transportAddress?: string | undefined;
  /** `xmpp`: register for the XMPP transport (R507, no oadrHttpPullModel); default `simpleHttp`. */
  readonly transportName?: 'simpleHttp' | 'xmpp' | undefined;
  readonly reportOnly?: boolean;
}

/** oadrCreatePartyRegistration (R402): IDs only on re-registration; push needs the transport address. */
export function createRegistrationPayload(o: Readonly<CreateRegistrationOptions>): CreatePartyRegistration {
  const push = o.transportAddress !== undefined;
  const xmpp = o.transportName === 'xmpp';
  return {
    type: 'CreatePartyRegistration',
    schemaVersion: '2.0b',
    requestId: o.requestId,
    ...(o.registration === undefined ? {} : { registrationId: o.registration.registrationId, venId: o.registration.venId }),
    profileName: '2.0b',
    transportName: xmpp ? 'xmpp' : 'simpleHttp',
    ...(push ? { transportAddress: o.transportAddress } : {}),
    reportOnly: o.reportOnly ?? false,
    xmlSignature: false,
    venName: o.venName,
    ...(xmpp ? {} : { httpPullModel: !push }),
  };
}
