/**
 * The UVAM bridge: the VTN's aggregate as a unit a TSO's control system drives over IEC 104
 * (docs/uvam.md). Every period (4 s), by absolute deadlines, the unit's aggregate active power and
 * one value per configured connection point go out as M_ME_NC_1 with cause 1 (and M_ME_TF_1 with
 * cause 3 when configured); a set-point on the modulation IOA becomes a DR event from the ledger
 * through the VTN's public API, act-term once the event is on the ledger and queued to the VENs.
 * This file is the glue: the protocol module (codec/, link.ts, station.ts, server.ts) knows nothing
 * of the VTN.
 */
import type { AddressInfo } from 'node:net';
import { IEC104_UNITS, type EventView, type Iec104Config, type Logger, type TelemetryPointRecord, type Vtn, type VtnBridge } from '../vtn/index.ts';
import { COT, QUALITY, TYPE } from './codec/constants.ts';
import { encodeAsdu, type InformationObject } from './codec/asdu.ts';
import { cp56FromDate } from './codec/cp56.ts';
import { createIec104Server, type Iec104Logger, type Iec104Server } from './server.ts';
import { pointAsdus, type Command, type PointValues, type StationHandler } from './station.ts';

/** Ids of the events a set-point creates start with this, so the bridge finds its running order again after a restart. */
export const ORDER_EVENT_PREFIX = 'iec104-';
const USAGE = 'TELEMETRY_USAGE';

export interface UvamBridgeOptions {
  readonly vtn: Vtn;
  /** Default: the VTN's `iec104` configuration. */
  readonly config?: Iec104Config;
  readonly log?: Iec104Logger;
  /** The VTN's clock: event starts and staleness (default Date.now). */
  readonly now?: () => number;
  /** The clock of the measurement deadlines (default Date.now). */
  readonly timerNow?: () => number;
}

