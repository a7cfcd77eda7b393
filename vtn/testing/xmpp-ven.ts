/**
 * Test helpers for the VTN over XMPP against a real Prosody (xmpp/testing/prosody.ts): a Prosody
 * with certificate authentication and the test PKI, the VTN's XMPP connection, and a minimal XMPP
 * VEN that sends payloads as IQ sets and answers pushes (RegisteredReport for the VTN's metadata,
 * an empty result otherwise), keeping everything pushed to it.
 */
import { decodeOadr, encodeOadr, type Payload, type PayloadOf } from '../../oadr/index.ts';
import { createXmppClient, elementXml, NS_OADR_PAYLOAD, OADR_PAYLOAD, payloadElement, presence, type Element, type XmppClient } from '../../xmpp/index.ts';
import { createXmppTestPki, startProsody, type Prosody, type XmppTestPki } from '../../xmpp/testing/prosody.ts';

export interface XmppRig {
  readonly prosody: Prosody;
  readonly pki: XmppTestPki;
  /** An XMPP connection logged in with a certificate whose CN is `local` (SASL EXTERNAL). */
  connection(local: string, resource: string, o?: { readonly reconnectDelayMs?: (n: number) => number; readonly url?: string }): Promise<XmppClient>;
}

/** `discoItems`: what the server lists in its disco#items (the VTN's JID, for the VENs' discovery). */
export async function startXmppRig(t: { after(fn: () => unknown): void }, o: { readonly discoItems?: readonly { jid: string; name: string }[] } = {}): Promise<XmppRig> {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'certificate', pki, ...(o.discoItems === undefined ? {} : { discoItems: o.discoItems }) });
  t.after(() => prosody.stop());
  return {
    prosody,
    pki,
    async connection(local, resource, o = {}) {
      const cred = await pki.client(local);
      return createXmppClient({
        url: o.url ?? prosody.url,
        jid: `${local}@${prosody.domain}`,
        resource,
        tls: { ca: pki.caPem, cert: cred.certificatePem, key: cred.privateKeyPem },
        auth: { mechanism: 'EXTERNAL' },
        reconnectDelayMs: o.reconnectDelayMs ?? (() => 100),
      });
    },
  };
}

export interface XmppTestVen {
  readonly client: XmppClient;
  readonly jid: string;
  /** Every payload the VTN pushed, in order. */
  readonly pushed: Payload[];
  /** Sends `payload` in an IQ set to the VTN; resolves with the answer in the IQ result. */
  call<T extends Payload['type']>(payload: Payload, expect: T): Promise<PayloadOf<T>>;
  /** Sends raw XML as the IQ's child. */
  raw(child: Element, type?: 'get' | 'set'): Promise<Element | undefined>;
  waitForPushed(n: number): Promise<Payload[]>;
}

/** `answerDelayMs`: the VEN answers each push that long after it arrived (a slow VEN: pushes stay in flight). */
export async function startXmppTestVen(t: { after(fn: () => unknown): void }, rig: XmppRig, local: string, vtnJid: string, o: { readonly answerDelayMs?: number } = {}): Promise<XmppTestVen> {
  const client = await rig.connection(local, 'ven');
  const pushed: Payload[] = [];
  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ child }) => {
    const p = decodeOadr(Buffer.from(elementXml(child))).payload;
    pushed.push(p);
    if (o.answerDelayMs !== undefined) await new Promise((r) => setTimeout(r, o.answerDelayMs));
    if (p.type === 'RegisterReport') return payloadElement(encodeOadr({ type: 'RegisteredReport', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, venId: p.venId ?? '' }));
    return undefined;
  });
  client.onOnline(() => void client.send(presence({ to: vtnJid })).catch(() => {}));
  t.after(() => client.stop());
  const jid = await client.start();
  return {
    client,
    jid,
    pushed,
    async call(payload, expect) {
      const answer = await client.request(vtnJid, payloadElement(encodeOadr(payload)));
      if (answer === undefined) throw new Error(`the VTN answered ${payload.type} with an empty IQ result, expected ${expect}`);
      const p = decodeOadr(Buffer.from(elementXml(answer))).payload;
      if (p.type !== expect) throw new Error(`the VTN answered ${payload.type} with ${p.type}, expected ${expect}`);
      return p as PayloadOf<typeof expect>;
    },
    raw: (child, type = 'set') => client.request(vtnJid, child, { type }),
    async waitForPushed(n) {
      for (let i = 0; i < 1000 && pushed.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      if (pushed.length < n) throw new Error(`${pushed.length} payloads pushed to ${jid}, expected ${n}: ${pushed.map((p) => p.type).join(', ')}`);
      return pushed;
    },
  };
}
