/**
 * The admin REST API for utilities and retailers, as one table: each route's method, path, the
 * permission it needs, its JSON schemas (checked by fastify before the handler runs, and written
 * into the OpenAPI document by openapi.ts) and its handler, which calls the VTN's public API or
 * the ledger port. Ledger features the port lacks answer 501.
 */
import type { LedgerPort } from '../ledger/port.ts';
import type { Logger } from '../operations/logger.ts';
import { PROGRAM_ID, PROGRAM_SIGNALS, type ProgramConfig, type ProgramConfigInput, type VtnConfig } from '../cli/config.ts';
import { ADMIN_ROLES, createAdminToken, type Permission } from './auth.ts';
import { VtnError } from '../errors.ts';
import type { CreateEventInput, EventsApi, EventView, LedgerEventChange, LedgerEventInput, ModifyEventInput } from '../services/event-service.ts';
import type { AdminRole, AdminTokenRecord, CustomerRecord, VtnStore } from '../store/store.ts';
import { maxTelemetryWOf } from '../services/programs.ts';
import type { Vtn } from '../vtn-api.ts';

/** The parts of the VTN the admin API calls. */
export type AdminVtn = Pick<Vtn, 'events' | 'vens' | 'customers' | 'reports' | 'opt' | 'programs'>;

export interface AdminDeps {
  /** Read when a request comes (the VTN facade is built after the routes). */
  readonly vtn: () => AdminVtn;
  readonly store: VtnStore;
  readonly ledger: LedgerPort | undefined;
  readonly config: VtnConfig;
  readonly now: () => number;
  readonly newId: (prefix: string) => string;
  readonly log: Logger;
}

export interface AdminRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly token: AdminTokenRecord;
}

type Schema = Readonly<Record<string, unknown>>;

export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below `/api/v1`, fastify style (`/events/:eventId`). */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  readonly permission: Permission;
  readonly params?: Schema;
  readonly querystring?: Schema;
  readonly body?: Schema;
  readonly bodyLimit?: number;
  /** Success status (default 200). */
  readonly status?: number;
  /** The success status by what the handler returned, when it varies (`status` otherwise). */
  readonly statusOf?: (result: unknown) => number;
  readonly handler: (deps: AdminDeps, req: AdminRequest) => unknown;
}

export const ADMIN_PREFIX = '/api/v1';

// ---- schemas -------------------------------------------------------------------------------

const id = { type: 'string', minLength: 1, maxLength: 200 } as const;
/** A retailer id is part of its ledger identity's `ID` (`retailer:<retailerId>`, a contract id of at most 128 characters). */
// `vtn` is reserved: `retailer:vtn` is the ledger identity of the customers that name no retailer.
const retailerId = {
  type: 'string',
  pattern: '^(?!vtn$)[A-Za-z0-9][A-Za-z0-9._:@-]{0,118}$',
  description: "letters, digits and . _ : @ -, at most 119, starting with a letter or digit, not 'vtn' (its ledger identity is ID=retailer:<retailer>)",
} as const;
const time = { type: 'string', minLength: 1, description: 'ISO 8601 date-time, e.g. 2030-01-15T17:00:00Z' } as const;
const EVENT_TARGETS = {
  description: "'all', { customerIds: [...] } or { groups: [...] }",
  anyOf: [
    { type: 'string', enum: ['all'] },
    { type: 'object', additionalProperties: false, required: ['customerIds'], properties: { customerIds: { type: 'array', items: id } } },
    { type: 'object', additionalProperties: false, required: ['groups'], properties: { groups: { type: 'array', items: id } } },
  ],
} as const;
const perSlot = {
  description: 'W, constant or one value per slot',
  anyOf: [{ type: 'number' }, { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 10_000 }],
} as const;
const params = (...names: string[]): Schema => ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, id])) });

const customerFields = {
  meterId: id,
  venName: id,
  venId: id,
  fingerprint: { type: 'string', minLength: 1, maxLength: 200, description: 'SHA-256 certificate fingerprint (§10.5.1)' },
  retailer: retailerId,
  programId: id,
} as const;
const customerMaxTelemetryW = {
  type: 'integer',
  minimum: 1,
  description: "largest plausible power of this customer (W, its connection); telemetry and imported energy beyond it are refused (default: its program's maxTelemetryW)",
} as const;

const ms = (description: string, minimum = 0) => ({ type: 'integer', minimum, description }) as const;
const programFields = {
  marketContext: { type: 'string', minLength: 1, maxLength: 2000, description: 'emix:marketContext of the events (an absolute URI); default http://oadr-ledger.local/programs/{id}' },
  slotMs: ms('length of one event interval (default 900000 = 15 min)', 1000),
  notificationMs: ms('x-eiNotification of the events (R105)'),
  rampUpMs: ms('x-eiRampUp: the event is near this long before dtstart (R13)'),
  priority: { type: 'integer', minimum: 0, description: 'default event priority (1 highest, 0 none)' },
  signals: { type: 'array', minItems: 1, items: { type: 'string', enum: [...PROGRAM_SIGNALS] }, description: 'signals sent for a customer’s load reduction' },
  simpleLevel: { type: 'integer', minimum: 0, maximum: 3, description: 'SIMPLE level during the event' },
  simpleLevelsW: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number', exclusiveMinimum: 0 }, description: "a customer's share (W) at or above which SIMPLE levels 1, 2, 3 are sent, ascending (SIMPLE signal and 2.0a VENs); default: simpleLevel for every share above 0" },
  reportGranularityMs: ms('telemetry granularity requested (R317), whole seconds', 1000),
  reportBackDurationMs: ms('reportBackDuration requested (R324), whole seconds', 1000),
  maxTelemetryW: { type: 'integer', minimum: 1, description: 'largest plausible power of one customer (W); telemetry and imported energy beyond it are refused (default 10000000)' },
  testEvent: { type: 'boolean', description: 'the program’s events are test events (R6: VENs do not actuate) unless an event says otherwise; never recorded on the ledger (default false)' },
  optSchedules: { type: 'string', enum: ['both', 'optIn', 'optOut'], description: 'R201: the availability schedules VENs may send (default both)' },
  optUncovered: { type: 'string', enum: ['available', 'unavailable'], description: 'R201: time no schedule covers (default available)' },
  optOverlapWinner: { type: 'string', enum: ['optIn', 'optOut'], description: 'R201: which wins where optIn and optOut schedules overlap (default optOut)' },
  eventsWhenUnavailable: { type: 'string', enum: ['send', 'withhold'], description: 'R201: an event reaches a VEN unavailable during its window, recorded as opted out (send, default), or not at all (withhold)' },
} as const;

