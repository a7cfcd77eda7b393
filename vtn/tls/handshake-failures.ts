/**
 * Failed TLS handshakes, made visible to the operator helping an installer: a VEN whose chain lacks
 * the intermediate, or whose certificate is expired, revoked or from another CA, fails before any
 * request exists. Each failure is counted in `/metrics` by reason and logged at warn level once per
 * peer address and reason (a bounded memory, so a scan cannot flood the log or the heap).
 */
import type { Server } from 'node:net';
import type { Logger } from '../operations/logger.ts';
import type { VtnMetrics } from '../operations/metrics.ts';
import { SECURITY_EVENT } from './binding.ts';

const MAX_REMEMBERED = 10_000;

export interface HandshakeFailureOptions {
  readonly log: Logger;
  readonly metrics: VtnMetrics;
}

/** The reason of a handshake failure: the OpenSSL reason code when there is one, else Node's code. */
export function handshakeFailureReason(err: Error & { code?: string; reason?: string }): string {
  if (typeof err.reason === 'string' && err.reason !== '') return err.reason.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return typeof err.code === 'string' ? err.code : 'unknown';
}

export function watchHandshakeFailures(server: Server, o: Readonly<HandshakeFailureOptions>): void {
  const logged = new Set<string>();
  server.on('tlsClientError', (err: Error & { code?: string; reason?: string }, socket: { remoteAddress?: string }) => {
    const reason = handshakeFailureReason(err);
    o.metrics.tlsHandshakeFailure(reason);
    const peer = socket.remoteAddress ?? 'unknown';
    const key = `${peer}|${reason}`;
    if (logged.has(key)) return;
    if (logged.size >= MAX_REMEMBERED) logged.clear();
    logged.add(key);
    o.log.warn(
      { securityEvent: SECURITY_EVENT.tlsHandshakeFailed, peer, reason, err: { message: err.message, code: err.code } },
      `TLS handshake with ${peer} failed (${reason}); check that the client sends its full chain (leaf and intermediate) from a trusted OpenADR CA, valid and not revoked (logged once per address and reason)`,
    );
  });
}
