/**
 * The OpenADR 2.0b payloads, described once (see schema.ts) in the order of the official XSD
 * (`oadr/xsd/oadr_20b.xsd` and its imports). The codec reads and writes XML from these
 * descriptions, and our model types are inferred from them.
 *
 * Wire names (`oadrDistributeEvent`, `eiEventSignal`) stay in this file; the rest of the code
 * uses the model: `DistributeEvent`, `EventSignal`, `payload.type === 'DistributeEvent'`.
 */
import { CURRENCY_CODES } from './currency-codes.ts';
import { ei, emix, gml, oadr, oadr20a, power, pyld, qn, scale, xcal, strm } from './namespaces.ts';
import { attr, choice, fixed, inline, many, many1, obj, one, opt, ignore, list, type Model } from './schema.ts';
import { bool, dateTime, decimal, doubleList, duration, enumeration, fixedValue, float, id, percent, responseCode, str, token, uint, type Scalar } from './scalars.ts';

// ---- enumerations ---------------------------------------------------------------------------

export const EVENT_STATUSES = ['none', 'far', 'near', 'active', 'completed', 'cancelled'] as const;
export const SIGNAL_NAMES = ['SIMPLE', 'simple', 'ELECTRICITY_PRICE', 'ENERGY_PRICE', 'DEMAND_CHARGE', 'BID_PRICE', 'BID_LOAD', 'BID_ENERGY', 'CHARGE_STATE', 'LOAD_DISPATCH', 'LOAD_CONTROL'] as const;
export const SIGNAL_TYPES = ['delta', 'level', 'multiplier', 'price', 'priceMultiplier', 'priceRelative', 'setpoint', 'x-loadControlCapacity', 'x-loadControlLevelOffset', 'x-loadControlPercentOffset', 'x-loadControlSetpoint'] as const;
export const OPT_TYPES = ['optIn', 'optOut'] as const;
export const OPT_REASONS = ['economic', 'emergency', 'mustRun', 'notParticipating', 'outageRunStatus', 'overrideStatus', 'participating', 'x-schedule'] as const;
export const REPORT_NAMES = ['METADATA_HISTORY_USAGE', 'HISTORY_USAGE', 'METADATA_HISTORY_GREENBUTTON', 'HISTORY_GREENBUTTON', 'METADATA_TELEMETRY_USAGE', 'TELEMETRY_USAGE', 'METADATA_TELEMETRY_STATUS', 'TELEMETRY_STATUS'] as const;
export const REPORT_TYPES = ['reading', 'usage', 'demand', 'setPoint', 'deltaUsage', 'deltaSetPoint', 'deltaDemand', 'baseline', 'deviation', 'avgUsage', 'avgDemand', 'operatingState', 'upRegulationCapacityAvailable', 'downRegulationCapacityAvailable', 'regulationSetpoint', 'storedEnergy', 'targetEnergyStorage', 'availableEnergyStorage', 'price', 'level', 'powerFactor', 'percentUsage', 'percentDemand', 'x-resourceStatus'] as const;
export const READING_TYPES = ['Direct Read', 'Net', 'Allocated', 'Estimated', 'Summed', 'Derived', 'Mean', 'Peak', 'Hybrid', 'Contract', 'Projected', 'x-RMS', 'x-notApplicable'] as const;
export const DATA_QUALITIES = ['No Quality - No Value', 'No New Value - Previous Value Used', 'Quality Bad - Non Specific', 'Quality Bad - Configuration Error', 'Quality Bad - Not Connected', 'Quality Bad - Device Failure', 'Quality Bad - Sensor Failure', 'Quality Bad - Last Known Value', 'Quality Bad - Comm Failure', 'Quality Bad - Out of Service', 'Quality Uncertain - Non Specific', 'Quality Uncertain - Last Usable Value', 'Quality Uncertain - Sensor Not Accurate', 'Quality Uncertain - EU Units Exceeded', 'Quality Uncertain - Sub Normal', 'Quality Good - Non Specific', 'Quality Good - Local Override', 'Quality Limit - Field/Not', 'Quality Limit - Field/Low', 'Quality Limit - Field/High', 'Quality Limit - Field/Constant'] as const;
export const SI_SCALE_CODES = ['p', 'n', 'micro', 'm', 'c', 'd', 'k', 'M', 'G', 'T', 'none'] as const;
export const PROFILE_NAMES = ['2.0a', '2.0b'] as const;
export const TRANSPORT_NAMES = ['simpleHttp', 'xmpp'] as const;
export const SERVICE_NAMES = ['EiEvent', 'EiOpt', 'EiReport', 'EiRegisterParty', 'OadrPoll'] as const;