export const SCHEMAS = {
  customerCreate: { type: 'object', additionalProperties: false, required: ['customerId'], properties: { customerId: id, ...customerFields, maxTelemetryW: customerMaxTelemetryW } },
  customerUpdate: { type: 'object', additionalProperties: false, properties: { ...customerFields, maxTelemetryW: customerMaxTelemetryW } },
  ven20aEnrol: {
    type: 'object',
    additionalProperties: false,
    required: ['venId', 'customerId', 'profile', 'fingerprint'],
    properties: {
      venId: id,
      customerId: id,
      profile: { type: 'string', enum: ['2.0a'], description: 'the profile the VEN speaks; 2.0b VENs register themselves (EiRegisterParty)' },
      fingerprint: { type: 'string', pattern: '^[0-9A-Fa-f:]{20,95}$', description: "fingerprint of the VEN's TLS client certificate: the whole SHA-256 (64 hex digits) or OpenADR's last 20 hex digits, colons allowed" },
    },
  },
  energyImport: {
    type: 'object',
    additionalProperties: false,
    required: ['days'],
    properties: {
      days: {
        type: 'array',
        minItems: 1,
        maxItems: 3660,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['date', 'valuesWh'],
          properties: {
            date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            valuesWh: { type: 'array', minItems: 96, maxItems: 96, items: { type: 'number', minimum: 0 }, description: '96 quarter-hour values, Wh' },
          },
        },
      },
    },
  },
  eventCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['start'],
    anyOf: [{ required: ['reductionW'] }, { required: ['perVenReductionW'] }, { required: ['perCustomerReductionW'] }],
    properties: {
      programId: id,
      eventId: id,
      start: time,
      slots: { type: 'integer', minimum: 1, maximum: 10_000 },
      durationMinutes: { type: 'integer', minimum: 1 },
      reductionW: { ...perSlot, description: 'Total reduction (W), shared among the targeted customers by the ledger' },
      targets: EVENT_TARGETS,
      perVenReductionW: { type: 'object', additionalProperties: perSlot, description: 'Each VEN’s reduction (W), without the ledger' },
      perCustomerReductionW: { type: 'object', additionalProperties: perSlot, description: 'Each customer’s reduction (W), without the ledger' },
      priority: { type: 'integer', minimum: 0 },
      testEvent: { type: 'boolean' },
      responseRequired: { type: 'string', enum: ['always', 'never'] },
      startAfterMs: { type: 'integer', minimum: 0 },
      rampUpMs: { type: 'integer', minimum: 0 },
      recoveryMs: { type: 'integer', minimum: 0 },
      notificationMs: { type: 'integer', minimum: 0 },
      vtnComment: { type: 'string', maxLength: 1000 },
    },
  },
  eventModify: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      reductionW: { ...perSlot, description: 'An event from the ledger: the new total reduction (W) per interval of the new schedule' },
      targets: { ...EVENT_TARGETS, description: "An event from the ledger, before it starts: new targets ('all', { customerIds } or { groups })" },
      start: { ...time, description: 'A new start, before the event starts; an event from the ledger stays on its day' },
      slots: { type: 'integer', minimum: 1, maximum: 10_000, description: 'A new number of intervals; intervals that have ended stay' },
      durationMinutes: { type: 'integer', minimum: 1, description: 'An event from the ledger: a new duration in minutes' },
      perVenReductionW: { type: 'object', additionalProperties: perSlot },
      perVenSignals: { type: 'object', additionalProperties: { type: 'object', additionalProperties: perSlot } },
      signalValues: { type: 'object', additionalProperties: perSlot },
      addVenIds: { type: 'array', items: id, description: 'VENs the event targets too (their values from perVenReductionW or perVenSignals)' },
      removeVenIds: { type: 'array', items: id, description: 'VENs the event no longer targets: each receives it cancelled' },
      priority: { type: 'integer', minimum: 0 },
      vtnComment: { type: 'string', maxLength: 1000 },
      modificationReason: { type: 'string', maxLength: 1000 },
    },
  },
  programCreate: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: PROGRAM_ID.source }, ...programFields } },
  programUpdate: { type: 'object', additionalProperties: false, minProperties: 1, properties: programFields },
  contractParams: { type: 'object', minProperties: 1, description: 'the parameters to change, named as queryProgramParams returns them' },
  eventCancel: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } },
  reportCancel: { type: 'object', additionalProperties: false, properties: { reportToFollow: { type: 'boolean' }, piggyback: { type: 'boolean' } } },
  tokenCreate: { type: 'object', additionalProperties: false, required: ['role', 'name'], properties: { role: { type: 'string', enum: [...ADMIN_ROLES] }, name: { type: 'string', minLength: 1, maxLength: 200 }, retailerId: { ...retailerId, description: 'for role retailer (required): the `retailer` of the customers the token may see and manage' }, expiresAt: { ...time, description: 'when the token stops working (ISO 8601); absent: it does not expire' } } },
  timeRange: { type: 'object', properties: { from: time, to: time } },
  historyRequest: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: time, to: time } },
  at: { type: 'object', properties: { at: time, marketContext: { type: 'string' }, resource: { type: 'string', description: "one resource of the VEN, as its opts name it (a resourceID, or 'endDeviceAsset:…'); absent: the VEN as a whole" } } },
  blocks: { type: 'object', properties: { from: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
  baseline: { type: 'object', properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } } },
  energyDay: { type: 'object', required: ['date'], properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the contract day (in the program time zone)' } } },
} as const;

