/**
 * The suite's XMPP side (§9.3): one connection of our XMPP client (xmpp/) to the server the peer
 * uses, recording every stanza it sends and receives as an `Exchange` (channel `xmpp`) on the tape
 * of the case that runs. Requests go out as IQs to the peer's JID and come back as the IQ result's
 * child (the oadrPayload, or nothing for an empty result) or the IQ error's condition; what the
 * peer sends as IQ sets with an oadrPayload child is handed to `onPayload`, whose answer (a payload
 * or nothing) goes back in the IQ result. Nothing is parsed here: the cases decode.
 */
import type { Exchange } from './case.ts';
import type { TapeSlot } from './http-recorder.ts';
import { PeerUnreachable } from './http-recorder.ts';
import { elementXml, NS_OADR_PAYLOAD, NS_STANZAS, OADR_PAYLOAD, payloadElement, presence, XmppError, XmppStanzaError, type Element, type XmppClient } from '../xmpp/index.ts';

/** What came back for an IQ: `result` (the child's XML text, '' for an empty result) or an IQ error's `condition`. */
export interface IqAnswer {
  readonly result?: string;
  readonly condition?: string;
  readonly text?: string;
}

/** What the handler of the peer's IQ sets answers: a payload's XML text for the IQ result, nothing for an empty result, or an IQ error. */
export type PayloadAnswer = string | undefined | { readonly condition: string; readonly text: string };

export interface XmppRecorder {
  readonly client: XmppClient;
  /** The peer's JID (the VTN's, or the VEN's once it registered). */
  peerJid(): string;
  /** The suite's full JID while online. */
  jid(): string | undefined;
  /** Sends an IQ to the peer (or `to`); the child is an element or the XML text of one. */
  request(child: Element | string, o?: { readonly type?: 'get' | 'set'; readonly to?: string }): Promise<IqAnswer>;
  /** What to answer to an IQ set with an oadrPayload child from the peer; `from` is the sender's full JID. */
  onPayload(handler: (xml: string, from: string) => PayloadAnswer | Promise<PayloadAnswer>): void;
  /** Connects, unless connected, and sends presence (directed to the peer when it is known); resolves with the full JID. */
  start(): Promise<string>;
  /** Unavailable presence, then the stream closed. */
  stop(): Promise<void>;
}

export interface XmppRecorderOptions {
  readonly slot: TapeSlot;
  readonly client: XmppClient;
  /** The peer's JID, fixed (the VTN's) or learnt later (a VEN's, from its registration). */
  readonly peerJid: () => string;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

const XML_DECLARATION = /^\s*<\?xml[^?]*\?>\s*/;

/** The condition and text of an IQ error, as `stanzaError` writes them; the error element for the tape. */
const errorBody = (condition: string, text: string): string => `<error><${condition} xmlns="${NS_STANZAS}"/>${text === '' ? '' : `<text xmlns="${NS_STANZAS}">${text.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</text>`}</error>`;

export function createXmppRecorder(options: Readonly<XmppRecorderOptions>): XmppRecorder {
  const now = options.now ?? Date.now;
  const { client } = options;
  let handler: ((xml: string, from: string) => PayloadAnswer | Promise<PayloadAnswer>) | undefined;
  const record = (e: Omit<Exchange, 'at' | 'channel'>): number => options.slot.current.add({ at: now(), channel: 'xmpp', ...e });

  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ from, child }) => {
    const xml = elementXml(child);
    const tape = options.slot.current;
    const i = tape.add({ at: now(), direction: 'received', channel: 'xmpp', method: 'IQ set', url: `xmpp:${from}`, headers: { from }, body: xml });
    const answer = handler === undefined ? undefined : await handler(xml, from);
    if (answer !== undefined && typeof answer !== 'string') {
      tape.add({ at: now(), direction: 'sent', channel: 'xmpp', headers: { 'iq-type': 'error', condition: answer.condition }, body: errorBody(answer.condition, answer.text), answers: i });
      throw new XmppStanzaError(answer.condition, answer.text);
    }
    const body = answer?.replace(XML_DECLARATION, '') ?? '';
    tape.add({ at: now(), direction: 'sent', channel: 'xmpp', headers: { 'iq-type': 'result' }, body, answers: i });
    return body === '' ? undefined : payloadElement(body);
  });
  client.onOnline(() => {
    const to = options.peerJid();
    void client.send(presence(to === '' ? {} : { to })).catch(() => undefined);
  });

  return {
    client,
    peerJid: options.peerJid,
    jid: () => client.jid(),
    async request(child, o = {}) {
      const to = o.to ?? options.peerJid();
      const type = o.type ?? 'set';
      const body = typeof child === 'string' ? child.replace(XML_DECLARATION, '') : child.toString();
      const sent = record({ direction: 'sent', method: `IQ ${type}`, url: `xmpp:${to}`, headers: { to }, body });
      try {
        const answer = await client.request(to, body, { type, timeoutMs: options.timeoutMs });
        const xml = answer === undefined ? '' : elementXml(answer);
        record({ direction: 'received', headers: { 'iq-type': 'result' }, body: xml, answers: sent });
        return { result: xml };
      } catch (err) {
        if (err instanceof XmppStanzaError) {
          const text = err.message;
          record({ direction: 'received', headers: { 'iq-type': 'error', condition: err.condition }, body: errorBody(err.condition, text), answers: sent });
          return { condition: err.condition, text };
        }
        const what = err instanceof XmppError && err.code === 'TIMEOUT' ? `no IQ answer within ${options.timeoutMs} ms (time-out)` : (err as Error).message;
        record({ direction: 'received', headers: {}, body: '', answers: sent, error: what });
        throw new PeerUnreachable(`IQ ${type} to ${to}: ${what}`);
      }
    },
    onPayload: (h) => void (handler = h),
    async start() {
      // Started by the caller already (to check its login): presence now, as on every connection.
      if (!client.online()) return client.start();
      const to = options.peerJid();
      await client.send(presence(to === '' ? {} : { to }));
      return client.jid() ?? '';
    },
    stop: () => client.stop(),
  };
}
