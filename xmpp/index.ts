/**
 * XMPP for OpenADR 2.0b (§9.3, R38, R507): the client connection both the VTN and the VEN use
 * (xmpp.js with our STARTTLS options and SASL EXTERNAL), and the OpenADR stanzas: the oadrPayload
 * IQ, service discovery (XEP-0030) and the errors. Public surface: factories, types, constants and
 * the error classes.
 */
export { bareJid, createXmppClient, NS_PING, NS_STANZAS, SCRAM_SHA_1, splitJid, stanzaError, type IqHandler, type IqRequest, type XmppAuth, type XmppClient, type XmppClientOptions, type XmppLogger } from './client.ts';
export { startLocalProsody, type LocalProsody, type LocalProsodyOptions } from './local-prosody.ts';
export { freePort, startDaemon, type Daemon, type DaemonOptions } from './server-process.ts';
export { SASL_EXTERNAL } from './sasl-external.ts';
export { NS_STARTTLS, type XmppTlsOptions } from './starttls.ts';
export { XMPP_ERROR_CODES, XmppError, XmppStanzaError, type XmppErrorCode } from './errors.ts';
export {
  discoInfo,
  discoInfoQuery,
  discoItems,
  discoItemsQuery,
  elementXml,
  featuresOf,
  isServicesNode,
  itemsOf,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_OADR_PAYLOAD,
  OADR_PAYLOAD,
  OPENADR_FEATURE,
  OPENADR_SERVICES_NODE,
  payloadElement,
  presence,
  serviceNode,
  serviceOfNode,
  type DiscoItem,
  type Element,
} from './openadr-stanzas.ts';