const eventStatus = enumeration('EventStatusEnumeratedType', EVENT_STATUSES, false);
const signalName = enumeration('signalNameType', SIGNAL_NAMES, true);
const signalType = enumeration('SignalTypeEnumeratedType', SIGNAL_TYPES, false);
const optType = enumeration('OptTypeType', OPT_TYPES, false);
const optReason = enumeration('OptReasonType', OPT_REASONS, true);
const reportName = enumeration('reportNameType', REPORT_NAMES, true);
const reportType = enumeration('ReportTypeType', REPORT_TYPES, true);
const readingType = enumeration('ReadingTypeType', READING_TYPES, true);
const dataQuality = enumeration('oadrDataQualityTypeType', DATA_QUALITIES, true);
const siScaleCode = enumeration('SiScaleCodeType', SI_SCALE_CODES, false);
const profileName = enumeration('oadrProfileType', PROFILE_NAMES, false);
const transportName = enumeration('oadrTransportType', TRANSPORT_NAMES, false);
const serviceName = enumeration('oadrServiceNameType', SERVICE_NAMES, false);
const responseRequired = enumeration('ResponseRequiredType', ['always', 'never'] as const, false);
const schemaVersion = enumeration('schemaVersionType', ['2.0a', '2.0b'] as const, true);
const currencyCode = enumeration('ISO3AlphaCurrencyCodeContentType', CURRENCY_CODES, false);
const currencyDescription = enumeration('currencyItemDescriptionType', ['currency', 'currencyPerKW', 'currencyPerKWh'] as const, false);
const temperatureUnit = enumeration('temperatureUnitType', ['celsius', 'fahrenheit'] as const, false);
const powerRealUnit = enumeration('powerReal itemUnits', ['W', 'J/s'] as const, false);

// ---- shared parts ---------------------------------------------------------------------------

const dtstart = [xcal('dtstart'), xcal('date-time')];
const xduration = (wrapper: ReturnType<typeof xcal>) => [wrapper, xcal('duration')];

export const eiResponse = obj({
  code: one(ei('responseCode'), responseCode),
  description: opt(ei('responseDescription'), str),
  requestId: one(pyld('requestID'), str),
});

/** gml:FeatureCollection with one polygon, as serviceArea and serviceLocation hold it. */
const featureCollection = obj({
  area: inline(gml('FeatureCollection'), obj({
    featureCollectionId: attr('opt', gml('id'), id),
    location: inline(gml('location'), obj({
      polygon: inline(gml('Polygon'), obj({
        polygonId: attr('opt', gml('id'), id),
        posList: one([gml('exterior'), gml('LinearRing'), gml('posList')], doubleList),
      })),
    })),
  })),
});

/** ei:EiTargetType; also reportSubject, reportDataSource and oadrDeviceClass. */
export const target = obj({
  aggregatedPnodes: many([power('aggregatedPnode'), power('node')], str, 0),
  endDeviceAssets: many([power('endDeviceAsset'), power('mrid')], str, 0),
  meterAssets: many([power('meterAsset'), power('mrid')], str, 0),
  pnodes: many([power('pnode'), power('node')], str, 0),
  serviceAreas: many(emix('serviceArea'), featureCollection),
  serviceDeliveryPoints: many([power('serviceDeliveryPoint'), power('node')], str, 0),
  serviceLocations: many(power('serviceLocation'), featureCollection),
  transportInterfaces: many(power('transportInterface'), obj({
    pointOfReceipt: one(power('pointOfReceipt'), str),
    pointOfDelivery: one(power('pointOfDelivery'), str),
  })),
  groupIds: many(ei('groupID'), str),
  groupNames: many(ei('groupName'), str),
  resourceIds: many(ei('resourceID'), str),
  venIds: many(ei('venID'), str),
  partyIds: many(ei('partyID'), str),
});