// ---- helpers -------------------------------------------------------------------------------

function parseTime(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(String(v));
  if (!Number.isFinite(ms)) throw new VtnError('INVALID_ARGUMENT', `${what} is not an ISO 8601 date-time: ${String(v)}`);
  return ms;
}

function needLedger<K extends keyof LedgerPort>(deps: AdminDeps, method: K): NonNullable<LedgerPort[K]> {
  const fn = deps.ledger?.[method];
  if (fn === undefined) throw new VtnError('NOT_IMPLEMENTED', `the ledger connected to this VTN does not offer '${String(method)}' yet`);
  return (fn as (...a: unknown[]) => unknown).bind(deps.ledger) as NonNullable<LedgerPort[K]>;
}

/**
 * The retailer a request speaks for: a retailer token sees only the customers whose `retailer` is
 * its `retailerId` (their VENs, their part of events); undefined for operator and read-only tokens.
 */
function scopeOf(req: AdminRequest): string | undefined {
  return req.token.role === 'retailer' ? (req.token.retailerId ?? '') : undefined;
}

function inScope(deps: AdminDeps, scope: string | undefined, customerId: string | undefined): boolean {
  return scope === undefined || (customerId !== undefined && deps.store.getCustomer(customerId)?.retailer === scope);
}

/** A claim spans every retailer's customers: not for a retailer token. */
function claimsInScope(req: AdminRequest): void {
  if (scopeOf(req) !== undefined) throw new VtnError('FORBIDDEN', "an event's flexibility claims span every retailer's customers; read your customers' part with GET /api/v1/customers/{customerId}/events/{eventId}");
}

/** The id a customer gets when a retailer token enrols it: the retailer's id, `:`, the id given (unless it starts so already). */
export function retailerCustomerId(scope: string | undefined, customerId: string): string {
  return scope === undefined || customerId.startsWith(`${scope}:`) ? customerId : `${scope}:${customerId}`;
}

/** A customer of the request's scope; another retailer's customer is as unknown as a missing one. */
function customerOr404(deps: AdminDeps, customerId: string, req: AdminRequest): CustomerRecord {
  const c = deps.store.getCustomer(customerId);
  if (c === undefined || !inScope(deps, scopeOf(req), customerId)) throw notFoundCustomer(customerId);
  return c;
}

const notFoundCustomer = (customerId: string): VtnError => new VtnError('NOT_FOUND', `no customer '${customerId}'; list the customers to find the id`);

function venOr404(deps: AdminDeps, venId: string, req: AdminRequest) {
  const v = deps.vtn().vens.get(venId);
  if (v === undefined || !inScope(deps, scopeOf(req), v.customerId)) throw new VtnError('NOT_FOUND', `no VEN '${venId}' is registered; list the VENs to find its venID`);
  return v;
}

type CustomerBody = Partial<Record<keyof typeof customerFields, string>> & { readonly maxTelemetryW?: number };

/** The customer whose ledger meter is `meterId` (a customer without a meterId is metered under its own id). */
function meterHolder(deps: AdminDeps, meterId: string): CustomerRecord | undefined {
  const byMeter = deps.store.findCustomerByMeterId(meterId);
  if (byMeter !== undefined) return byMeter;
  const byId = deps.store.getCustomer(meterId);
  return byId !== undefined && byId.meterId === undefined ? byId : undefined;
}

/**
 * A meter belongs to one customer: binding one another customer holds is refused. An operator (or
 * the holder's own retailer) is told who holds it; another retailer gets the answer it would get
 * for any meter it may not bind, without learning whose it is.
 */
function checkMeterFree(deps: AdminDeps, customerId: string, meterId: string, req: AdminRequest): void {
  const holder = meterHolder(deps, meterId);
  if (holder === undefined || holder.customerId === customerId) return;
  if (inScope(deps, scopeOf(req), holder.customerId)) {
    throw new VtnError('NOT_ALLOWED', `meter '${meterId}' belongs to customer ${holder.customerId}; one meter belongs to one customer: unbind it there first`);
  }
  throw new VtnError('INVALID_ARGUMENT', `meter '${meterId}' cannot be bound to customer ${customerId}; check the meter id with the data hub`);
}

