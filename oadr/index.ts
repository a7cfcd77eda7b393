/**
 * OpenADR 2.0b message layer: the typed model of every 2.0b payload, a strict namespace-aware
 * codec, the payload rules, durations, and certificate fingerprints. Pure: no sockets, no files.
 */
export { decodeOadr, decodePayload, encodeOadr, type DecodeOptions } from './codec.ts';
export * from './model.ts';
export { checkPayloadRules, type RuleFinding } from './rules.ts';
export { reportIntervalSpans, type ReportIntervalSpan } from './report-intervals.ts';
export { durationToMs, formatDuration, isDuration, parseDuration, type DurationParts } from './duration.ts';
export { normalizeDateTime, type DateTime, type Duration } from './scalars.ts';
export { certificateFingerprint, fingerprintsEqual, normalizeFingerprint } from './fingerprint.ts';
export { CodecErrorCode, OadrCodecError, OadrProtocolError, ResponseCode, type CodecErrorCodeValue, type ResponseCodeValue } from './errors.ts';
export { DEFAULT_MAX_XML_BYTES, DEFAULT_MAX_XML_DEPTH } from './xml.ts';
export { NS } from './namespaces.ts';
export * from './signature.ts';
