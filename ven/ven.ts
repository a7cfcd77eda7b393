/**
 * `createVen(options)`: one VEN. Ties the session (registration, poll/push), the event store and
 * opt policy, the device, the report producer and the on-disk outbox together. Every decision is
 * made by the pure state machines; this file only moves values between them and does the I/O.
 */
import { formatDuration, reportIntervalSpans, ResponseCode, type CreatedReport, type Payload, type Report, type ReportInterval } from '../oadr/index.ts';
import { Metering, type Device, type DeviceLimits, type DeviceReading } from './devices/device.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { activeSetting, changeOpt, EMPTY_EVENT_STORE, planAction, pruneEvents, receiveEvents, type ActiveSetting, type EventStoreState, type VenIdentity } from './event-store.ts';
import { isPermanentRefusal, VenError, VenErrorCode, vtnFailureLog, vtnFailureOf, type VtnFailure, type VtnFailureKindValue } from './errors.ts';
import { createHttpTransport, createPushServer, type PushServer, type TlsClientOptions, type VtnTransport } from './http-transport.ts';
import { commandTargetW, createOptPolicy, type OptPolicy, type OptPolicyOptions } from './opt-policy.ts';
import {
  acknowledgeOpt,
  cancelOptPayload,
  createOptPayload,
  deviceStatusKey,
  EMPTY_OPT_STATE,
  eventOptTypes,
  newOptRecord,
  optAnswerError,
  optOutsOnStatusChange,
  OptStatus,
  pruneEventOpts,
  putOpt,
  removeOpt,
  type OptRecord,
  type OptScheduleInput,
  type OptState,
} from './opt-schedules.ts';
import { openOutbox, type Outbox, type OutboxEntry } from './outbox.ts';
import type { Registration } from './registration.ts';
import { cancelReports, createReports, dueReports, EMPTY_REPORT_STATE, metadataPayload, recordSample, resolveReportOptions, updateReportPayload, type ReportOptions, type ReportState } from './reports.ts';
import { createVenSession, type HandlerResult, type VenLogger, type VenSession } from './session.ts';
import type { SignalMapOptions } from './signal-map.ts';
import { createVenSignature, SIGNATURE_REFUSED_EVENT, type VenSignature } from './xml-signature.ts';
import { createVenXmppTransport } from './xmpp-transport.ts';
import type { XmppClient } from '../xmpp/index.ts';

export interface VenOptions {
  /** VTN base URL (the service path is appended). */
  readonly vtnUrl: string;
  /** oadrVenName. */
  readonly venName: string;
  readonly device: Device;
  /** Where the outbox and state live. */
  readonly dataDir: string;
  /** Replace the HTTP transport (tests, XMPP later). */
  readonly transport?: VtnTransport | undefined;
  /** HTTP push: run a push server on this address and register it (default: HTTP pull). */
  readonly push?: { readonly host?: string; readonly port?: number } | undefined;
  /**
   * XMPP (R507): the VEN's XMPP connection (made by the CLI from `--xmpp-url`, `--ven-jid`), and the
   * VTN's full JID (absent: discovered on the server). Replaces the HTTP transport; `vtnUrl` is unused.
   */
  readonly xmpp?: { readonly client: XmppClient; readonly vtnJid?: string | undefined } | undefined;
  /** resourceID of the device (default `${venName}-device`), and further target criteria (R22, R111). */
  readonly resourceId?: string | undefined;
  readonly groupIds?: readonly string[] | undefined;
  readonly partyIds?: readonly string[] | undefined;
  readonly endDeviceAssets?: readonly string[] | undefined;
  readonly marketContexts?: readonly string[] | undefined;
  readonly signals?: Readonly<SignalMapOptions> | undefined;
  readonly opt?: Readonly<OptPolicyOptions> | OptPolicy | undefined;
  readonly reports?: Partial<ReportOptions> | undefined;
  /** How often the VEN checks its schedule, device and reports, ms (default 1,000). */
  readonly tickMs?: number | undefined;
  readonly pollIntervalMs?: number | undefined;
  readonly pollJitterMs?: number | undefined;
  readonly backoff?: Readonly<BackoffOptions> | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly tls?: TlsClientOptions | undefined;
  /**
   * High security (R514): sign every payload sent with the VEN's certificate and key (`tls.cert`,
   * `tls.key`), verify every payload received (poll answers, pushes) against the VTN's TLS
   * certificate; an unsigned or invalid payload is ignored and logged. Not applied to an injected `transport`.
   */
  readonly xmlSignature?: boolean | { readonly windowMs?: number; readonly nonceCacheEntries?: number } | undefined;
  /** Intervals per oadrUpdateReport when catching up (default 96 = one day of 15-min slots). */
  readonly maxIntervalsPerUpdate?: number | undefined;
  readonly clock?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
  readonly log?: VenLogger | undefined;
  /** Called once when the VEN gives up on its VTN: an HTTP 404 (no OpenADR service at the URL). The caller stops the VEN. */
  readonly onGiveUp?: ((error: VenError) => void) | undefined;
}

