/**
 * `LedgerPort` over the ledger-bridge mapping: the VTN speaks of customers, the contract of meters
 * (customer = meter unless the customer record names its `meterId`). Telemetry arrives as W or Wh
 * (SI scale applied by the report service) and becomes `recordEnergy` of complete slots; opt answers
 * to ledger events become `recordOptState` (the VTN store keeps them too).
 */
import { DEFAULT_NOMINAL_VOLTAGES, MappingError, type ClaimRecord, type Ledger, type MappingStore, type NominalVoltages } from '../../ledger-bridge/index.ts';
import type { LedgerMapping, TelemetryReading } from '../../ledger-bridge/index.ts';
import type { ClaimView, CustomerEventView, EnergyDay, LedgerPort, LedgerRetryCounts, LedgerSettlement, TelemetryPoint } from './port.ts';
import { ledgerError, VtnError } from '../errors.ts';
import { silentLogger, type Logger } from '../operations/logger.ts';

export interface MappingLedgerPortOptions {
  readonly mapping: LedgerMapping;
  /** For `blocks` and `ping`. */
  readonly ledger?: Ledger;
  /** The mapping's store, for `ping` (readiness: it must be able to write). */
  readonly store?: Pick<MappingStore, 'probeWrite'>;
  /** The meter of a customer; default: the customer id itself (customer = meter). */
  readonly meterOf?: (customerId: string) => string;
  /** The customer of a meter; default: the meter id itself. */
  readonly customerOf?: (meterId: string) => string;
  /** Re-checks the ledger (the embedded ledger's `verify`); absent: `verify` is not offered. */
  readonly verify?: () => Promise<unknown>;
  /** Without `verify`: why the ledger cannot be re-checked here and what to do instead (`verify` then answers NOT_IMPLEMENTED with it). */
  readonly noVerify?: string;
  readonly log?: Logger;
  /** The clock for defaults such as today's baseline, ms; default Date.now. */
  readonly now?: () => number;
  /** The connector's retried submissions (the Fabric ledger), for `/metrics`. */
  readonly retries?: LedgerRetryCounts;
  /** The voltages flexibility claims carry (not metered): nominal values, V; default 400 / 230. */
  readonly nominalVoltages?: NominalVoltages;
}

export interface MappingLedgerPort extends LedgerPort {
  readonly mapping: LedgerMapping;
  /** Records the partial slots of days whose end (+ grace) has passed. */
  closeDueDays(): Promise<void>;
}

const identity = (s: string): string => s;

/** What the ledger side reads of the VTN's customers. */
export interface CustomerDirectory {
  getCustomer(customerId: string): { readonly meterId?: string | undefined; readonly retailer?: string | undefined } | undefined;
  findCustomerByMeterId(meterId: string): { readonly customerId: string } | undefined;
  customersOfMeter(meterId: string): ReadonlyArray<{ readonly customerId: string; readonly retailer?: string | undefined }>;
  listCustomers(): ReadonlyArray<{ readonly retailer?: string | undefined }>;
  listAdminTokens(): ReadonlyArray<{ readonly retailerId?: string | undefined }>;
}

/** Every retailer the admin API knows: its customers' and its retailer tokens'. */
export function knownRetailers(directory: CustomerDirectory): string[] {
  const ids = [...directory.listCustomers().map((c) => c.retailer), ...directory.listAdminTokens().map((t) => t.retailerId)];
  return [...new Set(ids.filter((id): id is string => id !== undefined))].sort();
}

export interface CustomerLookups {
  /** The meter of a customer (its `meterId`, else the customer id). */
  meterOf(customerId: string): string;
  /** The customer of a meter (the one naming it as `meterId`, else the meter id). */
  customerOf(meterId: string): string;
  /**
   * The retailer of a meter's customer; undefined when the customer names none (the default
   * retailer). Throws when customers of several retailers hold the meter: nothing is written for it.
   */
  retailerOfMeter(meterId: string): string | undefined;
}

