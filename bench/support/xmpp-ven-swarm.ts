/**
 * A child process of bench/xmpp-fanout.bench.ts: `count` lightweight XMPP VENs (`<prefix><first>` …,
 * SCRAM accounts the parent created), each one client connection of ours (xmpp/client.ts). Each
 * connects, registers with the VTN by oadrCreatePartyRegistration (transport xmpp, its full JID),
 * answers the VTN's oadrRegisterReport with oadrRegisteredReport, and answers a pushed
 * oadrDistributeEvent with an empty IQ result and then its own oadrCreatedEvent (optIn) in an IQ
 * set, as our VEN does (§8.1). It tells the parent (IPC) when all are registered, and for each VEN
 * when its event arrived and when the VTN's result to its oadrCreatedEvent came back (epoch ms).
 *
 * Started with `fork(file)` and one message: SwarmStart. Sends SwarmMessage.
 */
import { readFileSync } from 'node:fs';
import { decodeOadr, encodeOadr, type Payload } from '../../oadr/index.ts';
import { ven as build } from '../../vtn/testing/fake-ven.ts';
import { createXmppClient, elementXml, NS_OADR_PAYLOAD, OADR_PAYLOAD, payloadElement, type XmppClient } from '../../xmpp/index.ts';

export interface SwarmStart {
  readonly url: string;
  readonly domain: string;
  readonly caFile: string;
  readonly password: string;
  readonly vtnJid: string;
  readonly prefix: string;
  readonly first: number;
  readonly count: number;
  /** Connections and registrations in flight at once. */
  readonly concurrency: number;
}

export type SwarmMessage =
  | { readonly kind: 'registered'; readonly venIds: readonly string[]; readonly failed: number }
  | { readonly kind: 'created'; readonly venId: string; readonly eventAt: number; readonly ackAt: number }
  | { readonly kind: 'error'; readonly message: string };

const now = (): number => performance.timeOrigin + performance.now();
const send = (m: SwarmMessage): void => void process.send?.(m);

async function run(o: SwarmStart): Promise<void> {
  const ca = readFileSync(o.caFile, 'utf8');
  const clients: XmppClient[] = [];
  const venIds: string[] = [];
  let failed = 0;

  async function one(i: number): Promise<void> {
    const name = `${o.prefix}${i}`;
    const client = createXmppClient({
      url: o.url,
      jid: `${name}@${o.domain}`,
      resource: 'ven',
      tls: { ca },
      auth: { mechanism: 'SCRAM-SHA-1', password: o.password },
      reconnectDelayMs: () => 2000,
      timeoutMs: 60_000,
    });
    clients.push(client);
    let venId = '';
    client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, ({ child }) => {
      const p = decodeOadr(Buffer.from(elementXml(child), 'utf8')).payload;
      if (p.type === 'RegisterReport') return payloadElement(encodeOadr({ type: 'RegisteredReport', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, venId }));
      if (p.type === 'DistributeEvent') {
        const eventAt = now();
        const answers = (p.events ?? []).map((e) => ({ eventId: e.descriptor.eventId, modificationNumber: e.descriptor.modificationNumber, requestId: p.requestId }));
        // The empty result goes first; the oadrCreatedEvent follows in an IQ set of its own (§8.1).
        setImmediate(() => {
          void client
            .request(o.vtnJid, payloadElement(encodeOadr(build.createdEvent(venId, answers))), { timeoutMs: 60_000 })
            .then(() => send({ kind: 'created', venId, eventAt, ackAt: now() }))
            .catch((err: unknown) => send({ kind: 'error', message: `${name}: oadrCreatedEvent: ${(err as Error).message}` }));
        });
      }
      return undefined;
    });
    const jid = await client.start();
    const create: Payload = { ...build.create({ venName: name, pull: false, transportAddress: jid, requestId: `reg-${name}` }), transportName: 'xmpp' } as Payload;
    // The VTN may not be online yet: retried for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await client.request(o.vtnJid, payloadElement(encodeOadr(create)), { timeoutMs: 60_000 });
        const p = answer === undefined ? undefined : decodeOadr(Buffer.from(elementXml(answer), 'utf8')).payload;
        if (p?.type !== 'CreatedPartyRegistration' || p.response.code !== 200 || p.venId === undefined) throw new Error(`registration answered ${JSON.stringify(p).slice(0, 200)}`);
        venId = p.venId;
        venIds.push(venId);
        return;
      } catch (err) {
        if (attempt >= 30) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  let next = o.first;
  const end = o.first + o.count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next++;
      try {
        await one(i);
      } catch (err) {
        failed++;
        send({ kind: 'error', message: `${o.prefix}${i}: ${(err as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  send({ kind: 'registered', venIds, failed });
}

process.once('message', (m: SwarmStart) => {
  run(m).catch((err: unknown) => send({ kind: 'error', message: (err as Error).stack ?? String(err) }));
});