/** While an event runs, the VEN logs one status line per slot of this length (UTC-aligned): the contract's 15 minutes. */
export const STATUS_SLOT_MS = 15 * 60_000;

/** The VEN's link to its VTN, from the outcome of the last exchange. */
export interface VtnLinkStatus {
  /** `unknown` before the first exchange, `ok` after an answered one, else the kind of the last failure. */
  readonly state: 'unknown' | 'ok' | VtnFailureKindValue;
  /** When the link entered this state, ms (VEN clock). */
  readonly since: number | undefined;
  /** Failed exchanges in a row (0 once one is answered). */
  readonly consecutiveFailures: number;
  /** The last failure (kept after the link recovers), with when it happened. */
  readonly lastFailure: (VtnFailure & { readonly at: number }) | undefined;
}

/** The outbox's delivery back-off: after a failed oadrUpdateReport the next try waits (capped exponential, jitter). */
export interface DeliveryStatus {
  /** Failed deliveries in a row (0 after a delivery the VTN acknowledged). */
  readonly failures: number;
  /** No delivery is tried before this instant, ms (VEN clock); undefined when not backing off. */
  readonly retryAt: number | undefined;
}

export interface VenStatus {
  readonly registration: Registration | undefined;
  readonly session: string;
  readonly events: EventStoreState;
  readonly reports: ReportState;
  readonly setting: ActiveSetting | undefined;
  readonly lastReading: DeviceReading | undefined;
  readonly outboxPending: number;
  readonly delivery: DeliveryStatus;
  readonly vtn: VtnLinkStatus;
  /** The opt schedules and event opts this VEN has sent (EiOpt), by optID. */
  readonly opts: OptState;
}

/** EiOpt from the VEN (R200–R211). */
export interface VenOpt {
  /**
   * Sends oadrCreateOpt: an availability schedule (windows) or an event opt (eventId, R206). Resolves
   * with the stored record, `acknowledged` after the VTN's oadrCreatedOpt 200, or `pending` when the
   * VTN cannot be reached or the VEN is not operational yet (sent again once it is). Rejects with
   * VenError OPT_REFUSED (the VTN's code in `responseCode`) or INVALID_CONFIG (a bad schedule).
   */
  schedule(input: Readonly<OptScheduleInput>): Promise<OptRecord>;
  /** Sends oadrCancelOpt (R204, R211) and forgets the opt; rejects with OPT_REFUSED on an error code (452: the VTN did not know it — forgotten anyway). */
  cancel(optId: string): Promise<void>;
  list(): OptRecord[];
}

export interface Ven {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly session: VenSession;
  /** The push address registered, when in push mode. */
  pushUrl(): string | undefined;
  /** Runs one tick now (device, schedule, samples, reports, outbox). */
  tick(): Promise<void>;
  /** Sends the outbox now; resolves when the VTN has acknowledged what was pending (or the attempt failed). */
  flush(): Promise<void>;
  status(): VenStatus;
  readonly opt: VenOpt;
}

const META = { REGISTRATION: 'registration', EVENTS: 'events', REPORTS: 'reports', NEXT_SAMPLE: 'nextSampleAt', OPTS: 'opts' } as const;

interface QueuedInterval {
  readonly rr: string;
  readonly spec: string;
  readonly name: Report['reportName'];
  readonly start: number;
  readonly durationMs: number;
  readonly payloads: ReportInterval['payloads'];
}

