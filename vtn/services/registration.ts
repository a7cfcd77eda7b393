/**
 * EiRegisterParty on the VTN (R400–R407, rules §3): query, create (new registration,
 * re-registration, fresh registration of a registered VEN), cancel in both directions, and
 * oadrRequestReregistration. venID and registrationID are issued here; a VEN is linked to an
 * enrolled customer by its oadrVenName (registration policy `enrolled-only`) or enrols one (`open`).
 */
import {
  checkPayloadRules,
  formatDuration,
  OadrProtocolError,
  ResponseCode,
  type CancelPartyRegistration,
  type CanceledPartyRegistration,
  type CreatePartyRegistration,
  type Payload,
  type QueryRegistration,
  type ResponseCodeValue,
} from '../../oadr/index.ts';
import { SCHEMA_VERSION, eiResponse, oadrResponse, requireVen, type VtnContext } from './context.ts';
import { VtnError } from '../errors.ts';
import { attachPendingEvents, hasDeliverableEvents } from './event-service.ts';
import type { CustomerRecord, VenRegistration } from '../store/store.ts';
import { queueDistributeEvent, queuePayload } from '../transports/ven-queue.ts';
import { checkPushAddress, normalizeTransportAddress } from '../transports/push-target.ts';

/**
 * The registration's push address: `None` or empty is no address (pull); a push address must pass
 * the push-target policy (https, no loopback/link-local/private host unless allow-listed): 454 for
 * an address that is not one the VTN pushes to (another scheme, not a URL), 451 for a forbidden host.
 */
function pushAddressOf(ctx: VtnContext, p: CreatePartyRegistration): string | undefined {
  const address = normalizeTransportAddress(p.transportAddress);
  if (p.transportName === 'xmpp') {
    // §9.3.4.1: the VEN's full JID, `local@domain/resource`, to which the VTN sends everything.
    if (address === undefined || !FULL_JID.test(address)) {
      throw new OadrProtocolError(ResponseCode.INVALID_DATA, `oadrTransportAddress '${address ?? ''}' is not a full JID; an XMPP VEN registers with the JID it logged in with, local@domain/resource (§9.3.4.1)`);
    }
    return address;
  }
  if (address === undefined || p.httpPullModel !== false) return address;
  const refused = checkPushAddress(address, ctx.config.push);
  if (refused !== undefined) throw new OadrProtocolError(refused.kind === 'invalid' ? ResponseCode.INVALID_DATA : ResponseCode.NOT_ALLOWED, `${refused.message}; or register for pull (oadrHttpPullModel true)`);
  return address;
}

const FULL_JID = /^[^@/\s]+@[^@/\s]+\/\S+$/;

/** The transports this VTN serves (R38, R507: XMPP when it has an XMPP connection). */
const servedTransports = (ctx: VtnContext): ('simpleHttp' | 'xmpp')[] => (ctx.xmppServed === true ? ['simpleHttp', 'xmpp'] : ['simpleHttp']);

/** oadrCreatedPartyRegistration; IDs only for a registered VEN (R403, R404). */
export function createdPartyRegistration(
  ctx: VtnContext,
  code: ResponseCodeValue,
  requestId: string,
  reg?: VenRegistration,
  description?: string,
): Payload {
  const p: Payload = {
    type: 'CreatedPartyRegistration',
    schemaVersion: SCHEMA_VERSION,
    response: eiResponse(code, requestId, description),
    vtnId: ctx.config.vtnId,
    profiles: [{ profileName: '2.0b', transports: servedTransports(ctx) }],
  };
  if (reg !== undefined) {
    p.registrationId = reg.registrationId;
    p.venId = reg.venId;
    if (reg.httpPullModel) p.pollFrequency = formatDuration(ctx.config.pollFrequencyMs);
  } else {
    p.pollFrequency = formatDuration(ctx.config.pollFrequencyMs);
  }
  return p;
}

/** R404: profiles and transports; without a client certificate the VEN is unknown, so no IDs. */
export function handleQueryRegistration(ctx: VtnContext, p: QueryRegistration): Payload {
  return createdPartyRegistration(ctx, ResponseCode.OK, p.requestId);
}

/** The VTN's own metadata, queued for the VEN's first poll (R301, R309); the VTN offers no reports yet. */
export function vtnRegisterReport(ctx: VtnContext, venId: string): Payload {
  return { type: 'RegisterReport', schemaVersion: SCHEMA_VERSION, requestId: ctx.newId('req'), venId };
}

