/**
 * The VEN's XMPP transport (R507, §9.3): one client connection (`XmppClient`) to the XMPP server.
 * Requests go as IQ sets whose only child is the oadrPayload, to the VTN's JID for the payload's
 * service, and the answer is the IQ result's payload (an empty result, a pure acknowledgement, is
 * an oadrResponse 200). Payloads the VTN pushes arrive as IQ sets and go to the session; its reply
 * (e.g. oadrCanceledPartyRegistration) travels in the IQ result, empty when there is none (a pushed
 * oadrDistributeEvent: the oadrCreatedEvent follows in an IQ set of its own, §8.1). IQ sets from
 * any JID but the VTN's are refused (`forbidden`: no VEN-to-VEN traffic, R515).
 *
 * Discovery (XEP-0030, §9.3.4.9): without a configured VTN JID, the VEN asks the server for its
 * items, picks the one whose disco#info has the feature `http://openadr.org/openadr2`, and reads the
 * JID of each service from the items of its services node. The VEN advertises the feature itself,
 * sends presence when online (to the server, and directed to the VTN so that what waits for it
 * goes out), and `unavailable` when it stops; XMPP Ping is answered by the client.
 *
 * XML signatures (R514): with `xmlSignature` every payload the VEN sends (requests and its answers
 * to pushes) is signed in the unprefixed form XMPP servers forward unchanged, and every payload
 * from the VTN must verify: a push that does not is refused (`forbidden`, as HTTP 403) and not
 * acted on, an answer that does not fails the request (SIGNATURE_REFUSED). With no TLS peer
 * certificate over XMPP, the certificate of the first VTN signature accepted is the one every later
 * VTN payload must be signed by (for the transport's life).
 */
import { decodeOadr, encodeOadr, OadrCodecError, type Payload, type VerifyResult } from '../oadr/index.ts';
import {
  bareJid,
  discoInfo,
  discoInfoQuery,
  discoItemsQuery,
  elementXml,
  featuresOf,
  itemsOf,
  NS_DISCO_INFO,
  NS_OADR_PAYLOAD,
  NS_PING,
  OADR_PAYLOAD,
  OPENADR_FEATURE,
  OPENADR_SERVICES_NODE,
  payloadElement,
  presence,
  serviceOfNode,
  splitJid,
  XmppError,
  XmppStanzaError,
  type Element,
  type XmppClient,
} from '../xmpp/index.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { SERVICE_OF, type ServiceName, type VtnTransport } from './http-transport.ts';
import type { VenLogger } from './session.ts';
import { SIGNATURE_REFUSED_EVENT, type VenSignature } from './xml-signature.ts';

const SERVICES: readonly ServiceName[] = ['EiRegisterParty', 'EiEvent', 'EiReport', 'EiOpt', 'OadrPoll'];

export interface VenXmppTransportOptions {
  readonly client: XmppClient;
  /** The VTN's full JID; absent: discovered (XEP-0030) on the VEN's server. */
  readonly vtnJid?: string | undefined;
  /** Response timeout of one IQ, ms (default 10,000; ≥ 5 s as for HTTP). */
  readonly timeoutMs?: number | undefined;
  readonly log?: VenLogger | undefined;
  /** R514: sign what the VEN sends, verify what the VTN sends. */
  readonly xmlSignature?: VenSignature | undefined;
}

export interface VenXmppTransport extends VtnTransport {
  /** Connects and discovers the VTN; pushed payloads go to `handle`. Resolves with the VEN's full JID (its oadrTransportAddress). */
  start(handle: (payload: Payload) => Promise<Payload | undefined>): Promise<string>;
  /** The VTN's JID per service, once known. */
  services(): ReadonlyMap<ServiceName, string>;
}

