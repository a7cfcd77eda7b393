/**
 * Broken XMPP peers for the honesty tests of the XMPP cases: a relay on its own JID between a VTN
 * (`vtnJid`) and a VEN (whoever sends it an IQ set first), with one fault of the binding planted.
 * In front of our VTN it is the VTN the suite tests; with the suite as the VTN and our VEN behind
 * it, the VEN. It registers the VEN with its own JID as the transport address, forwards each side's
 * IQ sets to the other, answers discovery itself and passes the VEN's presence on to the VTN.
 * Without a fault it is a sound peer, which the same cases pass.
 */
import { bareJid, discoInfo, discoItems, elementXml, isServicesNode, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OADR_PAYLOAD, NS_PING, OADR_PAYLOAD, OPENADR_FEATURE, payloadElement, presence, serviceNode, XmppStanzaError, type Element, type XmppClient } from '../../xmpp/index.ts';

/** Faults of a VTN (the suite tests the relay in front of our VTN). */
export const XMPP_VTN_FAULTS = [
  /** The 2.0b profile of oadrCreatedPartyRegistration lists no xmpp transport (R38). */
  'no-xmpp-profile',
  /** Registers whatever oadrTransportAddress the VEN names, not the sender's JID (§9.3.4.1). */
  'any-transport-address',
  /** Answers oadrQueryRegistration with an empty IQ result (§9.3.4.3). */
  'empty-result',
  /** Answers oadrPoll with oadrResponse 200 (R507). */
  'poll-served',
  /** Answers an IQ set with a foreign child with an empty result (§9.3.4.4.2). */
  'foreign-child-served',
  /** The services node lists no EiOpt (§9.3.4.9.2). */
  'missing-service',
  /** A push the VEN is offline for is acknowledged to the VTN and lost (§9.3.4.5). */
  'push-lost-offline',
  /** oadrCreatedEvent in an IQ set gets IQ error bad-request (§9.3.4.3). */
  'created-event-refused',
] as const;

/** Faults of a VEN (the suite, as the VTN, tests the relay in front of our VEN). */
export const XMPP_VEN_FAULTS = [
  /** Registers another JID than the one it sends from (§9.3.4.1). */
  'foreign-address',
  /** Answers a pushed oadrDistributeEvent with a payload instead of an empty result (§9.3.4.3). */
  'distribute-answered',
  /** Sends an oadrPoll after registering (R507). */
  'poll-sent',
] as const;

/** Faults either side can have. */
export const XMPP_SHARED_FAULTS = [
  /** Drops the element the schema does not allow and passes the payload on, though it answers bad-request (§9.3.4.4.2). */
  'schema-invalid-acted-on',
  /** Serves a payload sent as IQ get (§9.3.4.2). */
  'get-served',
  /** disco#info without the OpenADR feature (§9.3.4.9). */
  'no-disco-feature',
  /** No XMPP Ping (§9.3.4.6): our client always answers it, so the tests address a resource nobody holds. */
  'no-ping',
] as const;

export type XmppFault = (typeof XMPP_VTN_FAULTS)[number] | (typeof XMPP_VEN_FAULTS)[number] | (typeof XMPP_SHARED_FAULTS)[number];

const SERVICES = ['EiEvent', 'EiReport', 'EiOpt', 'EiRegisterParty'] as const;
const isPayload = (text: string, name: string): boolean => new RegExp(`<(\\w+:)?${name}[\\s/>]`).test(text);
const NS = 'xmlns="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"';
const response200 = (): string => `<oadrPayload ${NS}><oadrSignedObject><oadrResponse ei:schemaVersion="2.0b"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><requestID xmlns="http://docs.oasis-open.org/ns/energyinterop/201110/payloads"/></ei:eiResponse></oadrResponse></oadrSignedObject></oadrPayload>`;
const poll = (venId: string): string => `<oadrPayload ${NS}><oadrSignedObject><oadrPoll ei:schemaVersion="2.0b"><ei:venID>${venId}</ei:venID></oadrPoll></oadrSignedObject></oadrPayload>`;
const INVALID = /<(\w+:)?notInTheSchema\b[^>]*>[^<]*<\/(\w+:)?notInTheSchema>/;