const siScale = one(scale('siScaleCode'), siScaleCode);
/** An item base whose description and units the schema fixes or types, with an SI scale code. */
const unit = <D extends Scalar<string>, U extends Scalar<string>>(ns: typeof oadr, description: D, units: U) =>
  obj({ description: one(ns('itemDescription'), description), units: one(ns('itemUnits'), units), siScaleCode: siScale });
const fixedUnit = (ns: typeof oadr, description: string, units: string) => unit(ns, fixedValue(description), fixedValue(units));
const powerUnit = <U extends Scalar<string>>(description: string, units: U) =>
  obj({
    description: one(power('itemDescription'), fixedValue(description)),
    units: one(power('itemUnits'), units),
    siScaleCode: siScale,
    powerAttributes: one(power('powerAttributes'), obj({
      hertz: one(power('hertz'), decimal),
      voltage: one(power('voltage'), decimal),
      ac: one(power('ac'), bool),
    })),
  });
const currencyUnit = unit(oadr, currencyDescription, currencyCode);

/** emix:itemBase, the units of a signal, baseline or report data point. */
export const itemBase = choice({
  customUnit: [oadr('customUnit'), unit(oadr, str, str)],
  current: [oadr('current'), fixedUnit(oadr, 'Current', 'A')],
  currency: [oadr('currency'), currencyUnit],
  currencyPerKWh: [oadr('currencyPerKWh'), currencyUnit],
  currencyPerKW: [oadr('currencyPerKW'), currencyUnit],
  currencyPerThm: [oadr('currencyPerThm'), currencyUnit],
  frequency: [oadr('frequency'), fixedUnit(oadr, 'Frequency', 'Hz')],
  Therm: [oadr('Therm'), fixedUnit(oadr, 'Therm', 'thm')],
  temperature: [oadr('temperature'), unit(oadr, fixedValue('temperature'), temperatureUnit)],
  pulseCount: [oadr('pulseCount'), obj({
    description: one(oadr('itemDescription'), fixedValue('pulse count')),
    units: one(oadr('itemUnits'), fixedValue('count')),
    pulseFactor: one(oadr('pulseFactor'), float),
  })],
  voltage: [power('voltage'), fixedUnit(power, 'Voltage', 'V')],
  energyApparent: [power('energyApparent'), fixedUnit(power, 'ApparentEnergy', 'VAh')],
  energyReactive: [power('energyReactive'), fixedUnit(power, 'ReactiveEnergy', 'VARh')],
  energyReal: [power('energyReal'), fixedUnit(power, 'RealEnergy', 'Wh')],
  powerApparent: [power('powerApparent'), powerUnit('ApparentPower', fixedValue('VA'))],
  powerReactive: [power('powerReactive'), powerUnit('ReactivePower', fixedValue('VAR'))],
  powerReal: [power('powerReal'), powerUnit('RealPower', powerRealUnit)],
});

const propertyEntries = {
  dtstart: one(dtstart, dateTime),
  duration: one(xduration(xcal('duration')), duration),
  startAfter: opt([xcal('tolerance'), xcal('tolerate'), xcal('startafter')], duration),
  notification: opt(xduration(ei('x-eiNotification')), duration),
  rampUp: opt(xduration(ei('x-eiRampUp')), duration),
  recovery: opt(xduration(ei('x-eiRecovery')), duration),
};

/** xcal:properties of an event's active period, an availability window or a report interval. */
export const properties = obj(propertyEntries);

/** An interval of an event signal or baseline: one signalPayload with a payloadFloat (R100). */
export const signalInterval = obj({
  dtstart: opt(dtstart, dateTime),
  duration: opt(xduration(xcal('duration')), duration),
  uid: opt([xcal('uid'), xcal('text')], str),
  value: one([ei('signalPayload'), ei('payloadFloat'), ei('value')], float),
});

export const eventSignal = obj({
  intervals: many1([strm('intervals'), ei('interval')], signalInterval),
  target: opt(ei('eiTarget'), target),
  signalName: one(ei('signalName'), signalName),
  signalType: one(ei('signalType'), signalType),
  signalId: one(ei('signalID'), str),
  itemBase: opt([], itemBase),
  currentValue: opt([ei('currentValue'), ei('payloadFloat'), ei('value')], float),
});