export interface UvamBridge {
  readonly server: Iec104Server;
  /** Starts the server on the configured host and port (or `port` given here) and the measurement period. */
  listen(port?: number): Promise<AddressInfo>;
  /** The unit's values now, as the measurement sends them. */
  read(): UnitReading;
  /** The event of the order that runs, if any. */
  order(): string | undefined;
  /** Resolves when the set-points received so far are carried out. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A value in W and its quality descriptor bits. */
export interface Reading {
  readonly w: number;
  readonly quality: number;
}

export interface UnitReading {
  readonly aggregate: Reading;
  /** One per configured connection point, in order. */
  readonly points: readonly Reading[];
  /** VENs whose latest usage is fresh, and all. */
  readonly fresh: number;
  readonly vens: number;
}

/** A usage point as average power in W: W as is, Wh over its interval; undefined for anything else. */
function powerW(p: TelemetryPointRecord): number | undefined {
  if (p.value === undefined || !Number.isFinite(p.value)) return undefined;
  if (p.unit === 'W') return p.value;
  if (p.unit === 'Wh' && p.durationMs > 0) return (p.value * 3_600_000) / p.durationMs;
  return undefined;
}

/**
 * The latest usage power of a VEN if it is fresh: its interval (or point) ended at most `staleMs`
 * before `now`. Stale or missing telemetry gives undefined.
 */
export function latestUsageW(points: readonly TelemetryPointRecord[], now: number, staleMs: number): number | undefined {
  let best: TelemetryPointRecord | undefined;
  for (const p of points) if (p.reportName === USAGE && powerW(p) !== undefined && (best === undefined || p.startMs > best.startMs)) best = p;
  if (best === undefined || now - (best.startMs + best.durationMs) > staleMs) return undefined;
  return powerW(best);
}

/**
 * The aggregate of the unit: the sum of the fresh VENs' latest usage. Quality: IV (invalid) when no
 * VEN's telemetry is fresh, NT (not topical) when some VENs' is stale and the sum lacks them.
 */
export function aggregateReading(latest: readonly (number | undefined)[]): Reading {
  const fresh = latest.filter((w): w is number => w !== undefined);
  const w = fresh.reduce((a, b) => a + b, 0);
  if (fresh.length === 0) return { w: 0, quality: QUALITY.IV };
  return { w, quality: fresh.length < latest.length ? QUALITY.NT : 0 };
}

export function createUvamBridge(options: Readonly<UvamBridgeOptions>): UvamBridge {
  const { vtn } = options;
  const c = options.config ?? vtn.config.iec104;
  const now = options.now ?? Date.now;
  const timerNow = options.timerNow ?? Date.now;
  const log = options.log;
  const scale = IEC104_UNITS[c.unit];
  let clockOffsetMs = 0;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const running = (v: EventView | undefined): v is EventView => v !== undefined && v.status !== 'completed' && v.status !== 'cancelled';
  // The order that still runs from before a restart: the latest event of ours that has not ended.
  let order: string | undefined = vtn.events
    .list()
    .filter((v) => v.event.eventId.startsWith(ORDER_EVENT_PREFIX) && running(v))
    .sort((a, b) => a.event.startMs - b.event.startMs)
    .at(-1)?.event.eventId;

  const read = (): UnitReading => {
    const t = now();
    const from = t - c.staleMs - 3_600_000;
    const vens = vtn.vens.list();
    const byCustomer = new Map<string, number | undefined>();
    const latest = vens.map((v) => {
      const w = latestUsageW(vtn.reports.telemetry(v.venId, from, t + 1), t, c.staleMs);
      byCustomer.set(v.customerId, w);
      return w;
    });
    const points = c.connectionPoints.map((customerId) => {
      const w = byCustomer.get(customerId);
      return w === undefined ? { w: 0, quality: QUALITY.IV } : { w, quality: 0 };
    });
    return { aggregate: aggregateReading(latest), points, fresh: latest.filter((w) => w !== undefined).length, vens: vens.length };
  };

  const values = (r: UnitReading): PointValues[] => [
    {
      typeId: TYPE.M_ME_NC_1,
      objects: [r.aggregate, ...r.points].map((x, i): InformationObject => ({ ioa: c.aggregateIoa + i, value: Math.fround(x.w / scale), quality: x.quality })),
    },
  ];

  const measure = (): void => {
    const r = read();
    for (const a of pointAsdus(values(r), c.commonAddress, COT.PERIODIC)) server.publish(a);
    if (c.spontaneous) {
      const time = cp56FromDate(now() + clockOffsetMs);
      server.publish(encodeAsdu({ typeId: TYPE.M_ME_TF_1, cause: COT.SPONTANEOUS, commonAddress: c.commonAddress, objects: [{ ioa: c.aggregateIoa, value: r.aggregate.w / scale, quality: r.aggregate.quality, time }] }));
    }
  };

  /** Absolute deadlines start + n × period: a late run does not shift the next ones; a missed period is skipped. */
  const startPeriod = (): void => {
    const start = timerNow();
    let n = 1;
    const arm = (): void => {
      if (closed) return;
      timer = setTimeout(() => {
        try {
          measure();
        } catch (e) {
          log?.warn({ err: (e as Error).message }, 'IEC 104 measurement failed; the next period tries again');
        }
        n = Math.max(n + 1, Math.floor((timerNow() - start) / c.periodMs) + 1);
        arm();
      }, Math.max(0, start + n * c.periodMs - timerNow()));
      timer.unref();
    };
    arm();
  };

  const carryOut = async (cmd: Command): Promise<void> => {
    const w = Math.round((cmd.value as number) * scale);
    const t = now();
    const current = order === undefined ? undefined : vtn.events.get(order);
    if (w === 0) {
      // A set-point of 0 ends the order.
      if (running(current)) {
        vtn.events.cancel(current.event.eventId, 'set-point 0 from the TSO');
        await vtn.events.ledgerIdle();
      }
      order = undefined;
      return;
    }
    if (running(current) && t < current.event.startMs) {
      // Not started yet: the same event gets the new total (a new contract version).
      await vtn.events.modify(current.event.eventId, { reductionW: w, modificationReason: 'new set-point from the TSO' });
      return;
    }
    let start = t + c.leadTimeMs;
    if (running(current)) {
      // Running: the new total replaces it from now on, without a gap.
      vtn.events.cancel(current.event.eventId, 'replaced by a new set-point from the TSO');
      start = t;
    }
    const created = await vtn.events.create({ eventId: `${ORDER_EVENT_PREFIX}${t}`, start, durationMinutes: c.durationMinutes, reductionW: w, targets: 'all' });
    order = created.event.eventId;
    log?.info({ eventId: order, reductionW: w, start: new Date(start).toISOString() }, 'IEC 104 set-point: DR event on the ledger');
  };

  const handler: StationHandler = {
    commandPoint: (typeId, ioa) => (ioa === c.setpointIoa && (typeId === TYPE.C_SE_NC_1 || typeId === TYPE.C_SE_TC_1) ? { selectRequired: c.selectRequired } : undefined),
    check(cmd) {
      const v = cmd.value as number;
      if (!Number.isFinite(v) || v < 0) return `the modulation must be a reduction ≥ 0 ${c.unit}, got ${v}`;
      if (vtn.ledgerOutbox === undefined) return 'the VTN runs without the ledger; a set-point needs the ledger to share it among the customers';
      return undefined;
    },
    execute(cmd) {
      // One order at a time, in the order received.
      const run = chain.then(() => carryOut(cmd));
      chain = run.catch(() => {});
      return run;
    },
    interrogate: () => values(read()),
    clockSync(ms) {
      clockOffsetMs = ms - now();
      log?.info({ offsetMs: clockOffsetMs }, 'IEC 104 clock synchronisation: time tags follow the controlling station');
    },
    refused: (cmd, reason) => log?.warn({ ioa: cmd?.ioa, value: cmd?.value, reason }, 'IEC 104 command refused or failed'),
  };

  const server = createIec104Server({
    commonAddress: c.commonAddress,
    handler,
    allow: c.allow,
    selectTimeoutMs: c.selectTimeoutMs,
    link: { k: c.k, w: c.w, t0Ms: c.t0Ms, t1Ms: c.t1Ms, t2Ms: c.t2Ms, t3Ms: c.t3Ms },
    ...(log === undefined ? {} : { log }),
    now: timerNow,
  });

  return {
    server,
    async listen(port) {
      const address = await server.listen({ port: port ?? c.port ?? 2404, host: c.host });
      startPeriod();
      return address;
    },
    read,
    order: () => order,
    idle: () => chain,
    async close() {
      closed = true;
      clearTimeout(timer);
      await server.close();
      await chain;
    },
  };
}

/** The bridge as `oadr-ledger vtn` starts it: on when the configuration gives `iec104.port`. */
export const startUvamBridge: VtnBridge = async (vtn: Vtn, logger: Logger) => {
  if (vtn.config.iec104.port === undefined) return undefined;
  const bridge = createUvamBridge({ vtn, log: logger.child({ component: 'iec104' }) });
  const a = await bridge.listen();
  return { name: 'IEC 60870-5-104 controlled station', url: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, close: () => bridge.close() };
};