/** Starts the relay on `client` (not started) between the VTN at `vtnJid` and the VEN that writes to it first; resolves with the relay's full JID. */
export async function startXmppRelay(client: XmppClient, vtnJid: string, fault: XmppFault | undefined): Promise<string> {
  let ven = '';
  const own = (): string => client.jid() ?? '';
  const forward = async (to: string, text: string): Promise<Element | undefined> => client.request(to, text, { timeoutMs: 10_000 });
  const fromVtn = (from: string): boolean => bareJid(from) === bareJid(vtnJid);

  /** A payload from one side, passed to the other: what comes back is the answer. */
  async function relay(from: string, text: string): Promise<Element | undefined> {
    const acted = fault === 'schema-invalid-acted-on' && INVALID.test(text);
    if (acted) text = text.replace(INVALID, '');
    if (fromVtn(from)) {
      let answer: Element | undefined;
      try {
        answer = await forward(ven, text);
      } catch (err) {
        if (fault === 'push-lost-offline' && err instanceof XmppStanzaError) return undefined;
        throw err;
      }
      if (acted) throw new XmppStanzaError('bad-request', 'not schema-valid');
      if (fault === 'distribute-answered' && isPayload(text, 'oadrDistributeEvent')) return payloadElement(response200());
      return answer;
    }
    ven = from;
    if (fault === 'poll-served' && isPayload(text, 'oadrPoll')) return payloadElement(response200());
    if (fault === 'created-event-refused' && isPayload(text, 'oadrCreatedEvent')) throw new XmppStanzaError('bad-request', 'refused');
    if (fault === 'empty-result' && isPayload(text, 'oadrQueryRegistration')) return undefined;
    // The VTN binds the relay's JID: the VEN's own JID as transport address becomes the relay's.
    const address = fault === 'foreign-address' ? `someone-else@${own().replace(/^[^@]*@/, '')}` : fault === 'no-ping' ? `${own()}-gone` : own();
    text = text.replace(/(<(?:\w+:)?oadrTransportAddress[^>]*>)([^<]*)(<)/, (all, open: string, given: string, close: string) => (given === from || fault === 'any-transport-address' ? `${open}${address}${close}` : all));
    const answer = await forward(vtnJid, text);
    if (acted) throw new XmppStanzaError('bad-request', 'not schema-valid');
    if (answer === undefined) return undefined;
    let out = elementXml(answer);
    if (fault === 'no-xmpp-profile') out = out.replace(/<(\w+:)?oadrTransport\b[^>]*>\s*<(\w+:)?oadrTransportName[^>]*>xmpp<\/[^>]+>\s*<\/[^>]+>/g, '');
    if (fault === 'poll-sent' && isPayload(out, 'oadrCreatedPartyRegistration')) {
      const venId = /<(?:\w+:)?venID[^>]*>([^<]*)</.exec(out)?.[1] ?? '';
      // Before the VEN has its answer: the poll comes ahead of anything the VEN sends next.
      await forward(vtnJid, poll(venId)).catch(() => undefined);
    }
    return payloadElement(out);
  }

  client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, ({ from, child }) => relay(from, elementXml(child)));
  client.onIq('get', NS_OADR_PAYLOAD, OADR_PAYLOAD, ({ from, child }) => {
    if (fault !== 'get-served') throw new XmppStanzaError('bad-request', 'OpenADR operations are IQ set');
    return relay(from, elementXml(child));
  });
  if (fault === 'foreign-child-served') client.onIq('set', 'urn:example:not-openadr', 'query', () => undefined);
  client.onIq('get', NS_DISCO_INFO, 'query', () => discoInfo([NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, ...(fault === 'no-disco-feature' ? [] : [OPENADR_FEATURE])], { category: 'client', type: 'openadr', name: 'relay' }));
  client.onIq('get', NS_DISCO_ITEMS, 'query', ({ child }) => {
    const node = child.attrs['node'];
    const services = SERVICES.filter((s) => fault !== 'missing-service' || s !== 'EiOpt');
    return discoItems(node, isServicesNode(node) ? services.map((s) => ({ jid: own(), node: serviceNode(s), name: s })) : []);
  });
  // The VEN's presence is passed on to the VTN, which then pushes what waited.
  client.onPresence((from, available) => {
    if (ven !== '' && bareJid(from) === bareJid(ven) && available) void client.send(presence({ to: vtnJid })).catch(() => undefined);
  });
  client.onOnline(() => void client.send(presence()).catch(() => undefined));
  return client.start();
}