/** Enrol or update: the VTN's checks (one VEN name per customer), then the admin fields kept with it. */
function saveCustomer(deps: AdminDeps, customerId: string, given: CustomerBody, req: AdminRequest): CustomerRecord {
  const scope = scopeOf(req);
  if (scope !== undefined && given.retailer !== undefined && given.retailer !== scope) {
    throw new VtnError('FORBIDDEN', `this token speaks for retailer '${scope}'; it cannot give a customer to retailer '${given.retailer}'`);
  }
  const body: CustomerBody = scope === undefined ? given : { ...given, retailer: scope };
  if (body.programId !== undefined && deps.vtn().programs.get(body.programId) === undefined) {
    throw new VtnError('INVALID_ARGUMENT', `unknown program '${body.programId}'; list the programs (GET /api/v1/programs) or create it`);
  }
  const before = deps.store.getCustomer(customerId);
  const keep = <K extends keyof typeof customerFields>(k: K): string | undefined => body[k] ?? (before?.[k] as string | undefined);
  // The ledger meter this customer will write: its meterId, else its own id.
  checkMeterFree(deps, customerId, keep('meterId') ?? customerId, req);
  const enrolled = deps.vtn().customers.enrol({
    customerId,
    ...(keep('venName') === undefined ? {} : { venName: keep('venName') as string }),
    ...(keep('venId') === undefined ? {} : { venId: keep('venId') as string }),
    ...(keep('fingerprint') === undefined ? {} : { fingerprint: keep('fingerprint') as string }),
  });
  const full: CustomerRecord = {
    ...enrolled,
    meterId: keep('meterId'),
    retailer: keep('retailer'),
    programId: keep('programId'),
    maxTelemetryW: body.maxTelemetryW ?? before?.maxTelemetryW,
  };
  deps.store.putCustomer(full);
  return full;
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Meter history is checked whole before anything reaches the ledger, so an import commits all its
 * days or none: each date real and given once, each day over (in the contract's time zone; a
 * retailer is paid only for slots that have ended), each value finite and within the program's
 * maximum power over a slot. Anything else is 422.
 */
async function checkEnergyImport(deps: AdminDeps, customer: CustomerRecord, days: ReadonlyArray<{ date: string; valuesWh: number[] }>): Promise<void> {
  const now = deps.now();
  // Without the contract's time zone: a day is over everywhere 12 h after its UTC end.
  const today = deps.ledger?.contractDay === undefined ? isoDay(now - DAY_MS / 2) : await deps.ledger.contractDay(now);
  const seen = new Set<string>();
  for (const [i, d] of days.entries()) {
    const ms = Date.parse(`${d.date}T00:00:00Z`);
    if (!Number.isFinite(ms) || isoDay(ms) !== d.date) throw new VtnError('INVALID_ARGUMENT', `days[${i}].date '${d.date}' is not a calendar date (YYYY-MM-DD); nothing was imported`);
    if (seen.has(d.date)) throw new VtnError('INVALID_ARGUMENT', `days[${i}].date ${d.date} is given twice; send each day once; nothing was imported`);
    seen.add(d.date);
    if (d.date >= today) throw new VtnError('INVALID_ARGUMENT', `days[${i}].date ${d.date} has not ended (the contract's day now is ${today}); import a day once all its slots are over; nothing was imported`);
    const maxWh = (maxTelemetryWOf(deps.vtn().programs, customer) * 24) / d.valuesWh.length;
    const bad = d.valuesWh.findIndex((v) => !Number.isFinite(v) || v < 0 || v > maxWh);
    if (bad >= 0) {
      throw new VtnError('INVALID_ARGUMENT', `days[${i}].valuesWh[${bad}] = ${String(d.valuesWh[bad])} Wh is not a plausible slot energy (0…${maxWh} Wh: the customer's maxTelemetryW over one slot); nothing was imported`);
    }
  }
}

interface BlockTx {
  readonly args?: readonly string[];
  readonly [k: string]: unknown;
}

/** Every string an argument holds: itself and, for JSON, every string inside. */
function argStrings(args: readonly string[]): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const a of args) {
    out.add(a);
    try {
      walk(JSON.parse(a));
    } catch {
      // not JSON: the string itself is enough
    }
  }
  return out;
}

/**
 * Blocks as a request's scope may see them: operators and read-only tokens see everything; a
 * retailer sees every transaction's id, function, time and validation code, and the arguments only
 * of transactions that name one of its own customers' meters and no other customer's.
 */
function blocksInScope(deps: AdminDeps, req: AdminRequest, blocks: unknown): unknown {
  const scope = scopeOf(req);
  if (scope === undefined || !Array.isArray(blocks)) return blocks;
  const own = new Set<string>();
  const others = new Set<string>();
  for (const c of deps.store.listCustomers()) (c.retailer === scope ? own : others).add(c.meterId ?? c.customerId);
  return blocks.map((b: { transactions?: readonly BlockTx[] }) => ({
    ...b,
    transactions: (b.transactions ?? []).map((tx) => {
      const names = argStrings(tx.args ?? []);
      const mine = [...names].some((n) => own.has(n)) && ![...names].some((n) => others.has(n));
      if (mine) return tx;
      const { args: _hidden, ...rest } = tx;
      return { ...rest, args: [], argsHidden: true };
    }),
  }));
}

const tokenView = (t: AdminTokenRecord) => ({
  tokenId: t.tokenId, role: t.role, name: t.name, ...(t.retailerId === undefined ? {} : { retailerId: t.retailerId }), createdAt: new Date(t.createdAt).toISOString(),
  ...(t.expiresAt === undefined ? {} : { expiresAt: new Date(t.expiresAt).toISOString() }),
});

type EventBody = Record<string, unknown> & { perCustomerReductionW?: Record<string, number | number[]>; perVenReductionW?: Record<string, number | number[]> };

function createEvent(deps: AdminDeps, body: EventBody, req: AdminRequest): unknown {
  const { perCustomerReductionW, ...rest } = body;
  // While the ledger cannot be reached the event is accepted as pending (202) and created when it answers again.
  if (rest.reductionW !== undefined) return deps.vtn().events.create(rest as unknown as LedgerEventInput, { pendingWhenUnreachable: true });
  const perVen: Record<string, number | number[]> = { ...(rest.perVenReductionW ?? {}) };
  for (const [customerId, w] of Object.entries(perCustomerReductionW ?? {})) {
    customerOr404(deps, customerId, req);
    const reg = deps.store.findRegistrationByCustomer(customerId);
    if (reg === undefined) throw new VtnError('INVALID_ARGUMENT', `customer '${customerId}' has no registered VEN; it cannot receive an event`);
    perVen[reg.venId] = w;
  }
  // Per-VEN values are given per slot: durationMinutes is a whole number of slots from the start.
  let slots = rest.slots as number | undefined;
  if (slots === undefined && typeof rest.durationMinutes === 'number') {
    const programs = deps.vtn().programs;
    const program = (typeof rest.programId === 'string' ? programs.get(rest.programId) : undefined) ?? programs.defaultProgram();
    const slotMin = (program?.slotMs ?? 900_000) / 60_000;
    if (rest.durationMinutes % slotMin !== 0) throw new VtnError('INVALID_ARGUMENT', `durationMinutes must be a whole number of ${slotMin}-minute slots`);
    slots = rest.durationMinutes / slotMin;
  }
  if (slots === undefined) throw new VtnError('INVALID_ARGUMENT', 'give slots or durationMinutes');
  const { durationMinutes: _d, ...input } = rest;
  return deps.vtn().events.create({ ...input, slots, perVenReductionW: perVen } as unknown as CreateEventInput);
}