export const eventBaseline = obj({
  dtstart: one(dtstart, dateTime),
  duration: one(xduration(xcal('duration')), duration),
  intervals: many1([strm('intervals'), ei('interval')], signalInterval),
  baselineId: one(ei('baselineID'), str),
  resourceIds: many(ei('resourceID'), str),
  baselineName: one(ei('baselineName'), str),
  itemBase: opt([], itemBase),
});

/** The event descriptor's fields after the modification ones (2.0a has no modificationDateTime or modificationReason). */
const descriptorTail = {
  priority: opt(ei('priority'), uint),
  marketContext: one([ei('eiMarketContext'), emix('marketContext')], token),
  createdDateTime: one(ei('createdDateTime'), dateTime),
  eventStatus: one(ei('eventStatus'), eventStatus),
  testEvent: opt(ei('testEvent'), str),
  vtnComment: opt(ei('vtnComment'), str),
};

export const eventDescriptor = obj({
  eventId: one(ei('eventID'), str),
  modificationNumber: one(ei('modificationNumber'), uint),
  modificationDateTime: opt(ei('modificationDateTime'), dateTime),
  modificationReason: opt(ei('modificationReason'), str),
  ...descriptorTail,
});

/** One `oadrEvent`: the `eiEvent` and whether the VTN wants an `oadrCreatedEvent` for it. */
export const event = obj({
  eiEvent: inline(ei('eiEvent'), obj({
    descriptor: one(ei('eventDescriptor'), eventDescriptor),
    activePeriod: one(ei('eiActivePeriod'), obj({
      properties: inline(xcal('properties'), properties),
      components: fixed(xcal('components')),
    })),
    eventSignals: inline(ei('eiEventSignals'), obj({
      signals: many1(ei('eiEventSignal'), eventSignal),
      baseline: opt(ei('eiEventBaseline'), eventBaseline),
    })),
    target: one(ei('eiTarget'), target),
  })),
  responseRequired: one(oadr('oadrResponseRequired'), responseRequired),
});

export const qualifiedEventId = obj({
  eventId: one(ei('eventID'), str),
  modificationNumber: one(ei('modificationNumber'), uint),
});

export const eventResponse = obj({
  code: one(ei('responseCode'), responseCode),
  description: opt(ei('responseDescription'), str),
  requestId: one(pyld('requestID'), str),
  qualifiedEventId: one(ei('qualifiedEventID'), qualifiedEventId),
  optType: one(ei('optType'), optType),
});

const samplingRate = obj({
  minPeriod: one(oadr('oadrMinPeriod'), duration),
  maxPeriod: one(oadr('oadrMaxPeriod'), duration),
  onChange: one(oadr('oadrOnChange'), bool),
});

export const reportDescription = obj({
  rId: one(ei('rID'), str),
  reportSubject: opt(ei('reportSubject'), target),
  reportDataSource: opt(ei('reportDataSource'), target),
  reportType: one(ei('reportType'), reportType),
  itemBase: opt([], itemBase),
  readingType: one(ei('readingType'), readingType),
  marketContext: opt(emix('marketContext'), token),
  samplingRate: opt(oadr('oadrSamplingRate'), samplingRate),
});

const loadControlStateValue = obj({
  min: opt(oadr('oadrMin'), float),
  max: opt(oadr('oadrMax'), float),
  current: one(oadr('oadrCurrent'), float),
  normal: opt(oadr('oadrNormal'), float),
});

export const resourceStatus = obj({
  online: one(oadr('oadrOnline'), bool),
  manualOverride: one(oadr('oadrManualOverride'), bool),
  loadControlState: opt(oadr('oadrLoadControlState'), obj({
    capacity: opt(oadr('oadrCapacity'), loadControlStateValue),
    levelOffset: opt(oadr('oadrLevelOffset'), loadControlStateValue),
    percentOffset: opt(oadr('oadrPercentOffset'), loadControlStateValue),
    setPoint: opt(oadr('oadrSetPoint'), loadControlStateValue),
  })),
});

/** ei:payloadBase: a float, or a resource status (TELEMETRY_STATUS). */
export const payloadValue = choice({
  float: [ei('payloadFloat'), obj({ value: one(ei('value'), float) })],
  resourceStatus: [oadr('oadrPayloadResourceStatus'), resourceStatus],
});

