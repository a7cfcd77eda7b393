/**
 * OpenADR 2.0b message layer: the typed model of every 2.0b payload (and of the four 2.0a ones), a
 * strict namespace-aware codec for both profiles, the payload rules, durations, and certificate
 * fingerprints. Pure: no sockets, no files.
 */
export { decodeDocument, decodeOadr, decodePayload, encodeOadr, type DecodedDocument, type DecodeOptions, type EncodeOptions } from './codec.ts';
export * from './model.ts';
export { checkPayloadRules, type RuleFinding } from './rules.ts';
export { reportIntervalSpans, type ReportIntervalSpan } from './report-intervals.ts';
export { durationToMs, formatDuration, isDuration, parseDuration, type DurationParts } from './duration.ts';
export { normalizeDateTime, type DateTime, type Duration } from './scalars.ts';
export { certificateFingerprint, fingerprintsEqual, normalizeFingerprint } from './fingerprint.ts';
export { CodecErrorCode, OadrCodecError, OadrProtocolError, ResponseCode, type CodecErrorCodeValue, type ResponseCodeValue } from './errors.ts';
export { DEFAULT_MAX_XML_BYTES, DEFAULT_MAX_XML_DEPTH } from './xml.ts';
export { NS, NS_OADR_20A, type OadrProfile } from './namespaces.ts';
export * from './signature.ts';
export { parseXml, type XmlAttribute, type XmlElement } from './xml.ts';