export function handleCreatePartyRegistration(ctx: VtnContext, given: CreatePartyRegistration): Payload {
  const log = ctx.log;
  const address = normalizeTransportAddress(given.transportAddress);
  const p: CreatePartyRegistration = { ...given };
  if (address === undefined) delete p.transportAddress;
  const finding = checkPayloadRules({ payload: p }).find((f) => f.severity === 'error' && f.rule === 'R402');
  if (finding !== undefined) throw new OadrProtocolError(finding.responseCode, `${finding.rule}: ${finding.message}`);
  if (p.profileName !== '2.0b') {
    throw new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, `profile ${p.profileName} is not served by this VTN yet; register with oadrProfileName 2.0b`);
  }
  if (!servedTransports(ctx).includes(p.transportName)) {
    throw new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, `transport ${p.transportName} is not served by this VTN; register with simpleHttp (the VTN serves xmpp when it runs with an XMPP connection)`);
  }
  const now = ctx.now();
  const transport = {
    profileName: p.profileName,
    transportName: p.transportName,
    transportAddress: pushAddressOf(ctx, p),
    // XMPP is push by nature (R507): no polling, so no poll frequency in the answer.
    httpPullModel: p.transportName === 'xmpp' ? false : (p.httpPullModel ?? true),
    reportOnly: p.reportOnly,
    xmlSignature: p.xmlSignature,
  } as const;

  if (p.registrationId !== undefined) {
    // Re-registration (R402): both IDs must match the registration (R400).
    const reg = p.venId === undefined ? undefined : ctx.store.getRegistration(p.venId);
    if (reg === undefined || reg.registrationId !== p.registrationId) {
      throw new OadrProtocolError(
        ResponseCode.INVALID_ID,
        `registrationID '${p.registrationId}' and venID '${p.venId ?? ''}' do not match a registration (R400); register anew without IDs`,
      );
    }
    const updated: VenRegistration = { ...reg, ...transport, venName: p.venName ?? reg.venName, state: 'registered', reregistrationRequested: false };
    ctx.store.transaction(() => {
      ctx.store.putRegistration(updated);
      if (attachPendingEvents(ctx, reg.venId, reg.customerId).length > 0) queueDistributeEvent(ctx, reg.venId);
    });
    // Metadata after a re-registration (R301 vs R405, rules §10): the VTN sends it again.
    queuePayload(ctx, reg.venId, vtnRegisterReport(ctx, reg.venId));
    log.info({ venId: reg.venId, registrationId: reg.registrationId }, 'VEN re-registered');
    return createdPartyRegistration(ctx, ResponseCode.OK, p.requestId, updated);
  }

  let customer: CustomerRecord | undefined;
  let existing: VenRegistration | undefined;
  if (p.venId !== undefined) {
    // A pre-configured venID (R402), validated like any venID (R400).
    existing = ctx.store.getRegistration(p.venId);
    customer = existing !== undefined ? ctx.store.getCustomer(existing.customerId) : ctx.store.findCustomerByVenId(p.venId);
    if (customer === undefined || (p.venName !== undefined && customer.venName !== undefined && customer.venName !== p.venName)) {
      throw new OadrProtocolError(
        ResponseCode.INVALID_ID,
        `venID '${p.venId}' is not pre-configured for ${p.venName === undefined ? 'this VEN' : `VEN name '${p.venName}'`} (R400); register without a venID or enrol the customer with it`,
      );
    }
  } else {
    if (p.venName !== undefined && p.venName !== '') customer = ctx.store.findCustomerByVenName(p.venName);
    if (customer === undefined) {
      if (ctx.config.registrationPolicy !== 'open') {
        throw new OadrProtocolError(
          ResponseCode.NOT_REGISTERED_OR_AUTHORIZED,
          `VEN name '${p.venName ?? ''}' is not linked to an enrolled customer; enrol the customer with this venName, or run the VTN with registrationPolicy open`,
        );
      }
      customer = { customerId: p.venName !== undefined && p.venName !== '' ? p.venName : ctx.newId('customer'), venName: p.venName, fingerprint: undefined, venId: undefined, enrolledAt: now };
      ctx.store.putCustomer(customer);
      log.info({ customerId: customer.customerId, venName: p.venName }, 'customer enrolled on first registration (policy open)');
    }
    existing = ctx.store.findRegistrationByCustomer(customer.customerId);
  }

  const found = customer;
  const reg = ctx.store.transaction((): VenRegistration => {
    if (existing !== undefined && existing.reregistrationRequested) {
      // Requested by the VTN: a create without IDs keeps the VEN's state (R406).
      const r: VenRegistration = { ...existing, ...transport, venName: p.venName ?? existing.venName, state: 'registered', reregistrationRequested: false };
      ctx.store.putRegistration(r);
      if (attachPendingEvents(ctx, r.venId, r.customerId).length > 0) queueDistributeEvent(ctx, r.venId);
      return r;
    }
    if (existing !== undefined) {
      // R406: a fresh registration of a registered VEN erases its reporting and registration state.
      ctx.store.eraseVen(existing.venId, { keepRegistration: true });
    }
    const r: VenRegistration = {
      venId: existing?.venId ?? found.venId ?? ctx.newId('ven'),
      registrationId: ctx.newId('reg'),
      customerId: found.customerId,
      venName: p.venName,
      fingerprint: undefined,
      ...transport,
      registeredAt: now,
      state: 'registered',
      reregistrationRequested: false,
    };
    ctx.store.putRegistration(r);
    attachPendingEvents(ctx, r.venId, r.customerId);
    // R301, R309: the VTN's metadata first; then the VEN's events if it has any.
    queuePayload(ctx, r.venId, vtnRegisterReport(ctx, r.venId));
    if (hasDeliverableEvents(ctx, r.venId)) queueDistributeEvent(ctx, r.venId);
    return r;
  });
  log.info({ venId: reg.venId, registrationId: reg.registrationId, customerId: reg.customerId, pull: reg.httpPullModel, fresh: existing !== undefined }, 'VEN registered');
  return createdPartyRegistration(ctx, ResponseCode.OK, p.requestId, reg);
}

