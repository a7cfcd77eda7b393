/**
 * What the VTN's protocol services share: configuration, store, clock, ids, logger, the ledger
 * port and the transports, plus the checks every VEN→VTN payload goes through (R508, R517).
 */
import { randomBytes } from 'node:crypto';
import { OadrProtocolError, ResponseCode, type EiResponse, type Payload, type ResponseCodeValue } from '../../oadr/index.ts';
import type { VtnConfig } from '../cli/config.ts';
import type { LedgerPort } from '../ledger/port.ts';
import type { ProgramsApi } from './programs.ts';
import type { Logger } from '../operations/logger.ts';
import type { VenRegistration, VtnStore } from '../store/store.ts';

export interface VtnContext {
  readonly config: VtnConfig;
  /** The programs: the configuration's and those written through the admin API. */
  readonly programs: ProgramsApi;
  readonly store: VtnStore;
  readonly now: () => number;
  readonly newId: (prefix: string) => string;
  readonly log: Logger;
  readonly ledger: LedgerPort | undefined;
  /** Tell the VEN's transport that its queue has something new (push transports send it). */
  readonly wake: (venId: string) => void;
  /** The outbox of ledger work (ledger/outbox.ts): told when a transaction queued some. Absent without a ledger. */
  readonly ledgerWork?: { kick(): void } | undefined;
  /** Test hook: called at named points of a path (crash tests make the process exit there). */
  readonly crashPoint?: ((name: CrashPointName) => void) | undefined;
  /** True when the VTN has an XMPP connection: VENs may register with transport `xmpp` (R38, R507). */
  readonly xmppServed?: boolean | undefined;
  /** Told after a VEN's availability schedules changed (oadrCreateOpt without an event, R201): its pending events follow them. */
  readonly availabilityChanged?: ((venId: string) => void) | undefined;
}

/** Named points where a crash test may stop the VTN (`VtnOptions.crashPoint`). */
export const CRASH_POINTS = {
  /** A report's intervals and their ledger work are committed; the VEN has no answer yet. */
  reportStored: 'report.stored',
  /** Ledger work is about to go to the ledger. */
  outboxSending: 'outbox.sending',
  /** The ledger side took the work; the outbox rows are not yet removed. */
  outboxSent: 'outbox.sent',
} as const;
export type CrashPointName = (typeof CRASH_POINTS)[keyof typeof CRASH_POINTS];

export function defaultIds(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

export const SCHEMA_VERSION = '2.0b' as const;

export function eiResponse(code: ResponseCodeValue, requestId = '', description?: string): EiResponse {
  const r: EiResponse = { code, requestId };
  if (description !== undefined) r.description = description;
  return r;
}

export function oadrResponse(venId: string | undefined, code: ResponseCodeValue, requestId = '', description?: string): Payload {
  const p: Payload = { type: 'Response', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description) };
  if (venId !== undefined && venId !== '') p.venId = venId;
  return p;
}

/**
 * The registration a VEN→VTN payload speaks for. No venID: 459 (R33, R508). Unknown venID: 463
 * (R517). A venID that matches a registered one only when letter case is ignored: 452 (R512: IDs
 * compare case-sensitively; the VEN is known but sent a wrong ID). With client certificates (the
 * security issue) the registration will come from the certificate, and a foreign venID will be 452.
 */
export function requireVen(ctx: VtnContext, venId: string | undefined): VenRegistration {
  if (venId === undefined || venId === '') {
    throw new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, 'the payload carries no venID (R508); register first and send the venID the VTN issued');
  }
  const reg = ctx.store.getRegistration(venId);
  if (reg !== undefined) return reg;
  if (ctx.store.findRegistrationIgnoringCase(venId) !== undefined) {
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `venID '${venId}' differs from the registered venID in letter case; venIDs compare case-sensitively (R512)`);
  }
  throw new OadrProtocolError(ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, `venID '${venId}' is not registered with this VTN; send oadrCreatePartyRegistration first`);
}
