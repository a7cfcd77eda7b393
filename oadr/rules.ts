/**
 * Payload rules of the 2.0b profile that the schema cannot express, checked on a decoded
 * message. Each finding names its rule (spec/openadr-2.0b-rules.md) and the response code a
 * receiver answers with. `error` findings make a payload non-conformant; `warning` ones are
 * SHOULDs.
 */
import { ResponseCode, type ResponseCodeValue } from './errors.ts';
import { durationToMs, parseDuration } from './duration.ts';
import type { EventSignal, OadrEvent, OadrMessage, Report, SignalInterval } from './model.ts';

export interface RuleFinding {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly responseCode: ResponseCodeValue;
  readonly message: string;
  /** Where, in our model's terms (e.g. `events[0].signals[1]`). */
  readonly where: string;
}

/** Signal names and the signal types Table 1 (§8.2.2, R104) allows with them. */
const SIGNAL_TABLE: Readonly<Record<string, readonly string[]>> = {
  SIMPLE: ['level'],
  ELECTRICITY_PRICE: ['price', 'priceRelative', 'priceMultiplier'],
  ENERGY_PRICE: ['price', 'priceRelative', 'priceMultiplier'],
  DEMAND_CHARGE: ['price', 'priceRelative', 'priceMultiplier'],
  BID_PRICE: ['price'],
  BID_LOAD: ['setpoint'],
  BID_ENERGY: ['setpoint'],
  CHARGE_STATE: ['setpoint', 'delta', 'multiplier'],
  LOAD_DISPATCH: ['setpoint', 'delta', 'multiplier', 'level'],
  LOAD_CONTROL: ['x-loadControlCapacity', 'x-loadControlLevelOffset', 'x-loadControlSetpoint', 'x-loadControlPercentOffset'],
};

export function checkPayloadRules(message: OadrMessage): RuleFinding[] {
  const out: RuleFinding[] = [];
  const add = (rule: string, severity: RuleFinding['severity'], responseCode: ResponseCodeValue, message: string, where: string): void => {
    out.push({ rule, severity, responseCode, message, where });
  };
  const p = message.payload;
  if (p.schemaVersion !== '2.0b') {
    add('R509', 'error', ResponseCode.COMPLIANCE_ERROR, `schemaVersion is ${p.schemaVersion === undefined ? 'absent' : `'${p.schemaVersion}'`}; every 2.0b payload carries ei:schemaVersion="2.0b"`, 'payload');
  }
  switch (p.type) {
    case 'DistributeEvent':
      if (p.requestId === '') add('R41', 'error', ResponseCode.COMPLIANCE_ERROR, 'the top-level requestID of oadrDistributeEvent must be filled', 'requestId');
      p.events?.forEach((e, i) => checkEvent(e, `events[${i}]`, add));
      break;
    case 'CreatedEvent': {
      const ok = p.response.code >= 200 && p.response.code < 300;
      if (ok && (p.eventResponses ?? []).length === 0) {
        add('R35', 'error', ResponseCode.COMPLIANCE_ERROR, 'eventResponses are mandatory unless eiResponse reports an error', 'eventResponses');
      }
      if ((p.eventResponses ?? []).length > 0 && p.response.requestId !== '') {
        add('R42', 'warning', ResponseCode.COMPLIANCE_ERROR, 'eiResponse/requestID stays empty when eventResponses are present (each carries its own)', 'response.requestId');
      }
      break;
    }
    case 'CreatePartyRegistration':
      if (p.transportName === 'simpleHttp' && p.httpPullModel === undefined) {
        add('R402', 'error', ResponseCode.COMPLIANCE_ERROR, 'a simpleHttp registration must say oadrHttpPullModel true or false', 'httpPullModel');
      }
      if (p.httpPullModel === false && (p.transportAddress ?? '') === '') {
        add('R402', 'error', ResponseCode.COMPLIANCE_ERROR, 'a push registration (oadrHttpPullModel false) needs oadrTransportAddress', 'transportAddress');
      }
      if (p.registrationId !== undefined && p.venId === undefined) {
        add('R402', 'error', ResponseCode.COMPLIANCE_ERROR, 'a re-registration carries both registrationID and venID', 'venId');
      }
      break;
    case 'RegisterReport':
      p.reports?.forEach((r, i) => {
        if (r.reportRequestId !== '0') add('R311', 'warning', ResponseCode.COMPLIANCE_ERROR, `metadata reports carry reportRequestID 0, not '${r.reportRequestId}'`, `reports[${i}].reportRequestId`);
        if ((r.intervals ?? []).length > 0 || r.dtstart !== undefined) add('R305', 'error', ResponseCode.COMPLIANCE_ERROR, 'metadata never contains intervals or dtstart', `reports[${i}]`);
        if (r.reportName !== undefined && !r.reportName.startsWith('METADATA_') && !r.reportName.startsWith('x-')) {
          add('R331', 'error', ResponseCode.COMPLIANCE_ERROR, `a metadata report is named METADATA_<name>, not '${r.reportName}'`, `reports[${i}].reportName`);
        }
        r.descriptions?.forEach((d, j) => {
          if (d.reportType !== undefined && (r.reportName ?? '').startsWith('METADATA_TELEMETRY') && d.samplingRate === undefined) {
            add('R333', 'error', ResponseCode.COMPLIANCE_ERROR, 'every TELEMETRY_* description includes oadrSamplingRate', `reports[${i}].descriptions[${j}]`);
          }
        });
      });
      break;
    case 'UpdateReport':
      p.reports?.forEach((r, i) => checkDataReport(r, `reports[${i}]`, add));
      break;
    case 'CreateReport':
    case 'RegisteredReport':
      p.reportRequests?.forEach((rq, i) => {
        rq.specifier.specifierPayloads.forEach((sp, j) => {
          if (sp.readingType !== 'x-notApplicable') add('R338', 'warning', ResponseCode.COMPLIANCE_ERROR, `specifierPayload readingType is x-notApplicable, not '${sp.readingType}'`, `reportRequests[${i}].specifier.specifierPayloads[${j}]`);
        });
      });
      break;
    default:
      break;
  }
  return out;
}

