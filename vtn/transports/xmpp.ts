/**
 * XMPP (R38, R507, §9.3): the VTN's side of the OpenADR XMPP binding over one client connection
 * (`XmppClient`, made by the caller). Inbound, every operation is an IQ set whose only child is the
 * oadrPayload (§9.3.4.2): it goes to the same `handle` as an HTTP request, with the sender's JID
 * (the server's stamp) for the venID ↔ JID binding, and the answer travels in the IQ result. A
 * payload that is not schema-valid gets IQ error `bad-request` (`policy-violation` beyond the size
 * limit), an IQ get `bad-request`, oadrPoll `not-allowed` (R507), and nothing is stored.
 * Application errors travel as OpenADR response codes, as over HTTP.
 *
 * Outbound, this is the `VenTransport` of VENs registered with transport `xmpp`: each queued
 * payload goes as an IQ set to the VEN's registered full JID, one at a time per VEN, in queue
 * order; it leaves the queue when the VEN answered with an IQ result (the answer's payload, e.g.
 * oadrCreatedReport, is handled like a request). A VEN that is offline (`service-unavailable`) keeps
 * its queue until its presence returns; timeouts and a lost server connection are retried with
 * back-off; other IQ errors drop the payload with an error log (the VEN refused it).
 *
 * With a `signature` (R514), every inbound payload must carry a valid XML signature (IQ error
 * `forbidden` otherwise, nothing stored) whose certificate is then bound to the venID as a TLS client
 * certificate is over HTTPS; answers and pushes are signed in the unprefixed form XMPP servers
 * forward unchanged, and a VEN's answer to a push counts only when signed by its bound certificate.
 *
 * Also: disco#info with the feature `http://openadr.org/openadr2` and disco#items of the services
 * node (XEP-0030, §9.3.4.9), XMPP Ping (in the client), presence on start.
 */
import { certificateFingerprint, decodeOadr, encodeOadr, OadrCodecError, verifyOadr, type Payload, type VerifyResult } from '../../oadr/index.ts';
import {
  discoInfo,
  discoItems,
  elementXml,
  isServicesNode,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_OADR_PAYLOAD,
  NS_PING,
  OADR_PAYLOAD,
  OPENADR_FEATURE,
  presence,
  serviceNode,
  bareJid,
  XmppStanzaError,
  type Element,
  type XmppClient,
} from '../../xmpp/index.ts';
import type { PushConfig } from '../cli/config.ts';
import { ACCEPTED, payloadVenId, SERVICES, type DispatchResult } from '../services/dispatch.ts';
import type { Logger } from '../operations/logger.ts';
import type { QueueItem, VenRegistration, VtnStore } from '../store/store.ts';
import type { HandleMeta } from './http-server.ts';
import type { VenTransport } from './ven-transport.ts';
import { createPushSignature, type PushSignatureOptions } from './http-push.ts';
import { sniffVenId } from './http-rules.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import { actOnPushAnswer, createPushWorkers, type PushAttempt, type PushOutcome } from './push-workers.ts';
import { createGroupCommit } from './group-commit.ts';

export interface XmppTransportOptions {
  readonly client: XmppClient;
  readonly store: VtnStore;
  /** Timeouts and back-off of pushes (the push section of the configuration). */
  readonly config: PushConfig;
  readonly log: Logger;
  readonly bodyLimitBytes: number;
  /** Handle a VEN's payload (`senderJid`: the IQ's `from`). */
  readonly handle: (payload: Payload, meta: HandleMeta) => DispatchResult;
  readonly materialize: (item: QueueItem) => Payload;
  /** The VEN's answer in an IQ result (e.g. oadrCanceledPartyRegistration). */
  readonly onAnswer: (payload: Payload, venId: string) => void;
  readonly random?: () => number;
  /**
   * Pushes sent and not yet answered, at most (default 256): beyond it a push waits for a slot. All
   * pushes share the VTN's one connection; unbounded, a fan-out to thousands of VENs would hand the
   * server megabytes at once, and pushes queued there past `push.timeoutMs` would be sent again.
   */
  readonly maxPushesInFlight?: number;
  /** R514: verify every payload a VEN sends and sign everything sent (createXmppSignature); absent: plain payloads. */
  readonly signature?: XmppSignature;
}

/** How the XMPP transport signs and checks payloads (R514), in the form XMPP servers forward unchanged. */
export interface XmppSignature {
  /** Signs an unsigned oadrPayload as `encodeOadr` writes it, in the unprefixed form; once per answer and per push attempt. */
  sign(xml: string): string;
  /**
   * A VEN's payload: there is no TLS peer certificate over XMPP (the server ends TLS), so any valid
   * signature passes here and its certificate is then bound to the venID as a TLS certificate is
   * over HTTPS (R517, tls/binding.ts).
   */
  verifyRequest(xml: string): VerifyResult;
  /** The VEN's answer to a push: it must be signed by the certificate bound to that VEN. */
  verifyAnswer(body: Uint8Array, reg: VenRegistration): VerifyResult;
}

