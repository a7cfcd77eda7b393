/**
 * XML signatures in a conformance run (R514, §10.6): with `--xml-signature` the suite signs every
 * 2.0b payload it sends with its own certificate and key (`--cert`/`--key`), and checks that every
 * 2.0b payload the peer sends carries a valid signature — digest, signature value, a timestamp
 * within 5 minutes of its arrival, a nonce never seen before in the run.
 */
import { createNonceCache, signOadr, verifyOadr } from '../oadr/index.ts';
import type { ExchangeCheck } from './case.ts';

/** Signs one document; text that is not an unsigned oadrPayload (a 2.0a document, non-XML on purpose) goes as it is. */
export type Signer = (xml: string) => string;

export function createSigner(tls: { readonly cert: string; readonly key: string }, now: () => number = Date.now): Signer {
  return (xml) => {
    try {
      return signOadr(xml, { certificatePem: tls.cert, privateKey: tls.key, now: now() });
    } catch {
      return xml;
    }
  };
}

/** R514: every 2.0b payload the peer sends is signed, and the signature holds. */
export function signatureCheck(): ExchangeCheck {
  const nonces = createNonceCache();
  return (e, index) => {
    if (e.direction !== 'received' || !/<(\w+:)?oadrPayload[\s>]/.test(e.body)) return [];
    const v = verifyOadr(e.body, { now: e.at, seenNonce: (n, exp, now) => nonces.seenNonce(n, exp, now) });
    return v.ok ? [] : [{ ruleIds: ['R514'], message: `a payload of the peer is not validly signed: ${v.message}`, expected: 'an XML signature that verifies, a timestamp within 5 minutes, a fresh nonce', actual: v.reason, exchange: index }];
  };
}