/** An event as a request's scope may see it: a retailer sees its customers' VENs only. */
function eventInScope(deps: AdminDeps, req: AdminRequest, view: EventView): EventView | undefined {
  const scope = scopeOf(req);
  if (scope === undefined) return view;
  const own = (venId: string): boolean => inScope(deps, scope, deps.store.getRegistration(venId)?.customerId);
  const vens = view.vens.filter((v) => own(v.venId));
  return vens.length === 0 ? undefined : { ...view, event: { ...view.event, venIds: view.event.venIds.filter(own) }, vens };
}

/** The fields of a modification of an event from the ledger (`reductionW`); the others are for events with per-VEN values. */
const LEDGER_MODIFY_FIELDS: ReadonlySet<string> = new Set(['reductionW', 'start', 'slots', 'durationMinutes', 'targets', 'priority', 'vtnComment', 'modificationReason']);

/** An event accepted while the ledger was away and not created yet, or one that ended so, cannot be changed (409). */
function refuseWhilePending(deps: AdminDeps, eventId: string): void {
  const waiting = deps.vtn().events.get(eventId) === undefined ? deps.vtn().events.pendingCreation(eventId) : undefined;
  if (waiting === undefined) return;
  const next = waiting.ledger === 'pending' ? 'change it once the ledger has allocated its shares (it expires unsent if its start comes first), or cancel it and create another event' : 'create another event';
  throw new VtnError('NOT_ALLOWED', `event '${eventId}' is not created (ledger: ${waiting.ledger}); ${next}`);
}

function modifyEvent(deps: AdminDeps, eventId: string, body: Record<string, unknown>): unknown {
  refuseWhilePending(deps, eventId);
  if (body.reductionW !== undefined) {
    const others = Object.keys(body).filter((k) => !LEDGER_MODIFY_FIELDS.has(k));
    if (others.length > 0) throw new VtnError('INVALID_ARGUMENT', `reductionW (an event from the ledger) cannot be combined with ${others.join(', ')}`);
    return deps.vtn().events.modify(eventId, body as unknown as LedgerEventChange);
  }
  const wrong = ['targets', 'durationMinutes'].filter((k) => body[k] !== undefined);
  if (wrong.length > 0) throw new VtnError('INVALID_ARGUMENT', `${wrong.join(', ')} change an event from the ledger and go with reductionW; an event with per-VEN values takes addVenIds, removeVenIds and slots`);
  return deps.vtn().events.modify(eventId, body as ModifyEventInput);
}