/** Signs with the VTN's credential (the one that signs its HTTP answers and pushes), in the unprefixed form. */
export function createXmppSignature(options: Readonly<PushSignatureOptions>): XmppSignature {
  const push = createPushSignature(options);
  return {
    sign: (xml) => push.sign(xml, 'unprefixed'),
    verifyRequest: (xml) =>
      verifyOadr(xml, {
        now: options.now(),
        seenNonce: (n, exp, at) => options.nonces.seenNonce(n, exp, at),
        ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
      }),
    verifyAnswer: (body, reg) => push.verify(body, reg),
  };
}

export interface XmppTransport extends VenTransport {
  /** Connects and sends presence; resolves with the VTN's full JID. */
  start(): Promise<string>;
  /** True when no push is running or waiting for this VEN. */
  idle(venId: string): boolean;
}

/** IQ errors that mean the VEN is not connected now: its queue waits for its presence. */
const OFFLINE = new Set(['service-unavailable', 'recipient-unavailable', 'item-not-found', 'remote-server-not-found', 'remote-server-timeout']);
/** What a VEN may send the VTN (rules §2.1), over any service. */
const VEN_TO_VTN = new Set(Object.values(ACCEPTED).flat());
/** §9.3.4.9.2: one disco item per service; there is no OadrPoll over XMPP (R507). */
const XMPP_SERVICES = SERVICES.filter((s) => s !== 'OadrPoll');

