/**
 * SASL EXTERNAL (RFC 4422 Appendix A, XEP-0178) for xmpp.js, which ships none: the identity is the
 * TLS client certificate the STARTTLS handshake presented; the initial response is the authorization
 * identity, our bare JID, so the server checks the certificate names exactly that account.
 */
import type { SaslMechanism } from 'saslmechanisms';

export const SASL_EXTERNAL = 'EXTERNAL';

/** A mechanism class for the saslmechanisms factory; `authzid` is read from the credentials. */
export class SaslExternal implements SaslMechanism {
  // On the prototype, where the saslmechanisms factory reads a mechanism's name.
  get name(): string {
    return SASL_EXTERNAL;
  }
  get clientFirst(): boolean {
    return true;
  }
  response(credentials: Record<string, unknown>): string {
    const authzid = credentials['authzid'];
    return typeof authzid === 'string' ? authzid : '';
  }
  challenge(): this {
    return this;
  }
}