// ---- the routes ----------------------------------------------------------------------------

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', url: '/programs', tag: 'programs', summary: 'List the programs (market context, slot, signals, report settings)', permission: 'read', handler: (d) => d.vtn().programs.list() },
  {
    method: 'POST', url: '/programs', tag: 'programs', summary: 'Create a program (kept in the VTN store; applies to events created afterwards)', permission: 'operate', body: SCHEMAS.programCreate, status: 201,
    handler: (d, r) => d.vtn().programs.create(r.body as ProgramConfigInput),
  },
  {
    method: 'GET', url: '/programs/:programId', tag: 'programs', summary: 'One program', permission: 'read', params: params('programId'),
    handler: (d, r) => {
      const p = d.vtn().programs.get(r.params.programId as string);
      if (p === undefined) throw new VtnError('NOT_FOUND', `no program '${r.params.programId ?? ''}'; list the programs to find its id`);
      return p;
    },
  },
  {
    method: 'PUT', url: '/programs/:programId', tag: 'programs', summary: "Change a program (fields given replace the stored ones; events created afterwards use them)", permission: 'operate', params: params('programId'), body: SCHEMAS.programUpdate,
    handler: (d, r) => d.vtn().programs.update(r.params.programId as string, r.body as Partial<ProgramConfig>),
  },
  {
    method: 'DELETE', url: '/programs/:programId', tag: 'programs', summary: 'Remove a program created through the API (409 while a pending event uses it or customers take part in it; a program of the configuration is removed there)', permission: 'operate', params: params('programId'), status: 204,
    handler: (d, r) => d.vtn().programs.remove(r.params.programId as string),
  },
  {
    method: 'GET', url: '/ledger/params', tag: 'ledger', summary: "The contract's program parameters (Y, X, β, σ, α, ε, token rate, time zone, slots per day)", permission: 'read',
    handler: (d) => needLedger(d, 'contractParams')(),
  },
  {
    method: 'PUT', url: '/ledger/params', tag: 'ledger', summary: "Change the contract's program parameters (setProgramParams on the ledger: the contract validates them, the governance orgs' peers endorse; 409 when the change would take the operator's authority)", permission: 'operate', body: SCHEMAS.contractParams,
    handler: (d, r) => needLedger(d, 'setContractParams')(r.body as Record<string, unknown>),
  },

  { method: 'GET', url: '/customers', tag: 'customers', summary: 'List the enrolled customers', permission: 'read', handler: (d, r) => d.store.listCustomers().filter((c) => inScope(d, scopeOf(r), c.customerId)) },
  {
    method: 'POST', url: '/customers', tag: 'customers', summary: 'Enrol a customer (meter, VEN name or certificate fingerprint, retailer)', permission: 'customers', body: SCHEMAS.customerCreate, status: 201,
    handler: (d, r) => {
      const b = r.body as CustomerBody & { customerId: string };
      // Each retailer names its customers in its own space: `<retailer>:<id>`, so ids never collide
      // across retailers and a creation says nothing about another retailer's customers.
      const customerId = retailerCustomerId(scopeOf(r), b.customerId);
      if (d.store.getCustomer(customerId) !== undefined) {
        if (!inScope(d, scopeOf(r), customerId)) throw notFoundCustomer(customerId);
        throw new VtnError('NOT_ALLOWED', `customer '${customerId}' is already enrolled; change it with PUT /api/v1/customers/${customerId}`);
      }
      const { customerId: _given, ...rest } = b;
      return saveCustomer(d, customerId, rest, r);
    },
  },
  {
    method: 'GET', url: '/customers/:customerId', tag: 'customers', summary: 'One customer, with where its usage telemetry stands (a VEN without a site meter offers none: the customer is settled from imported meter data only)', permission: 'read', params: params('customerId'),
    handler: (d, r) => ({ ...customerOr404(d, r.params.customerId as string, r), usageTelemetry: d.vtn().reports.usageOf(r.params.customerId as string) }),
  },
  {
    method: 'PUT', url: '/customers/:customerId', tag: 'customers', summary: 'Change a customer (fields given replace the stored ones)', permission: 'customers', params: params('customerId'), body: SCHEMAS.customerUpdate,
    handler: (d, r) => {
      customerOr404(d, r.params.customerId as string, r);
      return saveCustomer(d, r.params.customerId as string, r.body as CustomerBody, r);
    },
  },
  {
    method: 'POST', url: '/customers/:customerId/energy', tag: 'customers', summary: 'Import meter history: days of 96 quarter-hour values (Wh), recorded on the ledger', permission: 'customers',
    params: params('customerId'), body: SCHEMAS.energyImport, bodyLimit: 16 * 1_048_576,
    handler: async (d, r) => {
      const customer = customerOr404(d, r.params.customerId as string, r);
      const importEnergy = needLedger(d, 'importEnergy');
      const days = (r.body as { days: Array<{ date: string; valuesWh: number[] }> }).days;
      await checkEnergyImport(d, customer, days);
      await importEnergy(r.params.customerId as string, days);
      return { customerId: r.params.customerId, days: days.length };
    },
  },
  {
    method: 'GET', url: '/customers/:customerId/tokens', tag: 'ledger', summary: "The customer's DR token balance (ledger)", permission: 'read', params: params('customerId'),
    handler: async (d, r) => {
      customerOr404(d, r.params.customerId as string, r);
      return { customerId: r.params.customerId, balance: await needLedger(d, 'tokenBalance')(r.params.customerId as string) };
    },
  },
  {
    method: 'GET', url: '/customers/:customerId/baseline', tag: 'ledger', summary: "The customer's baseline for a day (ledger); without one, why: the day's kind and the complete days of history needed, found and missing", permission: 'read', params: params('customerId'), querystring: SCHEMAS.baseline,
    handler: async (d, r) => {
      customerOr404(d, r.params.customerId as string, r);
      return { customerId: r.params.customerId, baseline: await needLedger(d, 'baseline')(r.params.customerId as string, r.query.date as string | undefined) };
    },
  },
  {
    method: 'GET', url: '/customers/:customerId/energy', tag: 'ledger', summary: "One day of the customer on the ledger: each 15-minute slot's average power (W) and whether it was measured (the VEN's telemetry), imported (meter history) or is missing", permission: 'read', params: params('customerId'), querystring: SCHEMAS.energyDay,
    handler: async (d, r) => {
      customerOr404(d, r.params.customerId as string, r);
      return { ...(await needLedger(d, 'energy')(r.params.customerId as string, r.query.date as string)), usageTelemetry: d.vtn().reports.usageOf(r.params.customerId as string) };
    },
  },

  { method: 'GET', url: '/vens', tag: 'vens', summary: 'List the registered VENs (state, transport, queue depth, last contact)', permission: 'read', handler: (d, r) => d.vtn().vens.list().filter((v) => inScope(d, scopeOf(r), v.customerId)) },
  {
    method: 'POST', url: '/vens', tag: 'vens', summary: "Enrol a 2.0a VEN by venID and certificate fingerprint (2.0a has no registration service, R506): it polls at …/OpenADR2/Simple/EiEvent and receives SIMPLE levels; 404 for an unknown customer, 409 when the venID, the customer or the certificate already has another VEN", permission: 'customers', body: SCHEMAS.ven20aEnrol, status: 201,
    handler: (d, r) => {
      const b = r.body as { venId: string; customerId: string; fingerprint: string; profile: '2.0a' };
      if (!inScope(d, scopeOf(r), b.customerId)) throw notFoundCustomer(b.customerId);
      return d.vtn().vens.enrol20a({ venId: b.venId, customerId: b.customerId, fingerprint: b.fingerprint });
    },
  },
  { method: 'GET', url: '/vens/:venId', tag: 'vens', summary: 'One VEN', permission: 'read', params: params('venId'), handler: (d, r) => venOr404(d, r.params.venId as string, r) },
  {
    method: 'POST', url: '/vens/:venId/cancel-registration', tag: 'vens', summary: 'Cancel the registration (oadrCancelPartyRegistration, R407)', permission: 'operate', params: params('venId'), status: 202,
    handler: (d, r) => {
      d.vtn().vens.cancelRegistration(r.params.venId as string);
      return venOr404(d, r.params.venId as string, r);
    },
  },
  {
    method: 'POST', url: '/vens/:venId/request-reregistration', tag: 'vens', summary: 'Ask the VEN to register again (oadrRequestReregistration)', permission: 'operate', params: params('venId'), status: 202,
    handler: (d, r) => {
      d.vtn().vens.requestReregistration(r.params.venId as string);
      return venOr404(d, r.params.venId as string, r);
    },
  },
  {
    method: 'GET', url: '/vens/:venId/reports', tag: 'reports', summary: "The VEN's report metadata and the VTN's report requests", permission: 'read', params: params('venId'),
    handler: (d, r) => {
      venOr404(d, r.params.venId as string, r);
      const api = d.vtn().reports;
      return { metadata: api.metadata(r.params.venId as string) ?? null, requests: api.requests(r.params.venId as string) };
    },
  },
  {
    method: 'POST', url: '/vens/:venId/report-requests', tag: 'reports', summary: 'Request by oadrCreateReport what the metadata offers and nothing open covers', permission: 'operate', params: params('venId'), status: 201,
    handler: (d, r) => d.vtn().reports.requestTelemetry(r.params.venId as string),
  },
  {
    method: 'POST', url: '/vens/:venId/history', tag: 'reports', summary: "Ask the VEN for its logged usage over a past span (HISTORY_USAGE, one report by oadrCreateReport); stored and shown with the telemetry, not sent to the ledger", permission: 'operate', params: params('venId'), body: SCHEMAS.historyRequest, status: 201,
    handler: (d, r) => {
      const body = r.body as { from: string; to: string };
      return d.vtn().reports.requestHistory(r.params.venId as string, { fromMs: parseTime(body.from, 'from') as number, toMs: parseTime(body.to, 'to') as number });
    },
  },
  {
    method: 'POST', url: '/vens/:venId/report-requests/:reportRequestId/cancel', tag: 'reports', summary: 'Cancel a report request (stand-alone or piggy-backed, R328, R345)', permission: 'operate',
    params: params('venId', 'reportRequestId'), body: SCHEMAS.reportCancel,
    handler: (d, r) => d.vtn().reports.cancel(r.params.venId as string, r.params.reportRequestId as string, (r.body ?? {}) as { reportToFollow?: boolean; piggyback?: boolean }),
  },
  {
    method: 'GET', url: '/vens/:venId/telemetry', tag: 'reports', summary: 'Telemetry received from the VEN (per interval, SI scale applied)', permission: 'read', params: params('venId'), querystring: SCHEMAS.timeRange,
    handler: (d, r) => {
      venOr404(d, r.params.venId as string, r);
      return d.vtn().reports.telemetry(r.params.venId as string, parseTime(r.query.from, 'from'), parseTime(r.query.to, 'to'));
    },
  },
  {
    method: 'GET', url: '/vens/:venId/opts', tag: 'opts', summary: "The VEN's opt schedules and event opts (EiOpt)", permission: 'read', params: params('venId'),
    handler: (d, r) => {
      venOr404(d, r.params.venId as string, r);
      return d.vtn().opt.list(r.params.venId as string);
    },
  },
  {
    method: 'GET', url: '/vens/:venId/availability', tag: 'opts', summary: 'Whether the opt schedules leave the VEN available at a time (default now)', permission: 'read', params: params('venId'), querystring: SCHEMAS.at,
    handler: (d, r) => {
      venOr404(d, r.params.venId as string, r);
      const at = parseTime(r.query.at, 'at') ?? d.now();
      const o = {
        ...(typeof r.query.marketContext === 'string' ? { marketContext: r.query.marketContext } : {}),
        ...(typeof r.query.resource === 'string' ? { resource: r.query.resource } : {}),
      };
      const api = d.vtn().opt;
      return { venId: r.params.venId, at: new Date(at).toISOString(), available: api.availableAt(r.params.venId as string, at, o), schedules: api.at(r.params.venId as string, at, o) };
    },
  },

  {
    method: 'GET', url: '/events', tag: 'events', summary: 'List the events; for the operator also those from a total reduction waiting for the ledger (`ledger`: pending, expired, refused or cancelled)', permission: 'read',
    handler: (d, r) => [...d.vtn().events.list().flatMap((e) => eventInScope(d, r, e) ?? []), ...(scopeOf(r) === undefined ? d.vtn().events.pendingCreations() : [])],
  },
  {
    method: 'POST', url: '/events', tag: 'events', summary: 'Create an event: a total reduction shared by the ledger, or per-customer / per-VEN reductions. 202 with `ledger: pending` when the ledger cannot be reached: the event is created and sent to the VENs once the ledger allocates the shares, or expires at its start (`cancelled`: cancelled while this request waited)', permission: 'operate', body: SCHEMAS.eventCreate, status: 201,
    statusOf: (result) => (['pending', 'cancelled'].includes(String((result as { ledger?: unknown }).ledger)) ? 202 : 201),
    handler: (d, r) => createEvent(d, r.body as EventBody, r),
  },
  {
    method: 'GET', url: '/events/:eventId', tag: 'events', summary: 'One event, with per VEN: values, opt state, delivery, telemetry; an event waiting for the ledger: its request and `ledger` (pending, expired, refused, cancelled)', permission: 'read', params: params('eventId'),
    handler: (d, r) => {
      const eventId = r.params.eventId as string;
      const found = d.vtn().events.get(eventId);
      const e = found === undefined ? (scopeOf(r) === undefined ? d.vtn().events.pendingCreation(eventId) : undefined) : eventInScope(d, r, found);
      if (e === undefined) throw new VtnError('NOT_FOUND', `no event '${eventId}'; list the events to find its id`);
      return e;
    },
  },
  { method: 'PATCH', url: '/events/:eventId', tag: 'events', summary: 'Modify an event (new modificationNumber); an event from the ledger needs the ledger (503 with Retry-After while it cannot be reached)', permission: 'operate', params: params('eventId'), body: SCHEMAS.eventModify, handler: (d, r) => modifyEvent(d, r.params.eventId as string, r.body as Record<string, unknown>) },
  {
    method: 'POST', url: '/events/:eventId/cancel', tag: 'events', summary: 'Cancel an event; one waiting for the ledger (`ledger: pending`) reads `cancelled` at once and is never sent to a VEN (the ledger cancels it too if it took it)', permission: 'operate', params: params('eventId'), body: SCHEMAS.eventCancel,
    handler: (d, r) => {
      const eventId = r.params.eventId as string;
      const reason = (r.body as { reason?: string } | undefined)?.reason;
      const events = d.vtn().events;
      return events.get(eventId) === undefined && events.pendingCreation(eventId) !== undefined ? events.cancelPending(eventId, reason) : events.cancel(eventId, reason);
    },
  },
  {
    method: 'POST', url: '/events/:eventId/settle', tag: 'events', summary: 'Settle an event on the ledger (availability, tokens), then submit its flexibility claims', permission: 'operate', params: params('eventId'),
    handler: async (d, r) => {
      const events = d.vtn().events as Partial<Pick<EventsApi, 'settle'>>;
      if (typeof events.settle !== 'function') throw new VtnError('NOT_IMPLEMENTED', 'this VTN has no ledger wiring to settle events');
      return await events.settle(r.params.eventId as string);
    },
  },

  {
    method: 'GET', url: '/ledger/blocks', tag: 'ledger', summary: "Ledger blocks, newest first (a retailer sees other customers' transactions without their arguments)", permission: 'read', querystring: SCHEMAS.blocks,
    handler: async (d, r) => blocksInScope(d, r, await needLedger(d, 'blocks')({ ...(r.query.from === undefined ? {} : { from: Number(r.query.from) }), limit: r.query.limit === undefined ? 20 : Number(r.query.limit) })),
  },

  {
    method: 'POST', url: '/ledger/verify', tag: 'ledger', summary: "Re-check the whole ledger while it runs: every block's data hash, previous hash and commit hash, the signatures of the valid transactions, and the world state replayed from the blocks; the report lists every problem with its block", permission: 'operate',
    handler: async (d) => await needLedger(d, 'verify')(),
  },
  {
    method: 'GET', url: '/events/:eventId/ledger', tag: 'events', summary: "The contract's record of an event: day, window slots, requested, allocated and unallocated W per slot (the request the customers could not take), status, tokens minted (every retailer's customers: not for retailer tokens)", permission: 'read', params: params('eventId'),
    handler: async (d, r) => {
      if (scopeOf(r) !== undefined) throw new VtnError('FORBIDDEN', "an event's totals span every retailer's customers; read your customers' part with GET /api/v1/customers/{customerId}/events/{eventId}");
      return await needLedger(d, 'eventTotals')(r.params.eventId as string);
    },
  },
  {
    method: 'GET', url: '/events/:eventId/claims', tag: 'events', summary: "The event's flexibility claims on the ledger, one per metering period (15-minute slot): the unit's aggregate power, the customers and those without a measurement, the status (pending: not submitted yet; recorded; failed, with its reasons; confirmed by the system operator) (every retailer's customers: not for retailer tokens)", permission: 'read', params: params('eventId'),
    handler: async (d, r) => {
      claimsInScope(r);
      return await needLedger(d, 'claims')(r.params.eventId as string);
    },
  },
  {
    method: 'GET', url: '/events/:eventId/claims/:claimId', tag: 'events', summary: "One flexibility claim of the event, with each customer's component (W; null: no measurement on the ledger for the period)", permission: 'read', params: params('eventId', 'claimId'),
    handler: async (d, r) => {
      claimsInScope(r);
      return await needLedger(d, 'claim')(r.params.eventId as string, r.params.claimId as string);
    },
  },
  {
    method: 'POST', url: '/events/:eventId/claims/:claimId/validate', tag: 'events', summary: "The system operator confirms a recorded claim on the ledger (validateFlexibility, with the VTN's system-operator identity; both organisations endorse); 409 for a failed or already confirmed claim, 404 for one not on the ledger yet", permission: 'operate', params: params('eventId', 'claimId'),
    handler: async (d, r) => {
      claimsInScope(r);
      const v = await needLedger(d, 'validateClaim')(r.params.eventId as string, r.params.claimId as string);
      d.log.info({ eventId: r.params.eventId, claimId: r.params.claimId, txId: v.confirmedTxId, by: r.token.tokenId }, 'flexibility claim confirmed');
      return v;
    },
  },
  {
    method: 'GET', url: '/customers/:customerId/events/:eventId', tag: 'ledger', summary: "A customer's day of an event from the ledger: baseline and measured power per slot of the day, availability per slot, and per window slot the OPR, the target (baseline − OPR) and the tokens earned (null until settled)", permission: 'read', params: params('customerId', 'eventId'),
    handler: async (d, r) => {
      customerOr404(d, r.params.customerId as string, r);
      return await needLedger(d, 'customerEvent')(r.params.customerId as string, r.params.eventId as string);
    },
  },

  { method: 'GET', url: '/tokens', tag: 'tokens', summary: 'List the admin tokens (never the tokens themselves)', permission: 'operate', handler: (d) => d.store.listAdminTokens().map(tokenView) },
  {
    method: 'POST', url: '/tokens', tag: 'tokens', summary: 'Create an admin token for a role; the token is shown only in this answer', permission: 'operate', body: SCHEMAS.tokenCreate, status: 201,
    handler: (d, r) => {
      const b = r.body as { role: AdminRole; name: string; retailerId?: string; expiresAt?: string };
      const { token, record } = createAdminToken(d.store, { role: b.role, name: b.name, retailerId: b.retailerId, expiresAt: parseTime(b.expiresAt, 'expiresAt'), tokenId: d.newId('tok'), now: d.now() });
      d.log.info({ tokenId: record.tokenId, role: record.role, by: r.token.tokenId }, 'admin token created');
      return { ...tokenView(record), token };
    },
  },
  {
    method: 'DELETE', url: '/tokens/:tokenId', tag: 'tokens', summary: 'Revoke an admin token', permission: 'operate', params: params('tokenId'), status: 204,
    handler: (d, r) => {
      if (!d.store.deleteAdminToken(r.params.tokenId as string)) throw new VtnError('NOT_FOUND', `no admin token '${r.params.tokenId ?? ''}'`);
      d.log.info({ tokenId: r.params.tokenId, by: r.token.tokenId }, 'admin token revoked');
      return undefined;
    },
  },
];