export const reportPayload = obj({
  rId: one(ei('rID'), str),
  confidence: opt(ei('confidence'), percent),
  accuracy: opt(ei('accuracy'), float),
  value: one([], payloadValue),
  dataQuality: opt(oadr('oadrDataQuality'), dataQuality),
});

export const reportInterval = obj({
  dtstart: opt(dtstart, dateTime),
  duration: opt(xduration(xcal('duration')), duration),
  uid: opt([xcal('uid'), xcal('text')], str),
  payloads: many1(oadr('oadrReportPayload'), reportPayload),
});

/** oadrReport: metadata (descriptions) or data (intervals). */
export const report = obj({
  dtstart: opt(dtstart, dateTime),
  duration: opt(xduration(xcal('duration')), duration),
  intervals: many([strm('intervals'), ei('interval')], reportInterval),
  eiReportId: opt(ei('eiReportID'), str),
  descriptions: many(oadr('oadrReportDescription'), reportDescription),
  reportRequestId: one(ei('reportRequestID'), str),
  reportSpecifierId: one(ei('reportSpecifierID'), str),
  reportName: opt(ei('reportName'), reportName),
  createdDateTime: one(ei('createdDateTime'), dateTime),
});

export const reportSpecifier = obj({
  reportSpecifierId: one(ei('reportSpecifierID'), str),
  granularity: one(xduration(xcal('granularity')), duration),
  reportBackDuration: one(xduration(ei('reportBackDuration')), duration),
  reportInterval: opt([ei('reportInterval'), xcal('properties')], properties),
  specifierPayloads: many1(ei('specifierPayload'), obj({
    rId: one(ei('rID'), str),
    itemBase: opt([], itemBase),
    readingType: one(ei('readingType'), readingType),
  })),
});

export const reportRequest = obj({
  reportRequestId: one(ei('reportRequestID'), str),
  specifier: one(ei('reportSpecifier'), reportSpecifier),
});

const keyValue = obj({ key: one(oadr('oadrKey'), str), value: one(oadr('oadrValue'), str) });

// ---- payloads -------------------------------------------------------------------------------

const version = attr('opt', ei('schemaVersion'), schemaVersion);
const requestId = one(pyld('requestID'), str);
const response = one(ei('eiResponse'), eiResponse);
const venIdOpt = opt(ei('venID'), str);
const venId = one(ei('venID'), str);

export const distributeEvent = obj({
  schemaVersion: version,
  response: opt(ei('eiResponse'), eiResponse),
  requestId,
  vtnId: one(ei('vtnID'), str),
  events: many(oadr('oadrEvent'), event),
});

export const createdEvent = obj({
  schemaVersion: version,
  eiCreatedEvent: inline(pyld('eiCreatedEvent'), obj({
    response,
    eventResponses: many([ei('eventResponses'), ei('eventResponse')], eventResponse),
    venId,
  })),
});

export const requestEvent = obj({
  schemaVersion: version,
  eiRequestEvent: inline(pyld('eiRequestEvent'), obj({ requestId, venId, replyLimit: opt(pyld('replyLimit'), uint) })),
});

export const responsePayload = obj({ schemaVersion: version, response, venId: venIdOpt });

export const createOpt = obj({
  schemaVersion: version,
  optId: one(ei('optID'), str),
  optType: one(ei('optType'), optType),
  optReason: one(ei('optReason'), optReason),
  marketContext: opt(emix('marketContext'), token),
  venId,
  availability: many([xcal('vavailability'), xcal('components'), xcal('available')], obj({ properties: inline(xcal('properties'), properties) })),
  createdDateTime: one(ei('createdDateTime'), dateTime),
  requestId,
  qualifiedEventId: opt(ei('qualifiedEventID'), qualifiedEventId),
  target: one(ei('eiTarget'), target),
  deviceClass: opt(oadr('oadrDeviceClass'), target),
});
export const createdOpt = obj({ schemaVersion: version, response, optId: one(ei('optID'), str) });
export const cancelOpt = obj({ schemaVersion: version, requestId, optId: one(ei('optID'), str), venId });
export const canceledOpt = obj({ schemaVersion: version, response, optId: opt(ei('optID'), str) });