const parse = <T>(text: string | undefined, fallback: T): T => {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export async function createVen(options: Readonly<VenOptions>): Promise<Ven> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.log;
  const device = options.device;
  const resourceId = options.resourceId ?? `${options.venName}-device`;
  // A VEN reports the customer's meter, never a device's own output: without a site meter it offers
  // no TELEMETRY_USAGE, and the VTN settles the customer from imported meter data.
  const reportOptions: ReportOptions = { resourceId, ...options.reports, siteUsage: device.metering === Metering.SITE };
  const { minPeriodMs } = resolveReportOptions(reportOptions);
  const optPolicy: OptPolicy = typeof options.opt === 'function' ? options.opt : createOptPolicy(options.opt ?? {});
  const maxPerUpdate = options.maxIntervalsPerUpdate ?? 96;
  const outbox: Outbox = openOutbox({ dataDir: options.dataDir });

  let events: EventStoreState = parse(outbox.getMeta(META.EVENTS), EMPTY_EVENT_STORE);
  let reports: ReportState = parse(outbox.getMeta(META.REPORTS), EMPTY_REPORT_STATE);
  let nextSampleAt: number = parse(outbox.getMeta(META.NEXT_SAMPLE), 0);
  let opts: OptState = parse(outbox.getMeta(META.OPTS), EMPTY_OPT_STATE);
  let deviceStatus: string | undefined;
  let setting: ActiveSetting | undefined;
  let normalW = 0;
  /** The power target commanded for the active setting (undefined: normal operation), and the slot last logged. */
  let targetW: number | undefined;
  let statusSlot: number | undefined;
  let lastReading: DeviceReading | undefined;
  let limits: DeviceLimits | undefined;
  let pushServer: PushServer | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let ticking: Promise<void> | undefined;
  let flushing: Promise<void> | undefined;
  let link: VtnLinkStatus = { state: 'unknown', since: undefined, consecutiveFailures: 0, lastFailure: undefined };
  let delivery: DeliveryStatus = { failures: 0, retryAt: undefined };
  /** Set by stop(): ticks and flushes scheduled before it (setImmediate, onOperational) do nothing once the outbox is closed. */
  let closed = false;
  let requestSeq = 0;
  const rid = (p: string): string => `${p}-${clock().toString(36)}-${(++requestSeq).toString(36)}`;

  const identity = (reg: Registration): VenIdentity => ({
    venId: reg.venId,
    vtnId: reg.vtnId,
    resourceIds: [resourceId],
    groupIds: options.groupIds ?? [],
    partyIds: options.partyIds ?? [],
    endDeviceAssets: options.endDeviceAssets ?? ['Storage', 'Smart_Inverter', 'Energy_Management_System'],
    ...(options.marketContexts === undefined ? {} : { marketContexts: options.marketContexts }),
  });

  const saveEvents = (): void => outbox.setMeta({ [META.EVENTS]: JSON.stringify(events) });
  const saveOpts = (): void => outbox.setMeta({ [META.OPTS]: JSON.stringify(opts) });

  let signature: VenSignature | undefined;
  if (options.xmlSignature !== undefined && options.xmlSignature !== false) {
    const cert = options.tls?.cert;
    const key = options.tls?.key;
    if (cert === undefined || key === undefined) throw new VenError(VenErrorCode.INVALID_CONFIG, 'xmlSignature needs the VEN certificate and key in tls.cert / tls.key (--cert, --key)');
    const extra = typeof options.xmlSignature === 'object' ? options.xmlSignature : {};
    signature = createVenSignature({ certificatePem: cert.toString(), privateKeyPem: key.toString(), clock, windowMs: extra.windowMs, nonceCacheEntries: extra.nonceCacheEntries });
  }

  /** R206: an event opt the VEN sent governs its opt state for that event, whatever the policy said later. */
  function applyEventOpts(): void {
    for (const [eventId, optType] of eventOptTypes(opts)) {
      const stored = events.events[eventId];
      if (stored !== undefined && stored.optType !== optType) events = changeOpt(events, eventId, optType, `set by oadrCreateOpt (R206)`, '').state;
    }
  }

  /** Sends one stored opt; marks it acknowledged on 200, forgets it on a refusal. */
  async function sendOpt(record: OptRecord): Promise<OptRecord> {
    const reg = session.registration();
    if (reg === undefined || session.status() !== 'OPERATIONAL') return record;
    let answer: Payload;
    try {
      answer = await session.send(createOptPayload(record, reg.venId));
    } catch (err) {
      if (isPermanentRefusal(err)) {
        opts = removeOpt(opts, record.optId);
        saveOpts();
        throw err;
      }
      log?.warn({ err, optId: record.optId }, 'oadrCreateOpt not delivered; kept and sent again when the VTN answers');
      return opts.opts[record.optId] ?? record;
    }
    if (answer.type !== 'CreatedOpt' && answer.type !== 'Response') throw new VenError(VenErrorCode.VTN_BAD_ANSWER, `VTN answered oadrCreateOpt with ${answer.type}`);
    const refused = optAnswerError('oadrCreateOpt', record.optId, answer.response.code, answer.response.description);
    if (refused !== undefined) {
      opts = removeOpt(opts, record.optId);
      saveOpts();
      log?.warn({ optId: record.optId, code: answer.response.code, description: answer.response.description }, 'VTN refused the opt');
      throw refused;
    }
    opts = acknowledgeOpt(opts, record.optId);
    saveOpts();
    log?.info({ optId: record.optId, optType: record.optType, eventId: record.eventId, windows: record.windows.length }, 'opt acknowledged by the VTN');
    return opts.opts[record.optId] ?? record;
  }

  async function resendPendingOpts(): Promise<void> {
    for (const r of Object.values(opts.opts)) {
      if (r.status !== OptStatus.PENDING) continue;
      await sendOpt(r).catch((err: unknown) => log?.warn({ err, optId: r.optId }, 'pending opt refused'));
    }
  }

  async function scheduleOpt(input: Readonly<OptScheduleInput>): Promise<OptRecord> {
    const record = newOptRecord(input, { now: clock(), optId: input.optId ?? rid('opt'), requestId: rid('co'), events });
    opts = putOpt(opts, record);
    if (record.eventId !== undefined) applyEventOpts();
    saveOpts();
    saveEvents();
    if (record.eventId !== undefined) await actuate(clock());
    return sendOpt(record);
  }

  /** CHOICE (docs/ven.md): re-run the policy when the device's status changes; optOut goes as oadrCreateOpt with qualifiedEventID. */
  async function onDeviceStatus(now: number, reading: DeviceReading | undefined): Promise<void> {
    const key = deviceStatusKey(reading);
    const before = deviceStatus;
    deviceStatus = key;
    if (before === undefined || before === key) return;
    const changes = optOutsOnStatusChange(events, { now, policy: optPolicy, reading, limits, signals: options.signals });
    for (const c of changes) {
      log?.info({ eventId: c.eventId, reason: c.reason }, 'device status changed mid-event: opting out (oadrCreateOpt)');
      await scheduleOpt({ optType: 'optOut', optReason: c.optReason, eventId: c.eventId, modificationNumber: c.modificationNumber }).catch((err: unknown) =>
        log?.warn({ err, eventId: c.eventId }, 'the opt-out could not be sent'),
      );
    }
  }

  async function readDevice(): Promise<DeviceReading | undefined> {
    try {
      lastReading = await device.read();
      limits = device.limits();
    } catch (err) {
      log?.warn({ err }, 'device read failed');
      lastReading = lastReading === undefined ? undefined : { ...lastReading, online: false };
      return undefined;
    }
    return lastReading;
  }

  /** Brings the device to what the schedule says now (start / modify / stop). */
  async function actuate(now: number): Promise<void> {
    events = pruneEvents(events, now);
    const next = activeSetting(events, now);
    const action = planAction(setting, next);
    if (action.type === 'none') return;
    try {
      if (action.type === 'stop') {
        await device.restoreNormal();
        log?.info({ eventId: action.eventId }, 'event ended: device back to normal operation');
      } else {
        if (setting === undefined) normalW = lastReading?.targetW === undefined ? (lastReading?.powerW ?? 0) : 0;
        const lim = limits ?? device.limits();
        const target = commandTargetW(action.setting.command, normalW, lim);
        if (target === undefined) await device.restoreNormal();
        else await device.setPowerTarget(target);
        targetW = target;
        log?.info({ eventId: action.setting.eventId, interval: action.setting.intervalIndex, target }, action.type === 'start' ? 'event started' : 'event interval changed');
      }
      setting = next;
    } catch (err) {
      log?.warn({ err, action: action.type }, 'device action failed; will retry on the next tick');
    }
  }

  /** Samples on the minPeriod grid, then queues the report intervals that are due (one transaction). */
  function produceReports(now: number, reading: DeviceReading | undefined): void {
    let changed = false;
    if (nextSampleAt === 0) nextSampleAt = Math.floor(now / minPeriodMs) * minPeriodMs + minPeriodMs;
    if (now >= nextSampleAt) {
      // One sample for the period that just ended; periods the VEN was down for stay empty (R318 flags them).
      const at = Math.floor(now / minPeriodMs) * minPeriodMs;
      reports = recordSample(reports, { at, powerW: reading?.online === false ? undefined : reading?.powerW, online: reading?.online ?? false, manualOverride: reading?.manualOverride ?? false }, reportOptions);
      nextSampleAt = at + minPeriodMs;
      changed = true;
    }
    const due = dueReports(reports, now, reportOptions);
    const entries: OutboxEntry[] = [];
    for (const d of due.reports) {
      const intervals = d.report.intervals ?? [];
      for (const { startMs, durationMs, index } of reportIntervalSpans(d.report)) {
        const q: QueuedInterval = { rr: d.report.reportRequestId, spec: d.report.reportSpecifierId, name: d.report.reportName, start: startMs, durationMs, payloads: intervals[index]?.payloads ?? [] };
        entries.push({ key: d.key.endsWith('@once') ? d.key : `${q.rr}@${startMs}`, body: JSON.stringify(q) });
      }
    }
    if (due.reports.length > 0 || due.state !== reports) changed = true;
    reports = due.state;
    if (changed || entries.length > 0) {
      outbox.enqueue(entries, { [META.REPORTS]: JSON.stringify(reports), [META.NEXT_SAMPLE]: JSON.stringify(nextSampleAt) });
    }
  }

  /** Every exchange's outcome: an answer sets the link `ok`, a failure its kind (unreachable / refused / protocol). */
  function noteExchange(err: unknown): void {
    const now = clock();
    if (err === undefined) {
      if (link.state !== 'ok') link = { state: 'ok', since: now, consecutiveFailures: 0, lastFailure: link.lastFailure };
      return;
    }
    const f = vtnFailureOf(err);
    if (f === undefined) return;
    link = { state: f.kind, since: link.state === f.kind ? link.since : now, consecutiveFailures: link.consecutiveFailures + 1, lastFailure: { ...f, at: now } };
  }

  /** Sends pending intervals as oadrUpdateReport, removing them on the VTN's 200 (oadrUpdatedReport). */
  function flush(): Promise<void> {
    if (flushing !== undefined) return flushing;
    if (closed) return Promise.resolve();
    // Back-off after a failed delivery: nothing is sent before retryAt, however often ticks come (never a hot loop).
    if (delivery.retryAt !== undefined && clock() < delivery.retryAt) return Promise.resolve();
    flushing = (async () => {
      try {
        for (let round = 0; round < 50; round++) {
          const reg = session.registration();
          if (reg === undefined || session.status() !== 'OPERATIONAL') return;
          const batch = outbox.pending(maxPerUpdate);
          if (batch.length === 0) return;
          const queued = batch.map((e) => ({ key: e.key, q: JSON.parse(e.body) as QueuedInterval }));
          // Group consecutive intervals of one request into one oadrReport (uid 0..n-1, R316).
          const groups: { q: QueuedInterval; items: QueuedInterval[] }[] = [];
          for (const { q } of queued) {
            const g = groups.find((x) => x.q.rr === q.rr);
            const last = g?.items[g.items.length - 1];
            if (g !== undefined && last !== undefined && last.start + last.durationMs === q.start && last.durationMs === q.durationMs) g.items.push(q);
            else groups.push({ q, items: [q] });
          }
          const now = clock();
          const reportsOut: Report[] = groups.map((g) => ({
            dtstart: new Date(g.q.start).toISOString(),
            // R314/R315: dtstart and duration on every interval (allowed, and what most VTNs expect;
            // some answer a report-level dtstart alone with HTTP 500).
            intervals: g.items.map((it, i) => ({ dtstart: new Date(it.start).toISOString(), duration: formatDuration(it.durationMs), uid: String(i), payloads: it.payloads })),
            reportRequestId: g.q.rr,
            reportSpecifierId: g.q.spec,
            ...(g.q.name === undefined ? {} : { reportName: g.q.name }),
            createdDateTime: new Date(now).toISOString(),
          }));
          const answer = await session.send(updateReportPayload(reportsOut, reg.venId, rid('ur')), { attempts: 1 });
          if (answer.type !== 'UpdatedReport' || answer.response.code !== ResponseCode.OK) {
            const response = 'response' in answer ? answer.response : undefined;
            const failure = new VenError(
              VenErrorCode.VTN_BAD_ANSWER,
              `VTN answered oadrUpdateReport with ${answer.type}${response === undefined ? '' : ` code ${response.code}${response.description === undefined ? '' : ` (${response.description})`}`}, not oadrUpdatedReport 200`,
              { responseCode: response?.code },
            );
            noteExchange(failure);
            throw failure;
          }
          outbox.ack(queued.map((x) => x.key));
          delivery = { failures: 0, retryAt: undefined };
        }
      } catch (err) {
        if (closed || (err instanceof VenError && err.code === VenErrorCode.STOPPED)) return;
        const failures = delivery.failures + 1;
        const wait = backoffDelay(failures, random, options.backoff);
        delivery = { failures, retryAt: clock() + wait };
        const line = vtnFailureLog(err, 'oadrUpdateReport', `${outbox.pendingCount()} intervals stay in the outbox; next try in ${wait} ms`);
        log?.warn({ ...line.fields, failures, retryInMs: wait, pending: outbox.pendingCount() }, line.message);
      }
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** While an event runs: one line per slot with the power target, the measured power and, where the device has one, the state of charge. */
  function logSlotStatus(now: number, reading: DeviceReading | undefined): void {
    if (setting === undefined) {
      statusSlot = undefined;
      return;
    }
    const slot = Math.floor(now / STATUS_SLOT_MS);
    if (slot === statusSlot) return;
    statusSlot = slot;
    const target = targetW === undefined ? 'normal operation' : `target ${Math.round(targetW)} W`;
    const measured = reading === undefined ? 'no reading' : `measured ${Math.round(reading.powerW)} W${reading.online ? '' : ' (last known, device offline)'}`;
    const soc = reading?.socPct === undefined ? '' : `, state of charge ${reading.socPct.toFixed(1)} %`;
    log?.info(
      { eventId: setting.eventId, interval: setting.intervalIndex, slotStart: new Date(slot * STATUS_SLOT_MS).toISOString(), targetW, powerW: reading?.powerW, socPct: reading?.socPct },
      `event ${setting.eventId} slot ${new Date(slot * STATUS_SLOT_MS).toISOString().slice(11, 16)} UTC: ${target}, ${measured}${soc}`,
    );
  }

  async function tickOnce(): Promise<void> {
    const now = clock();
    const reading = await readDevice();
    await onDeviceStatus(now, reading ?? lastReading);
    await actuate(now);
    logSlotStatus(now, reading ?? lastReading);
    produceReports(now, reading);
    saveEvents();
    if (outbox.pendingCount() > 0) void flush();
  }

  function tick(): Promise<void> {
    if (ticking !== undefined) return ticking;
    if (closed) return Promise.resolve();
    ticking = tickOnce().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  const createdReport = (code: number, description: string, requestId: string, pending: readonly string[], venId: string): CreatedReport => ({
    type: 'CreatedReport',
    schemaVersion: '2.0b',
    response: { code, ...(code === ResponseCode.OK ? {} : { description }), requestId },
    pendingReports: [...pending],
    venId,
  });

  async function onPayload(payload: Payload, _origin: string, reg: Registration): Promise<HandlerResult> {
    const now = clock();
    switch (payload.type) {
      case 'DistributeEvent': {
        if (lastReading === undefined) await readDevice();
        const r = receiveEvents(events, payload, { identity: identity(reg), now, random, optPolicy, signals: options.signals, reading: lastReading, limits });
        events = r.state;
        applyEventOpts();
        opts = pruneEventOpts(opts, events);
        saveOpts();
        saveEvents();
        for (const o of r.outcomes) log?.info({ eventId: o.eventId, kind: o.kind, code: o.code, opt: o.optType, reason: o.reason }, 'event');
        await actuate(now);
        return { followUps: r.createdEvent === undefined ? [] : [r.createdEvent] };
      }
      case 'CreateReport':
      case 'RegisteredReport': {
        const requests = payload.reportRequests ?? [];
        if (payload.type === 'RegisteredReport' && requests.length === 0) return {};
        const c = createReports(reports, requests, now, reportOptions);
        reports = c.state;
        outbox.setMeta({ [META.REPORTS]: JSON.stringify(reports) });
        const requestId = payload.type === 'CreateReport' ? payload.requestId : (payload.response.requestId ?? '');
        const answer = createdReport(c.code, c.description, requestId, c.pendingReports, reg.venId);
        const metadata = c.metadataRequests.map((id) => metadataPayload(reportOptions, reg.venId, now, rid('rr'), id));
        setImmediate(() => void tick());
        // R344: after oadrRegisteredReport, the oadrCreatedReport is a request of its own.
        return payload.type === 'CreateReport' ? { reply: answer, followUps: metadata } : { followUps: [answer, ...metadata] };
      }
      case 'CancelReport': {
        const c = cancelReports(reports, payload.reportRequestIds, payload.reportToFollow);
        reports = c.state;
        outbox.setMeta({ [META.REPORTS]: JSON.stringify(reports) });
        return { reply: { type: 'CanceledReport', schemaVersion: '2.0b', response: { code: c.code, ...(c.code === ResponseCode.OK ? {} : { description: c.description }), requestId: payload.requestId }, pendingReports: [...c.pendingReports], venId: reg.venId } };
      }
      case 'UpdatedReport':
        if (payload.cancelReport !== undefined) {
          // R328: a piggy-backed cancel is processed like a stand-alone one, without an answer.
          reports = cancelReports(reports, payload.cancelReport.reportRequestIds, payload.cancelReport.reportToFollow).state;
          outbox.setMeta({ [META.REPORTS]: JSON.stringify(reports) });
        }
        return {};
      case 'RegisterReport':
        // The VTN's metadata (R301): acknowledged; this VEN requests no VTN reports.
        return { reply: { type: 'RegisteredReport', schemaVersion: '2.0b', response: { code: ResponseCode.OK, requestId: payload.requestId }, venId: reg.venId } };
      case 'UpdateReport':
        return { reply: { type: 'UpdatedReport', schemaVersion: '2.0b', response: { code: ResponseCode.OK, requestId: payload.requestId }, venId: reg.venId } };
      case 'Response':
      case 'CreatedReport':
      case 'CanceledReport':
      case 'CreatedOpt':
      case 'CanceledOpt':
      case 'CanceledPartyRegistration':
        return {};
      default:
        // R23 and friends: a payload the VEN never serves.
        return { reply: { type: 'Response', schemaVersion: '2.0b', response: { code: ResponseCode.COMPLIANCE_ERROR, description: `${payload.type} is not served by a VEN`, requestId: '' }, venId: reg.venId } };
    }
  }

  let session!: VenSession;
  const xmpp = options.xmpp === undefined ? undefined : createVenXmppTransport({ client: options.xmpp.client, vtnJid: options.xmpp.vtnJid, timeoutMs: options.requestTimeoutMs, log, xmlSignature: signature });
  // Over XMPP the VEN's full JID is its oadrTransportAddress (§9.3.4.1): the connection comes first.
  const jid = xmpp === undefined ? undefined : await xmpp.start((p) => session.handlePush(p));
  const transport =
    options.transport ??
    xmpp ??
    createHttpTransport({ vtnUrl: options.vtnUrl, timeoutMs: options.requestTimeoutMs, xmlSignature: signature, ...(options.tls === undefined ? {} : { tls: options.tls }) });
  if (options.push !== undefined) {
    // With a certificate the push server is HTTPS and requires the VTN's client certificate (§9.2.1.1).
    const pushTls = options.tls?.key !== undefined && options.tls.cert !== undefined ? { tls: options.tls } : {};
    pushServer = await createPushServer({
      host: options.push.host ?? '127.0.0.1',
      port: options.push.port ?? 0,
      handle: (p) => session.handlePush(p),
      xmlSignature: signature,
      onRefused: (info) => log?.warn({ securityEvent: SIGNATURE_REFUSED_EVENT, ...info }, `pushed payload ignored, XML signature refused: ${info.message}`),
      ...pushTls,
    });
  }
  session = createVenSession({
    transport,
    venName: options.venName,
    transportAddress: jid ?? pushServer?.url,
    transportName: jid === undefined ? 'simpleHttp' : 'xmpp',
    pollIntervalMs: options.pollIntervalMs,
    pollJitterMs: options.pollJitterMs,
    backoff: options.backoff,
    random,
    log,
    registration: parse<Registration | undefined>(outbox.getMeta(META.REGISTRATION), undefined),
    onOperational: () => {
      void flush();
      void resendPendingOpts();
    },
    onExchange: noteExchange,
    onGiveUp: options.onGiveUp,
    onRegistration: (r) => outbox.setMeta({ [META.REGISTRATION]: r === undefined ? undefined : JSON.stringify(r) }),
    handler: {
      onRegistered(reg, fresh) {
        const now = clock();
        const out: Payload[] = [metadataPayload(reportOptions, reg.venId, now, rid('rr'))];
        if (fresh) out.push({ type: 'RequestEvent', schemaVersion: '2.0b', requestId: rid('re'), venId: reg.venId });
        return out;
      },
      onPayload,
      onUnregistered() {
        // R407: forget everything about the VTN; queued intervals of cancelled requests are dropped too.
        events = EMPTY_EVENT_STORE;
        opts = EMPTY_OPT_STATE;
        saveOpts();
        reports = { samples: reports.samples, requests: {} };
        const pending = outbox.pending(1_000_000).map((e) => e.key);
        outbox.ack(pending);
        outbox.setMeta({ [META.EVENTS]: JSON.stringify(events), [META.REPORTS]: JSON.stringify(reports) });
        void actuate(clock());
      },
    },
  });

  return {
    session,
    pushUrl: () => pushServer?.url,
    async start() {
      if (device.metering !== Metering.SITE) {
        log?.info({ device: device.kind, metering: device.metering }, 'the device measures only itself, not the site meter: TELEMETRY_USAGE is not offered (TELEMETRY_STATUS only)');
      }
      try {
        await device.connect();
        limits = device.limits();
      } catch (err) {
        log?.warn({ err }, 'device not reachable at start; the VEN opts out until it answers');
      }
      session.start();
      await tick();
      timer = setInterval(() => void tick(), options.tickMs ?? 1000);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await ticking;
      await session.stop();
      await flushing;
      await pushServer?.close();
      if (setting !== undefined) {
        try {
          await device.restoreNormal();
        } catch (err) {
          log?.warn({ err }, 'restoring the device on stop failed');
        }
      }
      await device.close().catch(() => undefined);
      closed = true;
      await ticking;
      await flushing;
      outbox.close();
    },
    tick,
    flush,
    status: () => ({ registration: session.registration(), session: session.status(), events, reports, setting, lastReading, outboxPending: outbox.pendingCount(), delivery, vtn: link, opts }),
    opt: {
      schedule: scheduleOpt,
      async cancel(optId) {
        const reg = session.registration();
        if (reg === undefined) throw new VenError(VenErrorCode.NOT_REGISTERED, `cannot cancel opt ${optId}: the VEN is not registered; start it first`);
        const answer = await session.send(cancelOptPayload(optId, reg.venId, rid('cx')));
        if (answer.type !== 'CanceledOpt' && answer.type !== 'Response') throw new VenError(VenErrorCode.VTN_BAD_ANSWER, `VTN answered oadrCancelOpt with ${answer.type}`);
        const code = answer.response.code;
        if (code === ResponseCode.OK || code === ResponseCode.INVALID_ID) {
          opts = removeOpt(opts, optId);
          saveOpts();
        }
        const refused = optAnswerError('oadrCancelOpt', optId, code, answer.response.description);
        if (refused !== undefined) throw refused;
        log?.info({ optId }, 'opt cancelled');
      },
      list: () => Object.values(opts.opts),
    },
  };
}