export function createVenXmppTransport(options: Readonly<VenXmppTransportOptions>): VenXmppTransport {
  const { client } = options;
  const timeoutMs = Math.max(5000, options.timeoutMs ?? 10_000);
  const services = new Map<ServiceName, string>();
  let handle: ((payload: Payload) => Promise<Payload | undefined>) | undefined;
  const sig = options.xmlSignature;
  /** The VTN's signing certificate, from its first accepted signature. */
  let vtnCertificate: string | undefined;
  /** R514: undefined when `text` may be acted on, else why not. */
  const refusal = (text: string): VerifyResult | undefined => {
    if (sig === undefined) return undefined;
    const v = sig.verify(Buffer.from(text, 'utf8'), vtnCertificate);
    if (!v.ok) return v;
    vtnCertificate ??= v.certificatePem;
    return undefined;
  };
  const signed = (payload: Payload): Element => {
    const xml = encodeOadr(payload);
    return payloadElement(sig === undefined ? xml : sig.sign(xml, 'unprefixed'));
  };

  const vtnBare = (): Set<string> => new Set([...services.values()].map(bareJid));

  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ from, child }) => {
    if (!vtnBare().has(bareJid(from))) {
      options.log?.warn({ from }, 'IQ from a JID that is not the VTN refused (R515)');
      throw new XmppStanzaError('forbidden', 'this VEN takes OpenADR payloads from its VTN only (R515)');
    }
    const text = elementXml(child);
    const refused = refusal(text);
    if (refused !== undefined && !refused.ok) {
      options.log?.warn({ securityEvent: SIGNATURE_REFUSED_EVENT, from, reason: refused.reason }, `pushed payload ignored, XML signature refused: ${refused.message}`);
      throw new XmppStanzaError('forbidden', 'the payload is ignored: its XML signature is missing or invalid (R514)');
    }
    let payload: Payload;
    try {
      payload = decodeOadr(Buffer.from(text, 'utf8')).payload;
    } catch (err) {
      if (!(err instanceof OadrCodecError)) throw err;
      options.log?.warn({ from, code: err.code }, `pushed payload refused: not a valid OpenADR 2.0b payload: ${err.message}`);
      throw new XmppStanzaError('bad-request', err.message);
    }
    const reply = handle === undefined ? undefined : await handle(payload);
    return reply === undefined ? undefined : signed(reply);
  });
  // §9.3.4.9.3: a VEN answering discovery advertises the OpenADR feature.
  client.onIq('get', NS_DISCO_INFO, 'query', () => discoInfo([NS_DISCO_INFO, NS_PING, OPENADR_FEATURE], { category: 'client', type: 'openadr-ven', name: 'OpenADR 2.0b VEN' }));

  async function discover(): Promise<void> {
    let vtn = options.vtnJid;
    if (vtn === undefined) {
      const domain = splitJid(client.jid() ?? '').domain;
      for (const item of itemsOf(await client.request(domain, discoItemsQuery(), { type: 'get', timeoutMs }))) {
        const features = featuresOf(await client.request(item.jid, discoInfoQuery(), { type: 'get', timeoutMs }).catch(() => undefined));
        if (features.includes(OPENADR_FEATURE)) {
          vtn = item.jid;
          break;
        }
      }
      if (vtn === undefined) throw new VenError(VenErrorCode.INVALID_CONFIG, `no OpenADR VTN among the XMPP items of ${domain}; list the VTN's JID in the server's disco items or configure --vtn-jid`);
    }
    const found = new Map<ServiceName, string>();
    const items = await client.request(vtn, discoItemsQuery(OPENADR_SERVICES_NODE), { type: 'get', timeoutMs }).catch(() => undefined);
    for (const item of itemsOf(items)) {
      const service = serviceOfNode(item.node, SERVICES);
      if (service !== undefined && item.jid !== '') found.set(service, item.jid);
    }
    services.clear();
    for (const s of SERVICES) services.set(s, found.get(s) ?? vtn);
    options.log?.info({ vtn, services: Object.fromEntries(services) }, 'OpenADR VTN found over XMPP');
  }

  client.onOnline(() => {
    // §9.3.4.5: presence after session set-up; directed to the VTN, which then sends what waited.
    void client.send(presence()).catch(() => undefined);
    const vtn = services.get('EiEvent');
    if (vtn !== undefined) void client.send(presence({ to: vtn })).catch(() => undefined);
  });

  return {
    async start(h) {
      handle = h;
      const jid = await client.start();
      await discover();
      const vtn = services.get('EiEvent');
      if (vtn !== undefined) await client.send(presence({ to: vtn }));
      return jid;
    },
    services: () => services,
    async request(payload) {
      const to = services.get(SERVICE_OF[payload.type]);
      if (to === undefined || !client.online()) throw new VenError(VenErrorCode.VTN_UNREACHABLE, `the XMPP connection is ${client.online() ? 'up but the VTN is not discovered yet' : 'down'}; ${payload.type} is retried`);
      let answer;
      try {
        let element: Element;
        try {
          element = signed(payload);
        } catch (err) {
          throw new VenError(VenErrorCode.INVALID_CONFIG, `cannot sign ${payload.type}: ${(err as Error).message}`, {}, { cause: err });
        }
        answer = await client.request(to, element, { timeoutMs });
      } catch (err) {
        if (err instanceof XmppStanzaError) {
          throw new VenError(VenErrorCode.VTN_REJECTED, `the VTN ${to} answered ${payload.type} with IQ error ${err.condition}`, { bodyLine: err.condition }, { cause: err });
        }
        const reason = err instanceof XmppError ? err.message : 'no IQ result in time';
        throw new VenError(VenErrorCode.VTN_UNREACHABLE, `${payload.type} to ${to}: ${reason}`, {}, { cause: err });
      }
      // §9.3.4.3: an empty result is a pure acknowledgement.
      if (answer === undefined) return { type: 'Response', schemaVersion: '2.0b', response: { code: 200, requestId: '' } };
      const text = elementXml(answer);
      const refused = refusal(text);
      if (refused !== undefined && !refused.ok) {
        throw new VenError(VenErrorCode.SIGNATURE_REFUSED, `VTN answer to ${payload.type} ignored: XML signature refused (${refused.reason}): ${refused.message}`);
      }
      try {
        return decodeOadr(Buffer.from(text, 'utf8')).payload;
      } catch (err) {
        throw new VenError(VenErrorCode.VTN_BAD_ANSWER, `the VTN answered ${payload.type} with an IQ result that is not an OpenADR payload`, {}, { cause: err });
      }
    },
    async close() {
      await client.stop();
    },
  };
}