/**
 * The lookups over the VTN's customers, read at every call (`directory` may answer undefined until
 * the VTN exists: then customer = meter and the default retailer).
 */
export function customerLookups(directory: () => CustomerDirectory | undefined): CustomerLookups {
  return {
    meterOf: (customerId) => directory()?.getCustomer(customerId)?.meterId ?? customerId,
    customerOf: (meterId) => directory()?.findCustomerByMeterId(meterId)?.customerId ?? meterId,
    retailerOfMeter(meterId) {
      const holders = directory()?.customersOfMeter(meterId) ?? [];
      const retailers = [...new Set(holders.map((c) => c.retailer))];
      if (retailers.length > 1) {
        throw new Error(`meter ${meterId} is held by customers of several retailers (${holders.map((c) => `${c.customerId}: ${c.retailer ?? 'none'}`).join(', ')}); give each customer its own meter`);
      }
      return retailers[0];
    },
  };
}

/** Customers of a claim without a measurement: a component with power null, or none at all. */
function missingComponents(r: ClaimRecord): number {
  const named = new Set(r.components.map((c) => c.assetId));
  return r.components.filter((c) => c.powerW === null).length + r.assetIds.filter((a) => !named.has(a)).length;
}

/** A claim as the admin API shows it (W, and V from the contract's mV); with `customerOf`, its components too. */
function claimView(eventId: string, period: { readonly claimId: string; readonly startMs: number; readonly endMs: number }, r: ClaimRecord | null, customerOf?: (meterId: string) => string): ClaimView {
  return {
    claimId: period.claimId,
    eventId,
    periodStart: new Date(period.startMs).toISOString(),
    periodEnd: new Date(period.endMs).toISOString(),
    status: r?.status ?? 'pending',
    powerW: r?.powerW ?? null,
    voltageLLV: r === null ? null : r.voltageLLmV / 1000,
    voltageLNV: r === null ? null : r.voltageLNmV / 1000,
    customers: r?.assetIds.length ?? 0,
    missing: r === null ? 0 : missingComponents(r),
    reasons: r?.reasons ?? [],
    submittedTxId: r?.submittedTxId ?? null,
    confirmedTxId: r?.confirmedTxId ?? null,
    ...(customerOf === undefined ? {} : { components: (r?.components ?? []).map((c) => ({ customerId: customerOf(c.assetId), meterId: c.assetId, powerW: c.powerW })) }),
  };
}

