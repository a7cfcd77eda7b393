/**
 * A broken VTN over XMPP for the honesty tests of the XMPP cases: a relay in front of our VTN, on
 * its own JID, that the suite takes for the VTN. It registers the suite's VEN with its own JID as
 * the transport address (the VTN binds the relay), forwards the suite's IQ sets to the VTN and the
 * VTN's pushes to the suite, answers discovery and ping itself, and plants one fault of the XMPP
 * binding. Without a fault it is a sound VTN, which the same cases pass.
 */
import { bareJid, discoInfo, discoItems, elementXml, isServicesNode, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OADR_PAYLOAD, NS_PING, OADR_PAYLOAD, OPENADR_FEATURE, payloadElement, presence, serviceNode, XmppStanzaError, type Element, type XmppClient } from '../../xmpp/index.ts';

export const XMPP_VTN_FAULTS = [
  /** The 2.0b profile of oadrCreatedPartyRegistration lists no xmpp transport (R38). */
  'no-xmpp-profile',
  /** Registers whatever oadrTransportAddress the VEN names, not the sender's JID (§9.3.4.1). */
  'any-transport-address',
  /** Answers oadrQueryRegistration with an empty IQ result (§9.3.4.3). */
  'empty-result',
  /** Drops the element the schema does not allow and acts on the payload, though it answers bad-request (§9.3.4.4.2). */
  'schema-invalid-acted-on',
  /** Serves an operation sent as IQ get (§9.3.4.2). */
  'get-served',
  /** Answers an IQ set with a foreign child with an empty result (§9.3.4.4.2). */
  'foreign-child-served',
  /** Answers oadrPoll with oadrResponse 200 (R507). */
  'poll-served',
  /** disco#info without the OpenADR feature (§9.3.4.9.1). */
  'no-disco-feature',
  /** The services node lists no EiOpt (§9.3.4.9.2). */
  'missing-service',
  /** No XMPP Ping (§9.3.4.6): our client always answers it, so the test addresses a resource nobody holds. */
  'no-ping',
  /** A push the VEN is offline for is acknowledged to the VTN and lost (§9.3.4.5). */
  'push-lost-offline',
  /** oadrCreatedEvent in an IQ set gets IQ error bad-request (§9.3.4.3). */
  'created-event-refused',
] as const;
export type XmppVtnFault = (typeof XMPP_VTN_FAULTS)[number];

const SERVICES = ['EiEvent', 'EiReport', 'EiOpt', 'EiRegisterParty'] as const;
const isPayload = (text: string, name: string): boolean => new RegExp(`<(\\w+:)?${name}[\\s/>]`).test(text);
const response200 = (): string => '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject><oadrResponse xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" ei:schemaVersion="2.0b"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><requestID xmlns="http://docs.oasis-open.org/ns/energyinterop/201110/payloads"/></ei:eiResponse></oadrResponse></oadrSignedObject></oadrPayload>';

/** Starts the relay on `client` (not started) in front of the VTN at `vtnJid`; resolves with the relay's full JID. */
export async function startBrokenXmppVtn(client: XmppClient, vtnJid: string, fault: XmppVtnFault | undefined): Promise<string> {
  let suite = '';
  const forward = async (to: string, text: string): Promise<Element | undefined> => client.request(to, text, { timeoutMs: 10_000 });

  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ from, child }) => {
    let text = elementXml(child);
    if (bareJid(from) === bareJid(vtnJid)) {
      // A push of the VTN, for the suite's VEN.
      try {
        return await forward(suite, text);
      } catch (err) {
        if (fault === 'push-lost-offline' && err instanceof XmppStanzaError) return undefined;
        throw err;
      }
    }
    suite = from;
    if (fault === 'poll-served' && isPayload(text, 'oadrPoll')) return payloadElement(response200());
    if (fault === 'created-event-refused' && isPayload(text, 'oadrCreatedEvent')) throw new XmppStanzaError('bad-request', 'refused');
    if (fault === 'empty-result' && isPayload(text, 'oadrQueryRegistration')) return undefined;
    const invalid = /<(\w+:)?notInTheSchema\b[^>]*>[^<]*<\/(\w+:)?notInTheSchema>/;
    const acted = fault === 'schema-invalid-acted-on' && invalid.test(text);
    if (acted) text = text.replace(invalid, '');
    // The VTN binds the relay's JID: the suite's own JID as transport address becomes the relay's.
    const own = client.jid() ?? '';
    text = text.replace(/(<(?:\w+:)?oadrTransportAddress[^>]*>)([^<]*)(<)/, (all, open: string, address: string, close: string) => (address === from || fault === 'any-transport-address' ? `${open}${own}${close}` : all));
    const answer = await forward(vtnJid, text);
    if (acted) throw new XmppStanzaError('bad-request', 'not schema-valid');
    if (answer === undefined) return undefined;
    let out = elementXml(answer);
    if (fault === 'no-xmpp-profile') out = out.replace(/<(\w+:)?oadrTransport\b[^>]*>\s*<(\w+:)?oadrTransportName[^>]*>xmpp<\/[^>]+>\s*<\/[^>]+>/g, '');
    return payloadElement(out);
  });
  client.onIq('get', NS_OADR_PAYLOAD, OADR_PAYLOAD, async ({ from, child }) => {
    if (fault !== 'get-served') throw new XmppStanzaError('bad-request', 'OpenADR operations are IQ set');
    suite = from;
    const answer = await forward(vtnJid, elementXml(child));
    return answer === undefined ? undefined : payloadElement(elementXml(answer));
  });
  if (fault === 'foreign-child-served') client.onIq('set', 'urn:example:not-openadr', 'query', () => undefined);
  client.onIq('get', NS_DISCO_INFO, 'query', () => discoInfo([NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, ...(fault === 'no-disco-feature' ? [] : [OPENADR_FEATURE])], { category: 'server', type: 'openadr-vtn', name: 'relay' }));
  client.onIq('get', NS_DISCO_ITEMS, 'query', ({ child }) => {
    const node = child.attrs['node'];
    const services = SERVICES.filter((s) => fault !== 'missing-service' || s !== 'EiOpt');
    return discoItems(node, isServicesNode(node) ? services.map((s) => ({ jid: client.jid() ?? '', node: serviceNode(s), name: s })) : []);
  });
  // The suite's presence is the VEN's: passed on to the VTN, which then pushes what waited.
  client.onPresence((from, available) => {
    if (suite !== '' && bareJid(from) === bareJid(suite) && available) void client.send(presence({ to: vtnJid })).catch(() => undefined);
  });
  client.onOnline(() => void client.send(presence()).catch(() => undefined));
  return client.start();
}