type Add = (rule: string, severity: RuleFinding['severity'], code: ResponseCodeValue, message: string, where: string) => void;

function checkEvent(e: OadrEvent, where: string, add: Add): void {
  if (e.activePeriod.notification === undefined) add('R105', 'error', ResponseCode.COMPLIANCE_ERROR, 'every 2.0b event contains x-eiNotification', `${where}.activePeriod`);
  if ((e.target.venIds ?? []).length > 1) add('R63', 'error', ResponseCode.COMPLIANCE_ERROR, 'an eiTarget holds at most one venID', `${where}.target`);
  const total = safeMs(e.activePeriod.duration, e.activePeriod.dtstart);
  const ids = new Set<string>();
  e.signals.forEach((s, i) => {
    const w = `${where}.signals[${i}]`;
    if (ids.has(s.signalId)) add('R107', 'error', ResponseCode.COMPLIANCE_ERROR, `signalID '${s.signalId}' is used twice in one event`, w);
    ids.add(s.signalId);
    checkSignal(s, w, add);
    checkIntervals(s.intervals, total, e.activePeriod.dtstart, w, add);
  });
  if (e.baseline !== undefined) checkIntervals(e.baseline.intervals, safeMs(e.baseline.duration, e.baseline.dtstart), e.baseline.dtstart, `${where}.baseline`, add);
}