export function canceledPartyRegistration(code: ResponseCodeValue, requestId: string, registrationId?: string, venId?: string, description?: string): Payload {
  const p: Payload = { type: 'CanceledPartyRegistration', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description) };
  if (registrationId !== undefined) p.registrationId = registrationId;
  if (venId !== undefined) p.venId = venId;
  return p;
}

/** R407: the VEN cancels; everything about it is deleted, and its next payload gets 463. */
export function handleCancelPartyRegistration(ctx: VtnContext, p: CancelPartyRegistration): Payload {
  const reg = p.venId !== undefined ? requireVen(ctx, p.venId) : ctx.store.findRegistrationByRegistrationId(p.registrationId);
  if (reg === undefined || reg.registrationId !== p.registrationId) {
    throw new OadrProtocolError(ResponseCode.INVALID_ID, `registrationID '${p.registrationId}' is not this VEN's registration (R400)`);
  }
  ctx.store.eraseVen(reg.venId, { keepRegistration: false });
  ctx.log.info({ venId: reg.venId, registrationId: reg.registrationId }, 'VEN cancelled its registration; its state is deleted (R407)');
  return canceledPartyRegistration(ResponseCode.OK, p.requestId, reg.registrationId, reg.venId);
}

/** The VEN's answer to a VTN cancellation: now the VTN deletes it (R407). */
export function handleCanceledPartyRegistration(ctx: VtnContext, p: CanceledPartyRegistration): Payload {
  const reg = requireVen(ctx, p.venId);
  if (reg.state !== 'cancelling') {
    throw new OadrProtocolError(ResponseCode.OUT_OF_SEQUENCE, 'the VTN did not cancel this registration; oadrCanceledPartyRegistration is unexpected');
  }
  ctx.store.eraseVen(reg.venId, { keepRegistration: false });
  ctx.log.info({ venId: reg.venId }, 'VEN acknowledged the cancellation; its state is deleted (R407)');
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}

function registered(ctx: VtnContext, venId: string): VenRegistration {
  const reg = ctx.store.getRegistration(venId);
  if (reg === undefined) throw new VtnError('NOT_FOUND', `no VEN '${venId}' is registered; list the VENs to find its venID`);
  return reg;
}

/** The VTN cancels a VEN's registration: oadrCancelPartyRegistration is queued (pull) or pushed. */
export function cancelRegistration(ctx: VtnContext, venId: string): void {
  const reg = registered(ctx, venId);
  ctx.store.transaction(() => {
    ctx.store.putRegistration({ ...reg, state: 'cancelling' });
    queuePayload(ctx, venId, { type: 'CancelPartyRegistration', schemaVersion: SCHEMA_VERSION, requestId: ctx.newId('req'), registrationId: reg.registrationId, venId });
  });
}

/** The VTN asks the VEN to register again (oadrRequestReregistration); its state survives (R406). */
export function requestReregistration(ctx: VtnContext, venId: string): void {
  const reg = registered(ctx, venId);
  ctx.store.transaction(() => {
    ctx.store.putRegistration({ ...reg, reregistrationRequested: true });
    queuePayload(ctx, venId, { type: 'RequestReregistration', schemaVersion: SCHEMA_VERSION, venId });
  });
}
