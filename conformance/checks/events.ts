/**
 * Event rules beyond the shared payload rules: the units of a well-known signal (R104, the signal
 * table of §8.2.2), the mrid values of a signal target (R111), one signalPayload per interval
 * (R100, read from the XML since our decoder refuses a second one), one createdDateTime across the
 * events of an oadrDistributeEvent (R115), and the order of those events (R15).
 */
import { NS, type EventSignal, type OadrEvent } from '../../oadr/index.ts';
import type { ExchangeCheck, Finding } from '../case.ts';
import { author, finding, readMessage, walk } from './message.ts';

const CURRENCY = ['currency', 'currencyPerKWh', 'currencyPerKW', 'currencyPerThm'];
const POWER = ['powerReal', 'powerApparent', 'powerReactive'];
const ENERGY = ['energyReal', 'energyApparent', 'energyReactive'];

/**
 * The itemBase a well-known signal name and type take (§8.2.2 Table 1). Rows whose units the
 * table gives as "none" are absent: no unit is required there, and one given is not refused.
 */
const SIGNAL_UNITS: Readonly<Record<string, readonly string[]>> = {
  'ELECTRICITY_PRICE price': ['currencyPerKWh'],
  'ELECTRICITY_PRICE priceRelative': ['currencyPerKWh'],
  'ENERGY_PRICE price': ['currencyPerKWh'],
  'ENERGY_PRICE priceRelative': ['currencyPerKWh'],
  'DEMAND_CHARGE price': ['currencyPerKW'],
  'DEMAND_CHARGE priceRelative': ['currencyPerKW'],
  'BID_PRICE price': CURRENCY,
  'BID_LOAD setpoint': POWER,
  'BID_ENERGY setpoint': ENERGY,
  'CHARGE_STATE setpoint': ENERGY,
  'CHARGE_STATE delta': ENERGY,
  'LOAD_DISPATCH setpoint': POWER,
  'LOAD_DISPATCH delta': POWER,
  'LOAD_DISPATCH level': POWER,
};

/** The endDeviceAsset mrids R111 allows (R209 and R307 reuse them), besides `x-…`. */
const DEVICE_CLASSES = new Set([
  'Thermostat', 'Strip_Heater', 'Baseboard_Heater', 'Water_Heater', 'Pool_Pump', 'Sauna', 'Hot_tub', 'Smart_Appliance',
  'Irrigation_Pump', 'Managed_Commercial_and_Industrial_Loads', 'Simple_Residential_On_Off_Loads', 'Exterior_Lighting',
  'Interior_Lighting', 'Electric_Vehicle', 'Generation_Systems', 'Load_Control_Switch', 'Smart_Inverter', 'EVSE', 'RESU',
  'Energy_Management_System', 'Smart_Energy_Module', 'Storage',
]);

function eventsOf(exchange: Parameters<ExchangeCheck>[0]): readonly OadrEvent[] {
  const p = readMessage(exchange)?.decoded?.payload;
  return p?.type === 'DistributeEvent' ? (p.events ?? []) : [];
}

function signalProblems(s: EventSignal): { rule: string; expected: string; actual: string }[] {
  const out: { rule: string; expected: string; actual: string }[] = [];
  const units = SIGNAL_UNITS[`${s.signalName} ${s.signalType}`];
  if (units !== undefined && (s.itemBase === undefined || !units.includes(s.itemBase.type))) {
    out.push({ rule: 'R104', expected: `${s.signalName}/${s.signalType} in ${units.join(' or ')}`, actual: s.itemBase === undefined ? 'no itemBase' : s.itemBase.type });
  }
  for (const mrid of s.target?.endDeviceAssets ?? []) {
    if (!DEVICE_CLASSES.has(mrid) && !mrid.startsWith('x-')) out.push({ rule: 'R111', expected: 'an endDeviceAsset mrid from the R111 list or x-…', actual: `mrid ${mrid}` });
  }
  return out;
}

/** R104 units and R111 mrid values of every signal. */
export const signalCheck: ExchangeCheck = (exchange, index) =>
  eventsOf(exchange).flatMap((e) =>
    e.signals.flatMap((s) => signalProblems(s).map((p) => finding(index, [p.rule], `${author(exchange)} sent signal ${s.signalId} (${s.signalName}) of event ${e.descriptor.eventId} with ${p.actual}`, p.expected, p.actual))),
  );

/** R100: exactly one signalPayload in every interval of a signal or baseline. */
export const signalPayloadCheck: ExchangeCheck = (exchange, index) => {
  const root = readMessage(exchange)?.root;
  if (root === undefined) return [];
  const out: Finding[] = [];
  for (const { element } of walk(root)) {
    if (element.uri !== NS.ei || (element.local !== 'eiEventSignal' && element.local !== 'eiEventBaseline')) continue;
    const intervals = element.children.find((c) => c.local === 'intervals')?.children ?? [];
    intervals.forEach((iv, i) => {
      const n = iv.children.filter((c) => c.uri === NS.ei && c.local === 'signalPayload').length;
      if (n !== 1) out.push(finding(index, ['R100'], `${author(exchange)} sent an ${element.local} whose interval ${i} has ${n} signalPayload elements`, 'exactly one signalPayload/payloadFloat per interval', `${n} signalPayload elements`));
    });
  }
  return out;
};

/** R115: one createdDateTime for all events of an oadrDistributeEvent. */
export const createdDateTimeCheck: ExchangeCheck = (exchange, index) => {
  const events = eventsOf(exchange);
  const first = events[0]?.descriptor.createdDateTime;
  const other = events.find((e) => e.descriptor.createdDateTime !== first);
  if (other === undefined || events[0] === undefined) return [];
  return [finding(index, ['R115'], `${author(exchange)} sent an oadrDistributeEvent whose events have different createdDateTimes`, `every event with createdDateTime ${String(first)} (that of ${events[0].descriptor.eventId})`, `${other.descriptor.eventId} has ${other.descriptor.createdDateTime}`)];
};

const ACTIVE = 'active';
const PENDING = new Set(['far', 'near']);

/** R15 sort key: active before pending; active by priority (0 or none last, R3), then dtstart; pending by dtstart. */
function orderKey(e: OadrEvent): readonly [number, number, number] {
  const start = Date.parse(e.activePeriod.dtstart);
  if (e.descriptor.eventStatus === ACTIVE) {
    const p = e.descriptor.priority;
    return [0, p === undefined || p === 0 ? Number.POSITIVE_INFINITY : p, start];
  }
  return [1, start, 0];
}

const after = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) > (b[i] as number);
  }
  return false;
};

/** R15: the order of active and pending events (cancelled and completed ones keep any place). */
export const eventOrderCheck: ExchangeCheck = (exchange, index) => {
  const ordered = eventsOf(exchange).filter((e) => e.descriptor.eventStatus === ACTIVE || PENDING.has(e.descriptor.eventStatus));
  const out: Finding[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const [a, b] = [ordered[i - 1] as OadrEvent, ordered[i] as OadrEvent];
    if (after(orderKey(a), orderKey(b))) {
      const show = (e: OadrEvent): string => `${e.descriptor.eventId} (${e.descriptor.eventStatus}, priority ${String(e.descriptor.priority ?? 'none')}, dtstart ${e.activePeriod.dtstart})`;
      out.push(finding(index, ['R15'], `${author(exchange)} sent events out of order`, `${show(b)} before ${show(a)}`, `${show(a)} before ${show(b)}`));
    }
  }
  return out;
};