function checkSignal(s: EventSignal, where: string, add: Add): void {
  const allowed = SIGNAL_TABLE[s.signalName];
  if (allowed !== undefined && !allowed.includes(s.signalType)) {
    const rule = s.signalName === 'SIMPLE' ? 'R116' : 'R104';
    add(rule, 'error', ResponseCode.INVALID_DATA, `signal ${s.signalName} uses signalType ${allowed.join(' | ')}, not ${s.signalType}`, where);
  }
  if (s.signalName === 'SIMPLE' || s.signalName === 'simple') {
    for (const iv of s.intervals) {
      if (![0, 1, 2, 3].includes(iv.value)) add('R9', 'error', ResponseCode.INVALID_DATA, `SIMPLE levels are 0, 1, 2 or 3, not ${iv.value}`, where);
    }
  }
  const t = s.target;
  if (t !== undefined) {
    const others = Object.entries(t).filter(([k, v]) => k !== 'endDeviceAssets' && Array.isArray(v) && v.length > 0);
    if (others.length > 0) add('R111', 'error', ResponseCode.COMPLIANCE_ERROR, `a signal-level eiTarget holds only endDeviceAsset, not ${others.map(([k]) => k).join(', ')}`, `${where}.target`);
  }
}

function checkIntervals(intervals: readonly SignalInterval[], totalMs: number | undefined, dtstart: string, where: string, add: Add): void {
  let sum = 0;
  let summable = true;
  intervals.forEach((iv, i) => {
    if (iv.uid !== undefined && iv.uid.trim() !== String(i)) add('R2', 'error', ResponseCode.COMPLIANCE_ERROR, `interval uids count 0, 1, 2…; interval ${i} has uid '${iv.uid}'`, `${where}.intervals[${i}]`);
    if (iv.dtstart !== undefined) add('R103', 'error', ResponseCode.COMPLIANCE_ERROR, 'event intervals carry no dtstart', `${where}.intervals[${i}]`);
    if (iv.duration === undefined) {
      add('R8', 'error', ResponseCode.COMPLIANCE_ERROR, 'every interval carries a duration', `${where}.intervals[${i}]`);
      summable = false;
      return;
    }
    const ms = safeMs(iv.duration, dtstart);
    if (ms === undefined) summable = false;
    else sum += ms;
  });
  // R47: a total of 0 is an open-ended event; any finite interval sum is accepted then (rules §10).
  if (summable && totalMs !== undefined && totalMs !== 0 && sum !== totalMs) {
    add('R8', 'error', ResponseCode.INVALID_DATA, `interval durations add up to ${sum / 1000} s, the event lasts ${totalMs / 1000} s`, where);
  }
}

function checkDataReport(r: Report, where: string, add: Add): void {
  if (r.dtstart === undefined) add('R314', 'error', ResponseCode.COMPLIANCE_ERROR, 'a data report always has dtstart', where);
  if ((r.descriptions ?? []).length > 0) add('R313', 'error', ResponseCode.COMPLIANCE_ERROR, 'a data report has no oadrReportDescription', where);
  if (r.reportName?.startsWith('METADATA_') === true) add('R313', 'error', ResponseCode.COMPLIANCE_ERROR, `a data report is named without the METADATA_ prefix, not '${r.reportName}'`, `${where}.reportName`);
  const ivs = r.intervals ?? [];
  const withStart = ivs.filter((iv) => iv.dtstart !== undefined).length;
  if (withStart !== 0 && withStart !== ivs.length) add('R314', 'error', ResponseCode.COMPLIANCE_ERROR, 'if one interval has a dtstart, all do', where);
  const withDuration = ivs.filter((iv) => iv.duration !== undefined).length;
  if (withDuration !== 0 && withDuration !== ivs.length) add('R315', 'error', ResponseCode.COMPLIANCE_ERROR, 'if one interval has a duration, all do', where);
  if (ivs.length > 1 && withStart === 0 && withDuration !== ivs.length) add('R315', 'error', ResponseCode.COMPLIANCE_ERROR, 'several intervals without dtstart each need a duration', where);
  ivs.forEach((iv, i) => {
    if (iv.dtstart === undefined && iv.uid !== undefined && iv.uid.trim() !== String(i)) {
      add('R316', 'error', ResponseCode.COMPLIANCE_ERROR, `intervals without dtstart carry uid 0, 1, 2…; interval ${i} has '${iv.uid}'`, `${where}.intervals[${i}]`);
    }
  });
}

function safeMs(d: string, from: string): number | undefined {
  if (parseDuration(d) === undefined) return undefined;
  try {
    return durationToMs(d, Date.parse(from));
  } catch {
    return undefined;
  }
}
