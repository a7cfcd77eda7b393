/**
 * venID ↔ JID binding over XMPP (§9.3.4.1, R515, R517; rules digest 8.3 CHOICE). The XMPP server
 * authenticates the sender (SASL EXTERNAL: the JID's local part is the certificate's CN) and stamps
 * the IQ's `from`; the VTN binds the registration to that JID. A VEN registers with the full JID it
 * sends from as `oadrTransportAddress`, and every later payload for its venID must come from the
 * same bare JID: a payload naming another VEN's venID is refused with 452 and changes nothing.
 * Over HTTP, no VEN may register for XMPP (its pushes would go to a JID nobody proved to own).
 */
import { OadrProtocolError, ResponseCode, type Payload } from '../../oadr/index.ts';
import { bareJid } from '../../xmpp/index.ts';
import type { VtnContext } from '../services/context.ts';
import type { VenRegistration } from '../store/store.ts';

const venIdOf = (p: Payload): string | undefined => ('venId' in p && typeof p.venId === 'string' && p.venId !== '' ? p.venId : undefined);

/** True when `reg` is an XMPP registration of the account `sender` sends from. */
const sameAccount = (reg: VenRegistration, sender: string): boolean =>
  reg.transportName === 'xmpp' && reg.transportAddress !== undefined && bareJid(reg.transportAddress) === bareJid(sender);

function foreign(venId: string, reg: VenRegistration, sender: string): OadrProtocolError {
  const bound = reg.transportName === 'xmpp' && reg.transportAddress !== undefined ? `JID ${bareJid(reg.transportAddress)}` : 'HTTP';
  return new OadrProtocolError(
    ResponseCode.INVALID_ID,
    `venID '${venId}' is bound to ${bound}, not to ${bareJid(sender)} (R517); send the venID the VTN issued to this JID, or register anew`,
  );
}

/** The refusal for `p`, which came from `sender` (a full JID; undefined over HTTP), or undefined when it may go on to dispatch. */
export function checkJidBinding(ctx: VtnContext, p: Payload, sender: string | undefined): OadrProtocolError | undefined {
  if (sender === undefined) {
    if (p.type === 'CreatePartyRegistration' && p.transportName === 'xmpp') {
      return new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, 'a VEN registers for the xmpp transport over XMPP, from the JID it gives as oadrTransportAddress (§9.3.4.1)');
    }
    return undefined;
  }
  if (p.type === 'QueryRegistration') return undefined;
  if (p.type === 'CreatePartyRegistration') {
    if (p.transportName !== 'xmpp') {
      return new OadrProtocolError(ResponseCode.COMPLIANCE_ERROR, `over XMPP a VEN registers with oadrTransportName xmpp, not ${p.transportName} (§9.3.4.1)`);
    }
    const address = p.transportAddress?.trim() ?? '';
    if (bareJid(address) !== bareJid(sender) || address.slice(address.indexOf('/')) !== sender.slice(sender.indexOf('/'))) {
      return new OadrProtocolError(ResponseCode.INVALID_ID, `oadrTransportAddress '${address}' is not the JID ${sender} this registration came from; register with your own full JID (§9.3.4.1)`);
    }
    const venId = venIdOf(p);
    const reg = venId === undefined ? undefined : ctx.store.getRegistration(venId);
    if (venId !== undefined && reg !== undefined && !sameAccount(reg, sender)) return foreign(venId, reg, sender);
    if (venId === undefined && p.venName !== undefined && p.venName !== '') {
      const customer = ctx.store.findCustomerByVenName(p.venName);
      const existing = customer === undefined ? undefined : ctx.store.findRegistrationByCustomer(customer.customerId);
      if (existing !== undefined && existing.transportName === 'xmpp' && !sameAccount(existing, sender)) return foreign(existing.venId, existing, sender);
    }
    return undefined;
  }
  const venId = venIdOf(p);
  const reg = venId !== undefined ? ctx.store.getRegistration(venId) : p.type === 'CancelPartyRegistration' ? ctx.store.findRegistrationByRegistrationId(p.registrationId) : undefined;
  if (reg === undefined) return undefined; // dispatch answers 463 (unknown venID) or 459 (none)
  return sameAccount(reg, sender) ? undefined : foreign(reg.venId, reg, sender);
}
