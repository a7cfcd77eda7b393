/**
 * The demo's households and days: the thesis's two households (section 5.6), a fleet generated from
 * a seed, their 35 days of meter history, and the days of the two DR events. Pure data and pure
 * functions: no clock, no randomness but the seeded one.
 */
import { slotOfTime, THESIS_FIXED_LOAD_BY_HOUR_W, type FlexibleAppliance } from '../ven/index.ts';

export const SLOTS_PER_DAY = 96;
export const SLOT_MS = 15 * 60_000;
/** Days of meter history imported per customer: the contract's Y (docs/vtn.md, "Meter history for baselines"). */
export const HISTORY_DAYS = 35;
/** The contract's time zone (its default parameter): days, slots and the event window are local to it. */
export const TIME_ZONE = 'Europe/Rome';
/** The thesis's event: 300 W per 15-minute average from 07:00 to 19:00 on a weekday. */
export const EVENT_FROM = '07:00';
export const EVENT_TO = '19:00';
export const EVENT_REDUCTION_W = 300;
/** Phase 1, the thesis's two households, on a Tuesday; phase 2, the fleet and the battery site, on the Wednesday after. */
export const THESIS_DAY = '2026-03-10';
export const FLEET_DAY = '2026-03-11';

export interface Household {
  readonly customerId: string;
  readonly venName: string;
  /** Non-shiftable load per slot of a day, W. */
  readonly fixedLoadW: readonly number[];
  /** Shiftable appliances: one whole run a day at `baselineStartSlot`, movable within their window. */
  readonly appliances: readonly FlexibleAppliance[];
  readonly contractPowerW: number;
  /** Runs the household EMS (thesis section 5.6) inside its VEN. */
  readonly ems: boolean;
  /** How its VEN reaches the gateway when the demo runs an XMPP server; HTTP otherwise. */
  readonly transport: 'http' | 'xmpp';
}

const hourly = (byHour: readonly number[]): number[] => byHour.flatMap((w) => [w, w, w, w]);

/** Household 2's non-shiftable load: less in the central hours than household 1, a higher evening peak (thesis figure 5.4). */
const HOUSEHOLD_2_BY_HOUR_W = [200, 180, 170, 170, 170, 200, 350, 500, 300, 200, 200, 220, 250, 400, 250, 200, 250, 400, 700, 1200, 1100, 800, 500, 300];

/** The thesis's two households: 1 runs the EMS and its table 5.2 appliances; 2 uses its shiftable loads whenever it likes. */
export function thesisHouseholds(): readonly [Household, Household] {
  return [
    {
      customerId: 'household-1',
      venName: 'household-1',
      fixedLoadW: hourly(THESIS_FIXED_LOAD_BY_HOUR_W),
      appliances: [
        { id: 'dishwasher', powerW: 2060, durationSlots: 9, earliestStartSlot: slotOfTime('07:00'), latestEndSlot: SLOTS_PER_DAY, baselineStartSlot: slotOfTime('10:30') },
        { id: 'kettle', powerW: 1853, durationSlots: 1, earliestStartSlot: slotOfTime('16:00'), latestEndSlot: slotOfTime('20:00'), baselineStartSlot: slotOfTime('17:00') },
      ],
      contractPowerW: 3300,
      ems: true,
      transport: 'http',
    },
    {
      customerId: 'household-2',
      venName: 'household-2',
      fixedLoadW: hourly(HOUSEHOLD_2_BY_HOUR_W),
      appliances: [
        { id: 'dryer', powerW: 1500, durationSlots: 4, earliestStartSlot: 0, latestEndSlot: SLOTS_PER_DAY, baselineStartSlot: slotOfTime('09:00') },
        { id: 'washing-machine', powerW: 1900, durationSlots: 8, earliestStartSlot: 0, latestEndSlot: SLOTS_PER_DAY, baselineStartSlot: slotOfTime('14:00') },
      ],
      contractPowerW: 3300,
      ems: false,
      transport: 'xmpp',
    },
  ];
}

/** A deterministic generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `n` households shaped like the thesis's two, scaled and shifted at random; every other one runs the EMS. */
export function fleetHouseholds(n: number, seed = 7): Household[] {
  const random = seededRandom(seed);
  const [h1, h2] = thesisHouseholds();
  return Array.from({ length: n }, (_, i) => {
    const like = i % 2 === 0 ? h1 : h2;
    const scale = 0.7 + 0.6 * random();
    const shift = Math.floor(random() * 5) - 2;
    const id = `home-${String(i + 1).padStart(3, '0')}`;
    return {
      customerId: id,
      venName: id,
      fixedLoadW: like.fixedLoadW.map((_, h) => Math.round((like.fixedLoadW[(h + shift * 4 + SLOTS_PER_DAY) % SLOTS_PER_DAY] ?? 0) * scale)),
      appliances: like.appliances.map((a) => ({
        ...a,
        earliestStartSlot: 0,
        latestEndSlot: SLOTS_PER_DAY,
        baselineStartSlot: Math.min(SLOTS_PER_DAY - a.durationSlots, Math.max(0, a.baselineStartSlot + shift * 4)),
      })),
      contractPowerW: 4500,
      ems: i % 2 === 0,
      transport: i % 3 === 1 ? 'xmpp' : 'http',
    };
  });
}

/** The household's usual day: its fixed load plus every run at its usual start, W per slot. */
export function usualDayW(h: Household): number[] {
  const w = [...h.fixedLoadW];
  for (const a of h.appliances) for (let s = a.baselineStartSlot; s < a.baselineStartSlot + a.durationSlots; s++) w[s] = (w[s] ?? 0) + a.powerW;
  return w;
}

/** `YYYY-MM-DD` plus `days` (calendar arithmetic in UTC, so no time zone shifts a date). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The `HISTORY_DAYS` days before `day` as the admin API imports them (`valuesWh`, 96 quarter hours):
 * the usual day with its non-shiftable part varying from day to day (±10 %, seeded by the customer).
 */
export function historyDays(h: Household, day: string): { date: string; valuesWh: number[] }[] {
  let seed = 0;
  for (const c of h.customerId) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
  const random = seededRandom(seed);
  const usual = usualDayW(h);
  return Array.from({ length: HISTORY_DAYS }, (_, i) => {
    const factor = 0.9 + 0.2 * random();
    return { date: addDays(day, i - HISTORY_DAYS), valuesWh: usual.map((w, s) => Math.round(((w - (h.fixedLoadW[s] ?? 0)) + (h.fixedLoadW[s] ?? 0) * factor) / 4)) };
  });
}

/** The instant of local time `hhmm` on `date` in `timeZone`, ms. */
export function zonedMs(date: string, hhmm: string, timeZone: string = TIME_ZONE): number {
  const asUtc = Date.parse(`${date}T${hhmm}:00Z`);
  const offsetAt = (ms: number): number => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(ms)
        .map((p) => [p.type, p.value]),
    );
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - ms;
  };
  const first = asUtc - offsetAt(asUtc);
  return asUtc - offsetAt(first);
}

/** Local `HH:MM` of an instant in `timeZone`. */
export function localTime(ms: number, timeZone: string = TIME_ZONE): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(ms);
}
