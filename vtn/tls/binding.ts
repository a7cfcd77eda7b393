/**
 * venID ↔ certificate binding (§9.2.1.1, §10.5.1, R400, R517; rules digest 9.4 and 10): one venID
 * per certificate fingerprint. The fingerprint is bound at registration — the customer's enrolled
 * fingerprint when there is one (`enrolled-only`), else the certificate of the first registration
 * (`open`, or a customer enrolled by VEN name only). A payload whose venID does not belong to the
 * certificate that carried it is refused: 452 when the certificate is bound to another VEN (a
 * registered VEN sending a foreign venID), 463 when the certificate is bound to no VEN (CHOICE of
 * the digest, row "cert/venID mismatch code"). Every refusal is a security event in the log.
 */
import { fingerprintsEqual, normalizeFingerprint, OadrProtocolError, ResponseCode, type Payload } from '../../oadr/index.ts';
import type { VtnContext } from '../services/context.ts';
import type { VenRegistration } from '../store/store.ts';

/** The `securityEvent` field of the log records this part writes (stable names, for alerting). */
export const SECURITY_EVENT = {
  /** A payload whose venID is not the one bound to the TLS peer's certificate. */
  venIdMismatch: 'VEN_ID_CERTIFICATE_MISMATCH',
  /** A payload refused because its XML signature is missing or invalid (R514). */
  badSignature: 'XML_SIGNATURE_REFUSED',
  /** A push not sent: its address resolves to a loopback, link-local or private host (push-target.ts). */
  pushTargetRefused: 'PUSH_TARGET_REFUSED',
  /** A TLS handshake that failed (once per peer address and reason). */
  tlsHandshakeFailed: 'TLS_HANDSHAKE_FAILED',
  /** Admin API authentication failures beyond the rate limit (429). */
  adminAuthRateLimited: 'ADMIN_AUTH_RATE_LIMITED',
  adminRequestsRateLimited: 'ADMIN_REQUESTS_RATE_LIMITED',
} as const;

const same = (a: string | undefined, b: string): boolean => a !== undefined && fingerprintsEqual(a, b);

/** The VEN bound to a certificate: an indexed lookup (a scan of every registration made a foreign venID cost ~70 ms at 10,000 VENs). */
function boundTo(ctx: VtnContext, fingerprint: string): VenRegistration | undefined {
  const reg = ctx.store.findRegistrationByFingerprint(normalizeFingerprint(fingerprint) ?? fingerprint);
  return reg !== undefined && same(reg.fingerprint, fingerprint) ? reg : undefined;
}

function venIdOf(p: Payload): string | undefined {
  return 'venId' in p && typeof p.venId === 'string' && p.venId !== '' ? p.venId : undefined;
}

/** 452 or 463 for a venID that is not the certificate's. */
function foreign(ctx: VtnContext, fingerprint: string, claimed: string | undefined): OadrProtocolError {
  const own = boundTo(ctx, fingerprint);
  if (own !== undefined) {
    return new OadrProtocolError(
      ResponseCode.INVALID_ID,
      `venID '${claimed ?? ''}' does not belong to the certificate ${fingerprint}, which is bound to venID ${own.venId} (R517); send the venID the VTN issued to this certificate`,
    );
  }
  return new OadrProtocolError(
    ResponseCode.NOT_REGISTERED_OR_AUTHORIZED,
    `certificate ${fingerprint} is not bound to venID '${claimed ?? ''}' nor to any VEN (§9.2.1.1); register this VEN with its own certificate, or enrol the certificate's fingerprint for the customer`,
  );
}

/**
 * The refusal for `p` carried by a certificate with `fingerprint`, or undefined when the payload
 * may go on to dispatch. Read-only; `bindRegistration` records the binding after a registration.
 */
export function checkCertificateBinding(ctx: VtnContext, p: Payload, fingerprint: string): OadrProtocolError | undefined {
  if (p.type === 'QueryRegistration') return undefined; // R404: any trusted certificate may ask
  if (p.type === 'CreatePartyRegistration') {
    const own = boundTo(ctx, fingerprint);
    const venId = venIdOf(p);
    if (venId !== undefined) {
      const reg = ctx.store.getRegistration(venId);
      if (reg !== undefined) return same(reg.fingerprint, fingerprint) ? undefined : foreignRegistration(fingerprint, venId);
      const pre = ctx.store.findCustomerByVenId(venId);
      if (pre?.fingerprint !== undefined && !same(pre.fingerprint, fingerprint)) return foreignRegistration(fingerprint, venId);
      if (own !== undefined && own.venId !== venId) return foreignRegistration(fingerprint, venId);
      return undefined;
    }
    const customer = p.venName === undefined || p.venName === '' ? undefined : ctx.store.findCustomerByVenName(p.venName);
    if (customer?.fingerprint !== undefined && !same(customer.fingerprint, fingerprint)) return foreignRegistration(fingerprint, p.venName ?? '');
    const existing = customer === undefined ? undefined : ctx.store.findRegistrationByCustomer(customer.customerId);
    if (existing?.fingerprint !== undefined && !same(existing.fingerprint, fingerprint)) return foreignRegistration(fingerprint, existing.venId);
    if (own !== undefined && (customer === undefined || own.customerId !== customer.customerId)) {
      return new OadrProtocolError(
        ResponseCode.INVALID_ID,
        `certificate ${fingerprint} is already bound to venID ${own.venId}; one certificate registers one VEN (§10.5.1): re-register with venID ${own.venId} and its registrationID, or use another certificate`,
      );
    }
    return undefined;
  }
  const venId = venIdOf(p);
  if (venId === undefined) {
    // oadrCancelPartyRegistration may name only its registrationID.
    if (p.type === 'CancelPartyRegistration') {
      const reg = ctx.store.findRegistrationByRegistrationId(p.registrationId);
      return reg === undefined || same(reg.fingerprint, fingerprint) ? undefined : foreign(ctx, fingerprint, reg.venId);
    }
    return undefined; // no venID: dispatch answers 459 (R508)
  }
  const reg = ctx.store.getRegistration(venId);
  if (reg !== undefined && same(reg.fingerprint, fingerprint)) return undefined;
  if (reg === undefined && boundTo(ctx, fingerprint) === undefined) return undefined; // unknown venID, unknown certificate: dispatch answers 463
  return foreign(ctx, fingerprint, venId);
}

function foreignRegistration(fingerprint: string, what: string): OadrProtocolError {
  return new OadrProtocolError(
    ResponseCode.INVALID_ID,
    `'${what}' is bound to another certificate than ${fingerprint} (R400, §10.5.1); register with the certificate enrolled for this VEN, or update the customer's enrolled fingerprint`,
  );
}

/** After a successful registration: bind the certificate to the venID, and to the customer when it had none. */
export function bindRegistration(ctx: VtnContext, answer: Payload, fingerprint: string): void {
  if (answer.type !== 'CreatedPartyRegistration' || answer.response.code !== ResponseCode.OK || answer.venId === undefined) return;
  const reg = ctx.store.getRegistration(answer.venId);
  if (reg === undefined) return;
  if (!same(reg.fingerprint, fingerprint)) ctx.store.putRegistration({ ...reg, fingerprint: normalizeFingerprint(fingerprint) ?? fingerprint });
  const customer = ctx.store.getCustomer(reg.customerId);
  if (customer !== undefined && customer.fingerprint === undefined) {
    ctx.store.putCustomer({ ...customer, fingerprint });
    ctx.log.info({ venId: reg.venId, customerId: customer.customerId, fingerprint }, 'certificate fingerprint recorded for the customer at first registration');
  }
}
