/**
 * STARTTLS (RFC 6120 §5) with our TLS options: xmpp.js's own stream feature upgrades with the
 * domain name only, so no client certificate (SASL EXTERNAL needs one) and no private CA reach the
 * handshake. This one passes `ca`, `cert`, `key`, the server name and TLS 1.2 as the floor (R38:
 * the OpenADR 2.0b TLS profile), and refuses to go on in clear text when the server offers no
 * STARTTLS (`requireTls`).
 */
import { TLSSocket, type ConnectionOptions } from 'node:tls';
import { Socket as NetSocket } from 'node:net';
import { xml } from '@xmpp/xml';
import { promise } from '@xmpp/events';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import type { Client } from '@xmpp/client-core';
import type { StreamFeatures } from '@xmpp/stream-features';
import { XmppError } from './errors.ts';

export const NS_STARTTLS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** What the TLS handshake presents and trusts. */
export interface XmppTlsOptions {
  /** Trusted CA certificates (PEM); absent: Node's default roots. */
  readonly ca?: string | readonly string[] | undefined;
  /** Our client certificate chain (PEM), for SASL EXTERNAL. */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** The name the server's certificate must carry; default the XMPP domain. */
  readonly servername?: string | undefined;
}

export function tlsConnectOptions(domain: string, options: Readonly<XmppTlsOptions>): ConnectionOptions {
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? options.ca : [...options.ca];
  return {
    servername: options.servername ?? domain,
    host: options.servername ?? domain,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
  };
}

/** Registers the STARTTLS stream feature on `streamFeatures`, ahead of SASL. */
export function useStartTls(streamFeatures: StreamFeatures, entity: Client, tls: Readonly<XmppTlsOptions>): void {
  streamFeatures.use('starttls', NS_STARTTLS, async () => {
    // xmpp.js's TCP socket is a net.Socket subclass; after the upgrade it is a wrapper around a TLSSocket.
    const raw: unknown = entity.socket;
    if (!(raw instanceof NetSocket) || raw instanceof TLSSocket) return;
    const answer = await entity.sendReceive(xml('starttls', { xmlns: NS_STARTTLS }));
    if (!answer.is('proceed', NS_STARTTLS)) throw new XmppError('TLS_REQUIRED', `the XMPP server refused STARTTLS (${answer.name}); check its TLS certificate configuration`);
    const secure = new TlsSocket();
    secure.connect({ socket: raw, ...tlsConnectOptions(entity.options.domain, tls) });
    await promise(secure, 'connect', 'error');
    entity._attachSocket(secure);
    await entity.restart();
  });
}
