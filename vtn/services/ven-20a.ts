/**
 * 2.0a VENs (R506, §7.1): 2.0a has no registration service, so the operator enrols a 2.0a VEN by
 * its venID and its TLS certificate's fingerprint, for an enrolled customer; the VTN then serves it
 * on the 2.0a URL (EiEvent only: oadrRequestEvent, oadrCreatedEvent). Its events carry SIMPLE levels
 * (event-service.ts); it sends no reports, so its delivery is measured from imported meter history.
 */
import { normalizeFingerprint, OadrProtocolError, ResponseCode, type OadrProfile, type Payload } from '../../oadr/index.ts';
import { VtnError } from '../errors.ts';
import type { VenRegistration } from '../store/store.ts';
import { queueDistributeEvent } from '../transports/ven-queue.ts';
import type { VtnContext } from './context.ts';
import { attachPendingEvents, hasDeliverableEvents } from './event-service.ts';

export interface EnrolVen20aInput {
  readonly venId: string;
  readonly customerId: string;
  /** The VEN's TLS client certificate fingerprint: the whole SHA-256 or its last 20 hex digits, colons allowed. */
  readonly fingerprint: string;
}

/** Enrol (or re-enrol with a new certificate) a 2.0a VEN; its pending ledger events are attached at once. */
export function enrolVen20a(ctx: VtnContext, input: EnrolVen20aInput): VenRegistration {
  const { venId, customerId } = input;
  if (typeof venId !== 'string' || venId === '') throw new VtnError('INVALID_ARGUMENT', 'venId must be a non-empty string');
  const fingerprint = typeof input.fingerprint === 'string' ? normalizeFingerprint(input.fingerprint) : undefined;
  if (fingerprint === undefined) {
    throw new VtnError('INVALID_ARGUMENT', 'fingerprint must be the fingerprint of the VEN certificate (SHA-256: 64 hex digits, or its last 20, colons allowed); a 2.0a VEN is known by its certificate only');
  }
  const customer = ctx.store.getCustomer(customerId);
  if (customer === undefined) throw new VtnError('NOT_FOUND', `customer ${customerId} is not enrolled; enrol it first (POST /customers)`);
  const holder = ctx.store.findCustomerByVenId(venId)?.customerId ?? ctx.store.venIdOwner(venId);
  if (holder !== undefined && holder !== customerId) {
    throw new VtnError('NOT_ALLOWED', `venID '${venId}' belongs to customer ${holder}; a venID is issued once: choose another`);
  }
  const existing = ctx.store.getRegistration(venId);
  if (existing !== undefined && existing.profileName !== '2.0a') {
    throw new VtnError('NOT_ALLOWED', `venID '${venId}' is registered as a 2.0b VEN; cancel that registration before enrolling it as 2.0a`);
  }
  const other = ctx.store.findRegistrationByCustomer(customerId);
  if (other !== undefined && other.venId !== venId) {
    throw new VtnError('NOT_ALLOWED', `customer ${customerId} already has VEN ${other.venId}; one VEN per customer`);
  }
  const bound = ctx.store.findRegistrationByFingerprint(fingerprint);
  if (bound !== undefined && bound.venId !== venId) {
    throw new VtnError('NOT_ALLOWED', `certificate ${fingerprint} is bound to VEN ${bound.venId}; one certificate per VEN (§10.5.1): use the VEN's own certificate`);
  }
  const reg: VenRegistration = {
    venId,
    registrationId: existing?.registrationId ?? ctx.newId('reg'),
    customerId,
    venName: undefined,
    fingerprint,
    profileName: '2.0a',
    transportName: 'simpleHttp',
    transportAddress: undefined,
    httpPullModel: true,
    reportOnly: false,
    xmlSignature: false,
    registeredAt: existing?.registeredAt ?? ctx.now(),
    state: 'registered',
    reregistrationRequested: false,
  };
  ctx.store.transaction(() => {
    ctx.store.putCustomer({ ...customer, venId, fingerprint });
    ctx.store.putRegistration(reg);
    attachPendingEvents(ctx, venId, customerId);
    if (hasDeliverableEvents(ctx, venId)) queueDistributeEvent(ctx, venId);
  });
  ctx.log.info({ venId, customerId, fingerprint, reenrolled: existing !== undefined }, '2.0a VEN enrolled');
  return reg;
}

/**
 * A payload in a profile its VEN was not enrolled or registered for (R506): a 2.0a document from a
 * 2.0b VEN, or a 2.0b one from a 2.0a VEN, is refused with 452 (its answers could not be written
 * in the profile it reads).
 */
export function checkProfile(ctx: VtnContext, p: Payload, profile: OadrProfile): OadrProtocolError | undefined {
  const venId = 'venId' in p && typeof p.venId === 'string' ? p.venId : undefined;
  const reg = venId === undefined ? undefined : ctx.store.getRegistration(venId);
  if (reg === undefined || reg.profileName === profile) return undefined;
  const path = reg.profileName === '2.0a' ? 'OpenADR2/Simple/EiEvent' : 'OpenADR2/Simple/2.0b/…';
  return new OadrProtocolError(
    ResponseCode.INVALID_ID,
    `VEN ${reg.venId} is enrolled for OpenADR ${reg.profileName}, but sent a ${profile} payload (R506); send ${reg.profileName} payloads to ${path}`,
  );
}