export const cancelReport = obj({
  schemaVersion: version,
  requestId,
  reportRequestIds: many1(ei('reportRequestID'), str),
  reportToFollow: one(pyld('reportToFollow'), bool),
  venId: venIdOpt,
});
const pendingReports = list([oadr('oadrPendingReports'), ei('reportRequestID')], str);
export const canceledReport = obj({ schemaVersion: version, response, pendingReports, venId: venIdOpt });
export const createReport = obj({ schemaVersion: version, requestId, reportRequests: many1(oadr('oadrReportRequest'), reportRequest), venId: venIdOpt });
export const createdReport = obj({ schemaVersion: version, response, pendingReports, venId: venIdOpt });
export const registerReport = obj({
  schemaVersion: version,
  requestId,
  reports: many(oadr('oadrReport'), report),
  venId: venIdOpt,
  reportRequestId: opt(ei('reportRequestID'), str),
});
export const registeredReport = obj({ schemaVersion: version, response, reportRequests: many(oadr('oadrReportRequest'), reportRequest), venId: venIdOpt });
export const updateReport = obj({ schemaVersion: version, requestId, reports: many(oadr('oadrReport'), report), venId: venIdOpt });
export const updatedReport = obj({ schemaVersion: version, response, cancelReport: opt(oadr('oadrCancelReport'), cancelReport), venId: venIdOpt });

export const cancelPartyRegistration = obj({ schemaVersion: version, requestId, registrationId: one(ei('registrationID'), str), venId: venIdOpt });
export const canceledPartyRegistration = obj({ schemaVersion: version, response, registrationId: opt(ei('registrationID'), str), venId: venIdOpt });
export const createPartyRegistration = obj({
  schemaVersion: version,
  requestId,
  registrationId: opt(ei('registrationID'), str),
  venId: venIdOpt,
  profileName: one(oadr('oadrProfileName'), profileName),
  transportName: one(oadr('oadrTransportName'), transportName),
  transportAddress: opt(oadr('oadrTransportAddress'), str),
  reportOnly: one(oadr('oadrReportOnly'), bool),
  xmlSignature: one(oadr('oadrXmlSignature'), bool),
  venName: opt(oadr('oadrVenName'), str),
  httpPullModel: opt(oadr('oadrHttpPullModel'), bool),
});
export const createdPartyRegistration = obj({
  schemaVersion: version,
  response,
  registrationId: opt(ei('registrationID'), str),
  venId: venIdOpt,
  vtnId: one(ei('vtnID'), str),
  profiles: many1([oadr('oadrProfiles'), oadr('oadrProfile')], obj({
    profileName: one(oadr('oadrProfileName'), profileName),
    transports: many1([oadr('oadrTransports'), oadr('oadrTransport'), oadr('oadrTransportName')], transportName, 1),
  })),
  pollFrequency: opt(xduration(oadr('oadrRequestedOadrPollFreq')), duration),
  serviceSpecificInfo: many([oadr('oadrServiceSpecificInfo'), oadr('oadrService')], obj({
    serviceName: one(oadr('oadrServiceName'), serviceName),
    info: many1(oadr('oadrInfo'), keyValue),
  })),
  extensions: many([oadr('oadrExtensions'), oadr('oadrExtension')], obj({
    name: one(oadr('oadrExtensionName'), str),
    info: many(oadr('oadrInfo'), keyValue),
  })),
});
export const requestReregistration = obj({ schemaVersion: version, venId });
export const queryRegistration = obj({ schemaVersion: version, requestId });
export const poll = obj({ schemaVersion: version, venId });