export function createXmppTransport(options: Readonly<XmppTransportOptions>): XmppTransport {
  const { client, store, config, log, signature } = options;
  // The requests that arrive in the same socket reads and the pushes of the same turn commit
  // together; each IQ result goes out after its commit.
  const commits = createGroupCommit({ store });

  // ---- inbound ---------------------------------------------------------------------------------
  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ from, child }) => {
    const text = elementXml(child);
    if (Buffer.byteLength(text, 'utf8') > options.bodyLimitBytes) {
      // Before any signature work, as HTTP's body limit (413) comes before its signature check.
      log.warn({ from, bytes: Buffer.byteLength(text, 'utf8') }, `IQ from ${from} refused: the payload is larger than ${options.bodyLimitBytes} bytes`);
      throw new XmppStanzaError('policy-violation', `the payload is larger than ${options.bodyLimitBytes} bytes`);
    }
    let signer: string | undefined;
    if (signature !== undefined) {
      // R514: a payload without a valid signature is ignored — no OpenADR answer (forbidden, as HTTP 403).
      const v = signature.verifyRequest(text);
      if (!v.ok) {
        log.warn({ securityEvent: SECURITY_EVENT.badSignature, from, venId: sniffVenId(Buffer.from(text, 'utf8')), reason: v.reason }, `payload ignored, XML signature refused: ${v.message}`);
        throw new XmppStanzaError('forbidden', 'the payload is ignored: its XML signature is missing or invalid (R514)');
      }
      if (!v.replayProtectSigned) log.warn({ from, venId: sniffVenId(Buffer.from(text, 'utf8')) }, 'ReplayProtect is not covered by the signature (weak, rules digest 10)');
      signer = certificateFingerprint(v.certificatePem);
    }
    let payload: Payload;
    try {
      payload = decodeOadr(Buffer.from(text, 'utf8'), { maxBytes: options.bodyLimitBytes }).payload;
    } catch (err) {
      if (!(err instanceof OadrCodecError) || !err.transport) throw err;
      log.warn({ from, code: err.code, path: err.path }, `IQ from ${from} refused: not a valid OpenADR 2.0b payload: ${err.message}`);
      // §9.3.4.4.2: a schema failure is a transport error, bad-request; beyond the size limit, policy-violation.
      throw new XmppStanzaError(err.httpStatus === 413 ? 'policy-violation' : 'bad-request', err.message);
    }
    if (payload.type === 'Poll') {
      log.warn({ from, venId: payloadVenId(payload) }, 'oadrPoll over XMPP refused (R507)');
      throw new XmppStanzaError('not-allowed', 'there is no oadrPoll over XMPP: the VTN pushes (R507)');
    }
    if (!VEN_TO_VTN.has(payload.type)) {
      log.warn({ from, payload: payload.type }, `${payload.type} is sent by a VTN, not to it`);
      throw new XmppStanzaError('bad-request', `${payload.type} is sent by a VTN, not to it (R401)`);
    }
    // The signer's certificate stands where the TLS client certificate does over HTTPS (R517).
    const meta = { senderJid: from, ...(signer === undefined ? {} : { peerFingerprint: signer }) };
    const { answer, error } = await commits.run(
      () => options.handle(payload, meta),
      (r) => r.error !== undefined,
    );
    if (error !== undefined) log.info({ venId: payloadVenId(payload), from, payload: payload.type, responseCode: error.responseCode }, error.message);
    // The answer goes as the codec wrote it (signed), not through an element tree.
    const xml = encodeOadr(answer);
    return signature === undefined ? xml : signature.sign(xml);
  });
  client.onIq('get', NS_OADR_PAYLOAD, OADR_PAYLOAD, ({ from }) => {
    log.warn({ from }, 'an OpenADR operation sent as IQ get refused (§9.3.4.2)');
    throw new XmppStanzaError('bad-request', 'OpenADR operations are IQ set (§9.3.4.2)');
  });
  client.onIq('get', NS_DISCO_INFO, 'query', () => discoInfo([NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, OPENADR_FEATURE], { category: 'automation', type: 'openadr-vtn', name: 'OpenADR 2.0b VTN' }));
  client.onIq('get', NS_DISCO_ITEMS, 'query', ({ child }) => {
    const node = child.attrs['node'];
    const jid = client.jid() ?? '';
    return discoItems(node, isServicesNode(node) ? XMPP_SERVICES.map((s) => ({ jid, node: serviceNode(s), name: s })) : []);
  });

  // ---- outbound --------------------------------------------------------------------------------
  const xmppAddress = (reg: VenRegistration | undefined): string | undefined => (reg?.transportName === 'xmpp' ? reg.transportAddress : undefined);

  // The window of pushes in flight: a slot is handed from an answered push to the next waiting one.
  const maxInFlight = options.maxPushesInFlight ?? 256;
  let inFlight = 0;
  let waiting: (() => void)[] = [];
  let nextWaiting = 0;
  const slot = (): Promise<void> | undefined => {
    if (inFlight < maxInFlight) {
      inFlight++;
      return undefined;
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const freeSlot = (): void => {
    const next = waiting[nextWaiting];
    if (next === undefined) {
      inFlight--;
      return;
    }
    nextWaiting++;
    if (nextWaiting === waiting.length) {
      waiting = [];
      nextWaiting = 0;
    }
    next();
  };

  async function attempt({ venId, reg, to, item, body }: PushAttempt): Promise<PushOutcome> {
    let answer: Element | undefined;
    await slot();
    try {
      answer = await client.request(to, body, { timeoutMs: config.timeoutMs });
    } catch (err) {
      if (err instanceof XmppStanzaError && OFFLINE.has(err.condition)) {
        log.info({ venId, to, payload: item.type }, 'the XMPP VEN is offline; its queue waits for its presence');
        return { kind: 'wait' };
      }
      if (err instanceof XmppStanzaError) return { kind: 'refused', message: `the VEN refused a pushed payload with IQ error ${err.condition}`, fields: { condition: err.condition } };
      return { kind: 'retry', what: 'timeout or connection lost', err };
    } finally {
      freeSlot();
    }
    const answerBody = answer === undefined ? Buffer.alloc(0) : Buffer.from(elementXml(answer), 'utf8');
    const verify = signature === undefined ? undefined : (b: Buffer) => signature.verifyAnswer(b, reg);
    return { kind: 'delivered', answered: () => actOnPushAnswer({ venId, pushed: item.type, body: answerBody, log, verify, maxBytes: options.bodyLimitBytes, onAnswer: options.onAnswer }) };
  }

  // Retried until delivered (no push.maxAttempts): a VEN offline for a day still gets what it is owed.
  const workers = createPushWorkers({
    store,
    config,
    log,
    materialize: options.materialize,
    addressOf: xmppAddress,
    attempt,
    commits,
    sign: signature?.sign,
    ready: () => client.online(),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const run = (venId: string): void => workers.wake(venId);

  const wakeAll = (): void => {
    for (const venId of store.vensWithQueuedItems()) if (xmppAddress(store.getRegistration(venId)) !== undefined) run(venId);
  };

  // A VEN's presence says it is back: what it is owed goes now. Bare JID → venID, learnt from the
  // registrations (re-read at most every 5 s when a JID is unknown, so a storm of presences stays cheap).
  const byJid = new Map<string, string>();
  let learntAt = -Infinity;
  const venOf = (jid: string): string | undefined => {
    const id = byJid.get(jid);
    if (id !== undefined && bareJid(xmppAddress(store.getRegistration(id)) ?? '') === jid) return id;
    if (performance.now() - learntAt < 5000) return undefined;
    learntAt = performance.now();
    byJid.clear();
    for (const reg of store.listRegistrations()) {
      const to = xmppAddress(reg);
      if (to !== undefined) byJid.set(bareJid(to), reg.venId);
    }
    return byJid.get(jid);
  };
  client.onPresence((from, available) => {
    if (!available || workers.closed()) return;
    const venId = venOf(bareJid(from));
    if (venId !== undefined) run(venId);
  });
  // After a reconnection of the VTN's own connection, every waiting queue is tried again (§9.3.4.5: presence first).
  client.onOnline(() => {
    void client.send(presence()).catch((err: unknown) => log.warn({ err }, 'cannot send presence'));
    wakeAll();
  });

  return {
    kind: 'xmpp',
    start: () => client.start(),
    wake(reg) {
      const to = xmppAddress(reg);
      if (workers.closed() || to === undefined) return;
      byJid.set(bareJid(to), reg.venId);
      run(reg.venId);
    },
    idle: (venId) => workers.idle(venId),
    async close() {
      workers.close();
      await client.stop();
    },
  };
}
