/**
 * IEC 60870-5-104: a controlled station (TCP server) for a TSO's control system, and the UVAM bridge
 * that puts the VTN's aggregate behind it (docs/iec104.md, docs/uvam.md).
 *
 * The protocol module depends on nothing but node: codec/ (APCI framing and the stream splitter,
 * ASDU, CP56Time2a; pure), link.ts (the link layer as a pure state machine), station.ts (the
 * application: interrogation, clock sync, commands), server.ts (the TCP adapter). uvam.ts is the
 * glue to the VTN (its index only). testing/ holds a controlling station for tests.
 */
export { IEC104_ERROR_CODES, Iec104Error, type Iec104ErrorCode } from './errors.ts';
export { BROADCAST_CA, COT, MAX_APDU_LENGTH, QOI_STATION, QUALITY, TYPE, type Cause, type CauseName, type TypeId, type TypeName } from './codec/constants.ts';
export { CP56_SIZE, cp56FromDate, cp56ToDate, decodeCp56, encodeCp56, type Cp56Time } from './codec/cp56.ts';
export { encodeApdu, parseApdu, SEQ_MODULO, splitApdus, START, U_FUNCTION, type Apdu, type Split, type UFunction } from './codec/apdu.ts';
export { encodeAsdu, knownType, MAX_ASDU_SIZE, parseAsdu, parseAsduHeader, withCause, type Asdu, type AsduHeader, type InformationObject } from './codec/asdu.ts';
export { createLink, DEFAULT_LINK_CONFIG, nextDeadline, resolveLinkConfig, step, type LinkAction, type LinkConfig, type LinkEvent, type LinkState, type Step } from './link.ts';
export { createStationSession, pointAsdus, type Command, type PointValues, type StationHandler, type StationOptions, type StationSession } from './station.ts';
export { createIec104Server, DEFAULT_PORT, type Iec104Logger, type Iec104Server, type Iec104ServerOptions } from './server.ts';
export { aggregateReading, createUvamBridge, latestUsageW, ORDER_EVENT_PREFIX, startUvamBridge, type Reading, type UnitReading, type UvamBridge, type UvamBridgeOptions } from './uvam.ts';