/** Every 2.0b payload, by our name, with its wire element. */
export const payload = choice({
  QueryRegistration: [oadr('oadrQueryRegistration'), queryRegistration],
  CreatePartyRegistration: [oadr('oadrCreatePartyRegistration'), createPartyRegistration],
  CreatedPartyRegistration: [oadr('oadrCreatedPartyRegistration'), createdPartyRegistration],
  CancelPartyRegistration: [oadr('oadrCancelPartyRegistration'), cancelPartyRegistration],
  CanceledPartyRegistration: [oadr('oadrCanceledPartyRegistration'), canceledPartyRegistration],
  RequestReregistration: [oadr('oadrRequestReregistration'), requestReregistration],
  RequestEvent: [oadr('oadrRequestEvent'), requestEvent],
  DistributeEvent: [oadr('oadrDistributeEvent'), distributeEvent],
  CreatedEvent: [oadr('oadrCreatedEvent'), createdEvent],
  Response: [oadr('oadrResponse'), responsePayload],
  RegisterReport: [oadr('oadrRegisterReport'), registerReport],
  RegisteredReport: [oadr('oadrRegisteredReport'), registeredReport],
  CreateReport: [oadr('oadrCreateReport'), createReport],
  CreatedReport: [oadr('oadrCreatedReport'), createdReport],
  UpdateReport: [oadr('oadrUpdateReport'), updateReport],
  UpdatedReport: [oadr('oadrUpdatedReport'), updatedReport],
  CancelReport: [oadr('oadrCancelReport'), cancelReport],
  CanceledReport: [oadr('oadrCanceledReport'), canceledReport],
  CreateOpt: [oadr('oadrCreateOpt'), createOpt],
  CreatedOpt: [oadr('oadrCreatedOpt'), createdOpt],
  CancelOpt: [oadr('oadrCancelOpt'), cancelOpt],
  CanceledOpt: [oadr('oadrCanceledOpt'), canceledOpt],
  Poll: [oadr('oadrPoll'), poll],
});

/** The whole document: `oadrPayload` (an optional `ds:Signature`, then `oadrSignedObject`). */
export const envelope = obj({
  signature: ignore(qn('ds', 'Signature')),
  signedObject: inline(oadr('oadrSignedObject'), obj({
    signedObjectId: attr('opt', oadr('Id'), id),
    payload: one([], payload),
  })),
});
export const ENVELOPE_ROOT = oadr('oadrPayload');

// ---- the 2.0a profile -----------------------------------------------------------------------
//
// OpenADR 2.0a (the official schemas in `oadr/xsd/20a/`): EiEvent only, each payload element the
// document root, no schemaVersion, the `oadr` elements in the 2.0a namespace. Each description
// below is a restriction of its 2.0b one with the same keys, so a 2.0a message decodes to the same
// model (`Payload`), and a model the 2.0a schema cannot express is refused when encoding (R506,
// §7.1: no modificationDateTime or modificationReason, eiTarget with group, resource, VEN and party
// IDs only, no signal-level eiTarget, no eiEventBaseline, no itemBase).

const target20a = obj({
  groupIds: many(ei('groupID'), str),
  resourceIds: many(ei('resourceID'), str),
  venIds: many(ei('venID'), str),
  partyIds: many(ei('partyID'), str),
});

/** 2.0a requires x-eiNotification in an event's properties (the key keeps its place in the sequence). */
const properties20a = obj({ ...propertyEntries, notification: one(xduration(ei('x-eiNotification')), duration) });

/** A 2.0a interval: duration and uid required, no dtstart. */
const signalInterval20a = obj({
  duration: one(xduration(xcal('duration')), duration),
  uid: one([xcal('uid'), xcal('text')], str),
  value: one([ei('signalPayload'), ei('payloadFloat'), ei('value')], float),
});

/** A 2.0a signal: currentValue mandatory (R113), no target, no itemBase. */
const eventSignal20a = obj({
  intervals: many1([strm('intervals'), ei('interval')], signalInterval20a),
  signalName: one(ei('signalName'), signalName),
  signalType: one(ei('signalType'), signalType),
  signalId: one(ei('signalID'), str),
  currentValue: one([ei('currentValue'), ei('payloadFloat'), ei('value')], float),
});

const event20a = obj({
  eiEvent: inline(ei('eiEvent'), obj({
    descriptor: one(ei('eventDescriptor'), obj({
      eventId: one(ei('eventID'), str),
      modificationNumber: one(ei('modificationNumber'), uint),
      ...descriptorTail,
    })),
    activePeriod: one(ei('eiActivePeriod'), obj({
      properties: inline(xcal('properties'), properties20a),
      components: fixed(xcal('components')),
    })),
    eventSignals: inline(ei('eiEventSignals'), obj({ signals: many1(ei('eiEventSignal'), eventSignal20a) })),
    target: one(ei('eiTarget'), target20a),
  })),
  responseRequired: one(oadr20a('oadrResponseRequired'), responseRequired),
});

