/**
 * A run against a VTN: the suite's recording client, its push server (for http-push) or its XMPP
 * connection (for xmpp), the adapter, the VTN-side cases, and the runner.
 */
import type { RunResult } from './case.ts';
import type { VtnAdapter } from './adapters/adapter.ts';
import { createPushInbox, releaseCertificate, serviceOf, singleIdentity, type AsVen, type RegisteredVen } from './as-ven.ts';
import { vtnCases } from './cases/vtn-cases.ts';
import { createRecordingClient, createTape, startRecordingServer, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
import { runSuite, type SuiteOptions } from './runner.ts';
import { createSigner, signatureCheck } from './signature.ts';
import { createXmppRecorder } from './xmpp-recorder.ts';
import { decodeDocument } from '../oadr/index.ts';
import type { XmppClient } from '../xmpp/index.ts';

/** The suite's XMPP side against a VTN: a connection of our client (not started) and the VTN's JID. */
export interface VtnXmppOptions {
  /** Logged in as the suite's VEN JID, with a fixed resource (the JID it registers). */
  readonly client: XmppClient;
  /** The VTN's full JID (its services' JID, §9.3.4.9). */
  readonly vtnJid: string;
}

export interface VtnSuiteOptions extends SuiteOptions<AsVen> {
  /** The VTN's base URL (without `/OpenADR2/…`). */
  readonly url: string;
  /** Prefix of the names of the VENs the suite registers (default `conformance`). */
  readonly venName?: string | undefined;
  readonly tls?: TlsMaterial | undefined;
  /** An expired client certificate and key from the CA the VTN trusts (R516). */
  readonly expiredClient?: { readonly cert: string; readonly key: string } | undefined;
  readonly adapter?: VtnAdapter | undefined;
  /** Sign what the suite sends with `tls` cert and key, and check the VTN's signatures (R514). */
  readonly xmlSignature?: boolean | undefined;
  /** Where the suite listens for pushes (http-push), default 127.0.0.1:0. */
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  /** The base URL the VTN pushes to, when it differs from where the suite listens (NAT, proxy). */
  readonly pushUrl?: string | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly deliveryTimeoutMs?: number | undefined;
  readonly pollGapMs?: number | undefined;
  readonly eventLeadMinutes?: number | undefined;
  /** For `transport: 'xmpp'`: the suite's connection and the VTN's JID. */
  readonly xmpp?: VtnXmppOptions | undefined;
}

export async function runVtnSuite(options: Readonly<VtnSuiteOptions>): Promise<RunResult> {
  const slot: TapeSlot = { current: createTape() };
  const client = createRecordingClient({ slot, tls: options.tls, timeoutMs: options.requestTimeoutMs ?? 10_000 });
  const signer = options.xmlSignature === true && options.tls !== undefined ? createSigner(options.tls) : undefined;
  const inbox = createPushInbox(signer);
  if (options.transport === 'xmpp' && options.xmpp === undefined) throw new Error('an XMPP run needs the suite\'s XMPP connection and the VTN\'s JID (options.xmpp)');
  const xmpp = options.transport === 'xmpp' && options.xmpp !== undefined ? createXmppRecorder({ slot, client: options.xmpp.client, peerJid: () => options.xmpp?.vtnJid ?? '', timeoutMs: options.requestTimeoutMs ?? 10_000 }) : undefined;
  const server =
    options.transport === 'http-push'
      ? await startRecordingServer({ slot, host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? 0, handler: inbox.handler, tls: options.tls })
      : undefined;
  const venName = options.venName ?? 'conformance';
  let serial = 0;
  const run = Date.now().toString(36);
  const ctx: AsVen = {
    vtnUrl: options.url.replace(/\/+$/, ''),
    transport: options.transport,
    venName,
    client,
    clientCertificate: options.tls !== undefined && options.url.startsWith('https:'),
    tls: options.tls,
    expiredClient: options.expiredClient,
    adapter: options.adapter,
    signer,
    pushBase: options.pushUrl ?? server?.url,
    inbox,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 8_000,
    pollGapMs: options.pollGapMs ?? 200,
    eventLeadMinutes: options.eventLeadMinutes ?? 30,
    vens: new Map<string, RegisteredVen>(),
    issued: new Map<string, string>(),
    nextName: (tag) => `${venName}-${run}-${tag}-${++serial}`,
    xmpp,
  };
  // What the VTN pushes over XMPP goes to the one VEN the suite's JID holds.
  xmpp?.onPayload((xml) => {
    let payload;
    try {
      payload = decodeDocument(xml).message.payload;
    } catch (err) {
      return { condition: 'bad-request', text: `not an OpenADR 2.0b payload: ${(err as Error).message}` };
    }
    const name = inbox.holder.name ?? '(no VEN registered)';
    return inbox.take(name, serviceOf(payload), payload, {});
  });
  if (xmpp !== undefined) await xmpp.start();
  try {
    const checks = signer === undefined ? options.checks : [...(options.checks ?? []), signatureCheck()];
    return await runSuite({ ...options, checks }, {
      side: 'vtn',
      peer: xmpp === undefined ? options.url : `xmpp:${options.xmpp?.vtnJid ?? ''}`,
      cases: vtnCases,
      context: ctx,
      slot,
      beforeEach: async (c) => {
        if (singleIdentity(c)) await releaseCertificate(c);
      },
    });
  } finally {
    await server?.close();
    await xmpp?.stop();
  }
}
