/**
 * Errors of the XMPP client. One class, `XmppError`, with a stable `code`; the message says what to
 * do next. Errors a peer sends back in an IQ error travel as `XmppStanzaError` with the RFC 6120
 * condition (`bad-request`, `service-unavailable`, …).
 */

export const XMPP_ERROR_CODES = [
  /** An option is wrong (bad URL, missing credentials). */
  'INVALID_OPTIONS',
  /** The server offers no STARTTLS and the client refuses to authenticate in clear text. */
  'TLS_REQUIRED',
  /** The server does not offer the SASL mechanism the client is set up for (EXTERNAL or SCRAM-SHA-1). */
  'SASL_MECHANISM_UNAVAILABLE',
  /** The client is not connected (or was stopped, or the connection dropped) when a stanza had to go out or its answer was awaited. */
  'OFFLINE',
  /** No answer to an IQ within its timeout. */
  'TIMEOUT',
] as const;
export type XmppErrorCode = (typeof XMPP_ERROR_CODES)[number];

export class XmppError extends Error {
  override readonly name = 'XmppError';
  readonly code: XmppErrorCode;
  constructor(code: XmppErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** An IQ error received from a peer (RFC 6120 §8.3): `condition` is the defined condition's element name. */
export class XmppStanzaError extends Error {
  override readonly name = 'XmppStanzaError';
  readonly condition: string;
  constructor(condition: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.condition = condition;
  }
}