/** The four 2.0a payloads, by the same names as their 2.0b counterparts. */
export const payload20a = choice({
  RequestEvent: [oadr20a('oadrRequestEvent'), obj({
    eiRequestEvent: inline(pyld('eiRequestEvent'), obj({ requestId, venId, replyLimit: opt(pyld('replyLimit'), uint) })),
  })],
  DistributeEvent: [oadr20a('oadrDistributeEvent'), obj({
    response: opt(ei('eiResponse'), eiResponse),
    requestId,
    vtnId: one(ei('vtnID'), str),
    events: many(oadr20a('oadrEvent'), event20a),
  })],
  CreatedEvent: [oadr20a('oadrCreatedEvent'), obj({
    eiCreatedEvent: inline(pyld('eiCreatedEvent'), obj({
      response,
      eventResponses: many([ei('eventResponses'), ei('eventResponse')], eventResponse),
      venId,
    })),
  })],
  Response: [oadr20a('oadrResponse'), obj({ response })],
});

/** The payload types a 2.0a peer can send or receive. */
export const PAYLOAD_TYPES_20A: readonly PayloadType[] = payload20a.options.map((o) => o.tag as PayloadType);

// ---- model types ----------------------------------------------------------------------------

export type OadrMessage = Model<typeof envelope>;
export type Payload = Model<typeof payload>;
export type PayloadType = Payload['type'];
export type PayloadOf<T extends PayloadType> = Extract<Payload, { type: T }>;

export type EiResponse = Model<typeof eiResponse>;
export type Target = Model<typeof target>;
export type ItemBase = Model<typeof itemBase>;
export type Properties = Model<typeof properties>;
export type SignalInterval = Model<typeof signalInterval>;
export type EventSignal = Model<typeof eventSignal>;
export type EventBaseline = Model<typeof eventBaseline>;
export type EventDescriptor = Model<typeof eventDescriptor>;
export type OadrEvent = Model<typeof event>;
export type QualifiedEventId = Model<typeof qualifiedEventId>;
export type EventResponse = Model<typeof eventResponse>;
export type ReportDescription = Model<typeof reportDescription>;
export type ResourceStatus = Model<typeof resourceStatus>;
export type PayloadValue = Model<typeof payloadValue>;
export type ReportPayload = Model<typeof reportPayload>;
export type ReportInterval = Model<typeof reportInterval>;
export type Report = Model<typeof report>;
export type ReportSpecifier = Model<typeof reportSpecifier>;
export type ReportRequest = Model<typeof reportRequest>;

export type DistributeEvent = PayloadOf<'DistributeEvent'>;
export type CreatedEvent = PayloadOf<'CreatedEvent'>;
export type RequestEvent = PayloadOf<'RequestEvent'>;
export type Response = PayloadOf<'Response'>;
export type CreateOpt = PayloadOf<'CreateOpt'>;
export type CreatedOpt = PayloadOf<'CreatedOpt'>;
export type CancelOpt = PayloadOf<'CancelOpt'>;
export type CanceledOpt = PayloadOf<'CanceledOpt'>;
export type CancelReport = PayloadOf<'CancelReport'>;
export type CanceledReport = PayloadOf<'CanceledReport'>;
export type CreateReport = PayloadOf<'CreateReport'>;
export type CreatedReport = PayloadOf<'CreatedReport'>;
export type RegisterReport = PayloadOf<'RegisterReport'>;
export type RegisteredReport = PayloadOf<'RegisteredReport'>;
export type UpdateReport = PayloadOf<'UpdateReport'>;
export type UpdatedReport = PayloadOf<'UpdatedReport'>;
export type CancelPartyRegistration = PayloadOf<'CancelPartyRegistration'>;
export type CanceledPartyRegistration = PayloadOf<'CanceledPartyRegistration'>;
export type CreatePartyRegistration = PayloadOf<'CreatePartyRegistration'>;
export type CreatedPartyRegistration = PayloadOf<'CreatedPartyRegistration'>;
export type RequestReregistration = PayloadOf<'RequestReregistration'>;
export type QueryRegistration = PayloadOf<'QueryRegistration'>;
export type Poll = PayloadOf<'Poll'>;

export const PAYLOAD_TYPES: readonly PayloadType[] = payload.options.map((o) => o.tag as PayloadType);
