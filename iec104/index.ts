/**
 * IEC 60870-5-104: a controlled station (TCP server) for a TSO's control system. codec/ is the pure
 * codec (APCI framing and the stream splitter, ASDU, CP56Time2a). The protocol module depends on
 * nothing but node.
 */
export { IEC104_ERROR_CODES, Iec104Error, type Iec104ErrorCode } from './errors.ts';
export { BROADCAST_CA, COT, MAX_APDU_LENGTH, QOI_STATION, QUALITY, TYPE, type Cause, type CauseName, type TypeId, type TypeName } from './codec/constants.ts';
export { CP56_SIZE, cp56FromDate, cp56ToDate, decodeCp56, encodeCp56, type Cp56Time } from './codec/cp56.ts';
export { encodeApdu, parseApdu, SEQ_MODULO, splitApdus, START, U_FUNCTION, type Apdu, type Split, type UFunction } from './codec/apdu.ts';
export { encodeAsdu, knownType, MAX_ASDU_SIZE, parseAsdu, parseAsduHeader, withCause, type Asdu, type AsduHeader, type InformationObject } from './codec/asdu.ts';