export function createMappingLedgerPort(options: Readonly<MappingLedgerPortOptions>): MappingLedgerPort {
  const { mapping } = options;
  const meterOf = options.meterOf ?? identity;
  const customerOf = options.customerOf ?? identity;
  const log = (options.log ?? silentLogger).child({ component: 'vtn.ledger' });
  const readingOf = (p: TelemetryPoint, meterId = meterOf(p.customerId)): TelemetryReading => ({
    meterId,
    seriesId: p.rId,
    startMs: p.startMs,
    durationMs: p.durationMs,
    value: p.value,
    unit: { quantity: p.unit === 'Wh' ? 'energyReal' : 'powerReal', siScaleCode: 'none' },
  });
  const byCustomer = <T>(m: ReadonlyMap<string, T>): Map<string, T> => new Map([...m].map(([meter, v]) => [customerOf(meter), v] as const));

  /** A claim of the event (its period and record), or NOT_FOUND. */
  const claimOf = async (eventId: string, claimId: string) => {
    let claims;
    try {
      claims = await mapping.claims(eventId);
    } catch (err) {
      throw ledgerError(err, `reading the claims of event ${eventId}`);
    }
    const c = claims.find((x) => x.claimId === claimId);
    if (c === undefined) throw new VtnError('NOT_FOUND', `event ${eventId} has no claim '${claimId}'; list its claims (GET /api/v1/events/${eventId}/claims)`);
    return c;
  };

  const logFlush = (what: string, failed: ReadonlyArray<{ meterId: string; day: string; error: Error }>): void => {
    for (const f of failed) log.error({ err: f.error, meterId: f.meterId, day: f.day }, `${what}: recordEnergy failed; the slots stay in the accumulator and are retried with the next telemetry`);
  };

  return {
    mapping,
    ...(options.retries === undefined ? {} : { retries: options.retries }),

    async notifyEvent(notice) {
      const a = await mapping.notifyEvent({
        eventId: notice.eventId,
        startMs: notice.startMs,
        slots: notice.slots,
        slotMs: notice.slotMs,
        ...(notice.durationMs === undefined ? {} : { durationMs: notice.durationMs }),
        reductionW: notice.reductionW,
        meterIds: notice.customerIds.map(meterOf),
      });
      for (const [meterId, reason] of a.excluded) log.warn({ eventId: notice.eventId, meterId }, `customer left out of the event by the contract: ${reason}`);
      if (a.clusterSize > a.oprByMeter.size) {
        log.warn({ eventId: notice.eventId, clusterSize: a.clusterSize, targeted: a.oprByMeter.size }, 'the ledger shares this event with more customers than the VTN targeted (an event notified on the ledger with every customer of the day as its cluster)');
      }
      return byCustomer(a.oprByMeter);
    },

    async modifyEvent(eventId, reductionW, change = {}) {
      const { customerIds, ...schedule } = change;
      return byCustomer((await mapping.modifyEvent(eventId, reductionW, customerIds === undefined ? schedule : { ...schedule, meterIds: customerIds.map(meterOf) })).oprByMeter);
    },

    cancelEvent: (eventId, deliveredUntilMs) => mapping.cancelEvent(eventId, deliveredUntilMs),

    async settleEvent(eventId): Promise<LedgerSettlement> {
      const s = await mapping.settleEvent(eventId);
      return { eventId, status: s.status, rewardsMilli: byCustomer(s.rewardsMilli), unsettled: byCustomer(s.unsettled) };
    },

    allocations: {
      oprOf(eventId: string) {
        const e = mapping.event(eventId);
        return e === undefined ? undefined : byCustomer(new Map(Object.entries(e.oprByMeter)));
      },
      settled: (eventId: string) => mapping.event(eventId)?.status === 'settled',
      notified: (eventId: string) => mapping.event(eventId)?.status === 'notified',
      requestOf: (eventId: string) => mapping.event(eventId)?.requestW,
      baselineOf(eventId: string) {
        const e = mapping.event(eventId);
        return e?.baselineByMeter === undefined ? undefined : byCustomer(new Map(Object.entries(e.baselineByMeter)));
      },
    },

    async recordOpt(opt) {
      let r;
      try {
        r = await mapping.recordOpt({ eventId: opt.eventId, meterId: meterOf(opt.customerId), optType: opt.optType, modificationNumber: opt.modificationNumber, atMs: opt.at });
      } catch (err) {
        // The contract refuses it for good (the event settled, a version it never had): sending it again changes nothing.
        if (err instanceof MappingError && err.code === 'NOT_ALLOWED') {
          log.warn({ err, eventId: opt.eventId, customerId: opt.customerId, optType: opt.optType }, 'the ledger refuses this opt answer; it is kept in the VTN store only');
          return;
        }
        throw err;
      }
      if (r === undefined) log.debug({ eventId: opt.eventId, customerId: opt.customerId }, 'opt answer not for a ledger allocation; kept in the VTN store only');
      else if (!r.unchanged) log.debug({ eventId: opt.eventId, customerId: opt.customerId, optType: opt.optType, txId: r.txId }, 'opt answer on the ledger');
    },

    async recordTelemetry(points: readonly TelemetryPoint[]) {
      const r = await mapping.recordTelemetry(points.map((p) => readingOf(p)));
      for (const x of r.rejected) log.warn({ meterId: x.reading.meterId, rId: x.reading.seriesId, startMs: x.reading.startMs }, `telemetry refused: ${x.reason}`);
      if (r.corrections > 0) log.info({ corrections: r.corrections }, 'telemetry intervals corrected by the VEN (R346); their slots are recorded again');
      if (r.conflicts > 0) log.warn({ conflicts: r.conflicts }, 'telemetry intervals sent again with another duration; the first ones stay');
      const failed = r.recorded.failed[0];
      if (failed !== undefined) {
        throw ledgerError(failed.error, `recordEnergy of ${failed.meterId} for ${failed.day} failed (${r.recorded.failed.length} meter-days); the readings are held and the slots recorded at the next try`);
      }
    },

    async missingTelemetry(points: readonly TelemetryPoint[]) {
      // One meter look-up per customer (a reconciliation passes thousands of one VEN's readings).
      const meters = new Map<string, string>();
      const meterOfOnce = (c: string): string => meters.get(c) ?? (meters.set(c, meterOf(c)), meters.get(c) as string);
      const held = mapping.holds(points.map((p) => readingOf(p, meterOfOnce(p.customerId))));
      return points.filter((_, i) => held[i] !== true);
    },

    async importEnergy(customerId: string, days: readonly EnergyDay[]) {
      // Wh per slot → average W over the slot: W = Wh · slotsPerDay / 24.
      try {
        await mapping.importEnergy(
          meterOf(customerId),
          days.map((d) => ({ day: d.date, values: d.valuesWh.map((wh) => Math.round((wh * d.valuesWh.length) / 24)) })),
        );
      } catch (err) {
        throw ledgerError(err, `importing the energy of ${customerId}`);
      }
    },

    contractDay: async (ms) => (await mapping.slotOf(ms)).day,

    async energy(customerId, date) {
      const meterId = meterOf(customerId);
      let day;
      try {
        day = await mapping.energyDay(meterId, date);
      } catch (err) {
        throw ledgerError(err, `reading the energy of ${customerId} for ${date}`);
      }
      const slots = day.values.map((watts, slot) => ({ slot, start: new Date(day.startsMs[slot] ?? 0).toISOString(), watts, source: day.sources[slot] ?? 'missing' }));
      const count = (source: string): number => slots.filter((s) => s.source === source).length;
      return { customerId, meterId, date, slots, measured: count('measured'), imported: count('imported'), missing: count('missing') };
    },

    async submitClaims(eventId) {
      try {
        return await mapping.submitClaims(eventId, options.nominalVoltages ?? DEFAULT_NOMINAL_VOLTAGES);
      } catch (err) {
        throw ledgerError(err, `the claims of event ${eventId}`);
      }
    },

    async claims(eventId) {
      try {
        return (await mapping.claims(eventId)).map((c) => claimView(eventId, c, c.record));
      } catch (err) {
        throw ledgerError(err, `reading the claims of event ${eventId}`);
      }
    },

    async claim(eventId, claimId) {
      const c = await claimOf(eventId, claimId);
      return claimView(eventId, c, c.record, customerOf);
    },

    async validateClaim(eventId, claimId) {
      const c = await claimOf(eventId, claimId);
      try {
        return claimView(eventId, c, await mapping.validateClaim(claimId), customerOf);
      } catch (err) {
        throw ledgerError(err, `validating claim ${claimId} of event ${eventId}`);
      }
    },

    async tokenBalance(customerId) {
      const meterId = meterOf(customerId);
      try {
        return { customerId, meterId, balanceMilli: await mapping.balanceMilli(meterId) };
      } catch (err) {
        throw ledgerError(err, `reading the token balance of ${customerId}`);
      }
    },

    async baseline(customerId, date) {
      const meterId = meterOf(customerId);
      const day = date ?? (await mapping.slotOf((options.now ?? Date.now)())).day;
      try {
        return await mapping.baseline(meterId, day);
      } catch (err) {
        throw ledgerError(err, `reading the baseline of ${customerId} for ${day}`);
      }
    },

    contractParams: () => mapping.programParams(),

    async setContractParams(params) {
      try {
        return await mapping.setProgramParams(params);
      } catch (err) {
        throw ledgerError(err, 'the ledger did not take the parameters');
      }
    },

    ...(options.verify === undefined
      ? options.noVerify === undefined
        ? {}
        : {
            verify(): Promise<unknown> {
              return Promise.reject(new VtnError('NOT_IMPLEMENTED', options.noVerify as string));
            },
          }
      : {
          async verify() {
            try {
              return await (options.verify as () => Promise<unknown>)();
            } catch (err) {
              throw ledgerError(err, 'the ledger could not be verified');
            }
          },
        }),

    async eventTotals(eventId) {
      try {
        return await mapping.eventRecord(eventId);
      } catch (err) {
        throw ledgerError(err, `reading event ${eventId} on the ledger`);
      }
    },

    async customerEvent(customerId, eventId): Promise<CustomerEventView> {
      const meterId = meterOf(customerId);
      try {
        const e = await mapping.customerEvent(meterId, eventId);
        const [baseline, day] = await Promise.all([mapping.baseline(meterId, e.day), mapping.energyDay(meterId, e.day)]);
        const baselineW = baseline.found === true && Array.isArray(baseline.values) ? (baseline.values as number[]) : null;
        // The target is what the contract asked: the window baseline frozen with the allocation, minus the OPR.
        const windowBaseline = e.window.map((slot, k) => e.baselineW?.[k] ?? baselineW?.[slot] ?? 0);
        const rewardAt = new Map(e.reward === null ? [] : e.reward.slots.map((slot, k) => [slot, e.reward?.perSlotMilli[k] ?? 0] as const));
        return {
          customerId, meterId, eventId, date: e.day, status: e.status,
          slotStarts: day.startsMs.map((ms) => new Date(ms).toISOString()),
          baselineW,
          ...(baselineW === null ? { baselineMissing: baseline } : {}),
          measuredW: day.values,
          sources: day.sources,
          availability: e.availabilityPpm.map((ppm) => ppm / 1_000_000),
          window: e.window,
          oprW: e.oprW,
          targetW: e.window.map((_, k) => (windowBaseline[k] ?? 0) - (e.oprW[k] ?? 0)),
          tokensMilli: e.reward === null ? null : e.window.map((slot) => rewardAt.get(slot) ?? 0),
          totalTokensMilli: e.reward?.totalMilli ?? null,
          balanceMilli: e.balanceMilli,
        };
      } catch (err) {
        throw ledgerError(err, `reading the part of ${customerId} in event ${eventId}`);
      }
    },

    async blocks({ from, limit }) {
      const ledger = options.ledger;
      if (ledger === undefined) return [];
      const height = await ledger.height();
      const top = Math.min(from ?? height - 1, height - 1);
      const out = [];
      for (let n = top; n >= 0 && out.length < limit; n--) out.push(await ledger.block(n));
      return out;
    },

    async ping() {
      try {
        options.store?.probeWrite();
      } catch (err) {
        throw new Error(`the mapping store cannot write: ${(err as Error).message}`, { cause: err });
      }
      if (options.ledger === undefined) return;
      await options.ledger.height();
      // The embedded ledger: its store cannot write now, or its last block commit failed (disk
      // full…): not ready until one commits.
      const embedded = options.ledger as { readonly storeError?: Error; probeWrite?(): void };
      try {
        embedded.probeWrite?.();
      } catch (err) {
        throw new Error(`the ledger's store cannot write: ${(err as Error).message}`, { cause: err });
      }
      const storeError = embedded.storeError;
      if (storeError !== undefined) throw new Error(`the ledger's store cannot write: ${storeError.message}`, { cause: storeError });
    },

    async closeDueDays() {
      logFlush('day close', (await mapping.closeDueDays()).failed);
    },
  };
}
