/**
 * How queued payloads reach a VEN: the seam between the VTN's queue and the wire. HTTP pull needs
 * nothing (the VEN polls the queue), HTTP push POSTs to the VEN (http-push.ts), XMPP sends IQ sets
 * to the VEN's JID (xmpp.ts); both push transports run on the per-VEN workers of push-workers.ts.
 */
import type { VenRegistration } from '../store/store.ts';

export const TRANSPORT_KINDS = ['http-pull', 'http-push', 'xmpp'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

export interface VenTransport {
  readonly kind: TransportKind;
  /** Something was queued for this VEN: deliver it when the transport can. */
  wake(reg: VenRegistration): void;
  /** Stop delivering; pending timers are cleared. Queued payloads stay in the store. */
  close(): Promise<void>;
}

export function transportKindOf(reg: VenRegistration): TransportKind {
  if (reg.transportName === 'xmpp') return 'xmpp';
  return reg.httpPullModel ? 'http-pull' : 'http-push';
}

/** HTTP pull: the queue is read by oadrPoll; nothing to do on wake. */
export function createHttpPullTransport(): VenTransport {
  return { kind: 'http-pull', wake: () => {}, close: async () => {} };
}
