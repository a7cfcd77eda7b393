/**
 * `npm start`: the gateway (VTN, embedded ledger, admin API, dashboard) with a demo fleet that
 * replays the thesis's experiment (section 5.6) on a demo clock and scales it.
 *
 * Phase 1: two households, 35 days of history each, a weekday event of 300 W from 07:00 to 19:00;
 * household 1 runs the household EMS inside its VEN and moves its shiftable loads out of the window,
 * household 2 does not. Phase 2: the same kind of event (150 W a customer) on a fleet of households
 * (every other one with the EMS) and one battery site. After each day the event is settled and the
 * token table per customer is printed, read from the ledger through the admin API.
 *
 * Transports: the VENs speak HTTP (pull) on loopback; when Debian's Prosody is installed the demo
 * also runs it on loopback and the households whose transport is XMPP (household 2, every third of
 * the fleet) connect through it, so one event reaches pull and XMPP VENs alike.
 *
 * The demo clock is injected everywhere (the VTN, its ledger and scheduler, the VENs, the
 * simulators): it steps one demo minute at a time, every VEN ticks and sends its telemetry, then
 * the next minute; `speed` demo seconds pass per real second at most (a 12-hour event in about
 * 70 s at the default 600). Network I/O runs in real time.
 *
 * Restart: the VTN's store and the ledger say what is done (customers, imported history, events,
 * settlements), so nothing is imported or created twice; the demo's own state file keeps the clock
 * and the runs the EMS moved, so a day cut short continues where it stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runVtnCommand, type Logger, type Vtn } from '../vtn/index.ts';
import { createAdminClient, type AdminClient } from './admin-client.ts';
import { DemoError } from './errors.ts';
import { startBatterySite, startHousehold, type FleetMember, type MemberContext } from './fleet.ts';
import { DEMO_VTN_JID, prosodyInstalled, startDemoXmpp, type DemoXmppServer } from './xmpp-server.ts';
import {
  addDays,
  EVENT_FROM,
  EVENT_REDUCTION_W,
  EVENT_TO,
  FLEET_DAY,
  fleetHouseholds,
  historyDays,
  HISTORY_DAYS,
  localTime,
  THESIS_DAY,
  thesisHouseholds,
  zonedMs,
  type Household,
} from './scenario.ts';

export const DEMO_STATE_FILE = 'demo-state.json';
export const BATTERY_SITE = 'battery-site';
/** The battery site's household load, W (its baseline). */
const BATTERY_SITE_LOAD_W = 800;
/** Reduction asked per customer in phase 2, W: the thesis's 300 W for two households. */
const FLEET_REDUCTION_PER_CUSTOMER_W = EVENT_REDUCTION_W / 2;
const MIN = 60_000;
/**
 * A demo day starts a few minutes after local midnight (the first samples never reach into the day
 * before, whose slots are imported history), and its event is created at 06:00, an hour before it starts.
 */
const DAY_FROM = '00:05';
const NOTIFY_AT = '06:00';
const START_BATCH = 20;
const REREGISTER_AFTER_MS = 15_000;

export interface DemoOptions {
  /** The VTN's data directory (store, ledger, admin token) and the demo's (VENs, state file). */
  readonly dataDir: string;
  /** The gateway's port on 127.0.0.1 (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Households in phase 2 (default 200); 0 skips phase 2 (the thesis's two households only). */
  readonly households?: number;
  /** Demo seconds per real second at most (default 600); Infinity runs as fast as the machine can. */
  readonly speed?: number;
  /** Keep the gateway running after the scenario until `stop` (npm start); default false. */
  readonly keepRunning?: boolean;
  /** Resolves when the demo must stop (Ctrl-C). */
  readonly stop: Promise<void>;
  /** Progress lines and the token table (standard output). */
  readonly out: (text: string) => void;
  /** The VTN's start banner and failures (standard error). */
  readonly err: (text: string) => void;
  readonly logger: Logger;
  /** OADR_ADMIN_TOKEN when set; otherwise the token the VTN keeps in DIR/admin-token. */
  readonly adminToken?: string;
  /**
   * The XMPP server for the households whose transport is XMPP: `auto` (default) runs Prosody when it
   * is installed and says so when it is not (every VEN then speaks HTTP); `on` requires it; `off`: HTTP only.
   */
  readonly xmpp?: 'auto' | 'on' | 'off';
}

export interface TokenRow {
  readonly customerId: string;
  readonly eventId: string;
  /** Energy the event asked of the customer (Σ OPR × ¼ h), Wh. */
  readonly askedWh: number;
  /** The customer's DR token balance on the ledger, milli-tokens (GET /customers/{id}/tokens). */
  readonly balanceMilli: number;
}

export interface DemoResult {
  readonly exitCode: number;
  /** Every customer's row, in the order printed; empty when the scenario did not finish. */
  readonly tokens: readonly TokenRow[];
  /** True when the whole scenario ran to its end. */
  readonly finished: boolean;
}

interface DemoState {
  clockMs: number;
  /** VEN name → event id → appliance → start slot, as the EMS moved them. */
  plans: Record<string, Record<string, Record<string, number>>>;
}

class Stopped extends Error {}

interface Phase {
  readonly name: string;
  readonly eventId: string;
  readonly day: string;
  readonly households: readonly Household[];
  readonly battery: boolean;
  readonly reductionW: number;
  /**
   * Demo minutes per step. Households draw a constant power within a slot, so sampling a slot a few
   * times gives its average as exactly as every minute does; the fleet steps 5 minutes to spare the
   * hundreds of VEN outboxes a write per minute each.
   */
  readonly stepMinutes: number;
}

function phasesOf(households: number): Phase[] {
  const phases: Phase[] = [{ name: 'phase 1: the thesis household pair', eventId: 'demo-thesis-day', day: THESIS_DAY, households: thesisHouseholds(), battery: false, reductionW: EVENT_REDUCTION_W, stepMinutes: 1 }];
  if (households > 0) {
    phases.push({ name: `phase 2: ${households} households and a battery site`, eventId: 'demo-fleet-day', day: FLEET_DAY, households: fleetHouseholds(households), battery: true, reductionW: FLEET_REDUCTION_PER_CUSTOMER_W * (households + 1), stepMinutes: 5 });
  }
  return phases;
}

function loadState(file: string, initialClockMs: number): DemoState {
  if (!existsSync(file)) return { clockMs: initialClockMs, plans: {} };
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoState>;
    if (typeof s.clockMs !== 'number' || typeof s.plans !== 'object' || s.plans === null) throw new Error('clockMs or plans missing');
    return { clockMs: Math.max(s.clockMs, initialClockMs), plans: s.plans };
  } catch (e) {
    throw new DemoError('STATE_FILE', `the demo's state file ${file} cannot be read (${(e as Error).message}); remove it to let the demo start its days again`, { cause: e });
  }
}

function saveState(file: string, state: DemoState): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Waits (real time) for `ok`, checking `stopped` too; fails with `what` after `timeoutMs`. */
async function until(what: string, ok: () => boolean | Promise<boolean>, stopped: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (stopped()) throw new Stopped();
    if (await ok()) return;
    if (performance.now() > deadline) throw new DemoError('NOT_READY', `${what} did not happen within ${timeoutMs / 1000} s; see the gateway's log`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** OADR_ADMIN_TOKEN when given, else the token the VTN keeps in DIR/admin-token. */
const adminTokenOf = (given: string | undefined, dataDir: string): string => given ?? readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();

export async function runDemo(options: Readonly<DemoOptions>): Promise<DemoResult> {
  const { dataDir, out } = options;
  const households = options.households ?? 200;
  const speed = options.speed ?? 600;
  if (!(households >= 0 && Number.isInteger(households))) throw new DemoError('INVALID_OPTION', `households must be a whole number ≥ 0, got ${households}`);
  if (!(speed > 0)) throw new DemoError('INVALID_OPTION', `speed must be > 0 demo seconds per real second, got ${speed}`);
  mkdirSync(dataDir, { recursive: true });
  const phases = phasesOf(households);
  const stateFile = join(dataDir, DEMO_STATE_FILE);
  const state = loadState(stateFile, zonedMs(THESIS_DAY, DAY_FROM));
  let clockMs = state.clockMs;
  const clock = (): number => clockMs;
  const { server: xmpp, line: xmppLine } = await startXmppFor(phases, options);

  let stopped = false;
  void options.stop.then(() => void (stopped = true));
  let stopVtn: () => void = () => {};
  const vtnStop = new Promise<void>((resolve) => (stopVtn = resolve));
  let listening: ((v: { vtn: Vtn; url: string }) => void) | undefined;
  const started = new Promise<{ vtn: Vtn; url: string }>((resolve) => (listening = resolve));
  const vtnExit = runVtnCommand(['--insecure-http', '--data-dir', dataDir, '--port', String(options.port ?? 8080)], {
    config: { pollFrequencyMs: 1000, registrationPolicy: 'enrolled-only', ...(xmpp === undefined ? {} : { xmpp: { url: xmpp.url, jid: DEMO_VTN_JID, ca: xmpp.caFile } }) },
    ...(xmpp === undefined ? {} : { xmppPassword: xmpp.password }),
    logger: options.logger,
    stderr: options.err,
    now: clock,
    stopSignal: vtnStop,
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    onListening: (vtn, url) => {
      // The dashboard logs in from the link's #token= (and drops it from the address bar).
      out(`dashboard     ${url}/#token=${encodeURIComponent(adminTokenOf(options.adminToken, dataDir))}\n`);
      listening?.({ vtn, url });
    },
  });
  const first = await Promise.race([started, vtnExit]);
  if (typeof first === 'number') {
    await xmpp?.stop();
    return { exitCode: first, tokens: [], finished: false };
  }
  const { url } = first;

  const members: FleetMember[] = [];
  const stopMembers = async (): Promise<void> => {
    await Promise.allSettled(members.splice(0).map((m) => m.stop()));
  };
  let tokens: TokenRow[] = [];
  let finished = false;
  let failed = false;
  try {
    const token = adminTokenOf(options.adminToken, dataDir);
    const admin = createAdminClient(url, token);
    const ctx: MemberContext = {
      vtnUrl: `${url}/`,
      xmpp,
      dir: join(dataDir, 'vens'),
      clock,
      plans: state.plans,
      onPlan: (venName, eventId, starts) => {
        state.plans[venName] = { ...state.plans[venName], [eventId]: { ...starts } };
        saveState(stateFile, { ...state, clockMs });
      },
      onEmsError: (venName, eventId, e) => out(`ems           ${venName}: ${e.message}; its runs stay where they were for ${eventId}\n`),
    };
    out(xmppLine);
    out(`demo          ${phases.length === 1 ? 'the thesis household pair' : `the thesis household pair, then ${households} households and a battery site`}; demo clock at ${new Date(clockMs).toISOString()}; Ctrl-C stops, npm start continues\n`);
    for (const [i, phase] of phases.entries()) {
      const tag = `[${i + 1}/${phases.length}]`;
      const rows = await runPhase(phase, tag, { admin, ctx, members, out, stopped: () => stopped, clock, setClock: (ms) => {
        clockMs = Math.max(clockMs, ms);
      }, save: () => saveState(stateFile, { ...state, clockMs }), speed });
      tokens = [...tokens.filter((r) => !rows.some((x) => x.customerId === r.customerId)), ...rows];
      await stopMembers();
    }
    finished = true;
    out(tokenTable(tokens));
    if (options.keepRunning === true && !stopped) {
      out(`done          the gateway keeps running (dashboard ${url}/); Ctrl-C stops it\n`);
      await options.stop;
    }
  } catch (e) {
    if (!(e instanceof Stopped)) {
      failed = true;
      options.err(`oadr-ledger start: ${(e as Error).message}\n`);
    }
  } finally {
    await stopMembers();
    saveState(stateFile, { ...state, clockMs });
    stopVtn();
  }
  const code = await vtnExit;
  await xmpp?.stop();
  if (stopped && !finished) out(`stopped       at demo time ${new Date(clockMs).toISOString()}; npm start continues from here\n`);
  return { exitCode: failed ? 1 : code, tokens: finished ? tokens : [], finished };
}

/**
 * The demo's XMPP server for the XMPP households of every phase, as `options.xmpp` asks (undefined:
 * HTTP only), and the line that says so (printed after the dashboard's).
 */
async function startXmppFor(phases: readonly Phase[], options: Readonly<DemoOptions>): Promise<{ server: DemoXmppServer | undefined; line: string }> {
  const mode = options.xmpp ?? 'auto';
  const venNames = phases.flatMap((p) => p.households.filter((h) => h.transport === 'xmpp').map((h) => h.venName));
  if (mode === 'off' || venNames.length === 0) return { server: undefined, line: '' };
  if (!prosodyInstalled()) {
    if (mode === 'on') throw new DemoError('NOT_READY', "the demo's XMPP server needs Prosody: install Debian's prosody (apt-get install prosody), or start without XMPP");
    return { server: undefined, line: 'xmpp          Prosody is not installed (Debian: apt-get install prosody): every VEN speaks HTTP\n' };
  }
  const server = await startDemoXmpp(options.dataDir, venNames);
  const n = venNames.length;
  return { server, line: `xmpp          Prosody on ${server.url}: ${n} household${n === 1 ? ' speaks' : 's speak'} XMPP to the gateway (${server.vtnFullJid}), the others HTTP\n` };
}

interface PhaseContext {
  readonly admin: AdminClient;
  readonly ctx: MemberContext;
  readonly members: FleetMember[];
  readonly out: (text: string) => void;
  readonly stopped: () => boolean;
  readonly clock: () => number;
  readonly setClock: (ms: number) => void;
  readonly save: () => void;
  readonly speed: number;
}

interface EventVenJson {
  readonly venId: string;
  readonly customerId?: string;
  readonly oprW?: readonly number[];
  readonly optType?: string;
}
interface EventJson {
  readonly vens: readonly EventVenJson[];
  readonly skipped?: Readonly<Record<string, string>>;
}

async function runPhase(phase: Phase, tag: string, p: PhaseContext): Promise<TokenRow[]> {
  const { admin, out } = p;
  const customers = [...phase.households.map((h) => ({ customerId: h.customerId, venName: h.venName, history: historyDays(h, phase.day) }))];
  if (phase.battery) {
    const flat = Array.from({ length: 96 }, () => BATTERY_SITE_LOAD_W / 4);
    customers.push({ customerId: BATTERY_SITE, venName: BATTERY_SITE, history: Array.from({ length: HISTORY_DAYS }, (_, k) => ({ date: addDays(phase.day, k - HISTORY_DAYS), valuesWh: flat })) });
  }
  const startMs = zonedMs(phase.day, EVENT_FROM);
  const endMs = zonedMs(phase.day, EVENT_TO);
  const slots = (endMs - startMs) / (15 * MIN);
  const existing = await admin.find<EventJson>(`/events/${phase.eventId}`);
  const done = existing !== undefined && p.clock() >= endMs + 15 * MIN;

  if (!done) {
    p.setClock(zonedMs(phase.day, DAY_FROM));
    // Enrolment and history: only what the VTN store and the ledger do not hold yet.
    const enrolled = new Set((await admin.get<{ customerId: string }[]>('/customers')).map((c) => c.customerId));
    let imported = 0;
    for (const c of customers) {
      if (p.stopped()) throw new Stopped();
      if (!enrolled.has(c.customerId)) await admin.post('/customers', { customerId: c.customerId, venName: c.venName });
      const last = c.history[c.history.length - 1]!.date;
      const held = await admin.get<{ imported: number; measured: number }>(`/customers/${c.customerId}/energy?date=${last}`);
      if (held.imported + held.measured < 96) {
        await admin.post(`/customers/${c.customerId}/energy`, { days: c.history });
        imported += c.history.length;
      }
    }
    out(`${tag} ${phase.name}: ${customers.length} customers enrolled; ${imported === 0 ? 'their history is on the ledger already' : `${imported} days of meter history imported (${HISTORY_DAYS} each)`}\n`);

    // Started a batch at a time: each registers and sends its report metadata as it starts.
    for (let k = 0; k < phase.households.length; k += START_BATCH) {
      if (p.stopped()) throw new Stopped();
      p.members.push(...(await Promise.all(phase.households.slice(k, k + START_BATCH).map((h) => startHousehold(h, phase.day, p.ctx)))));
    }
    if (phase.battery) p.members.push(await startBatterySite(BATTERY_SITE, BATTERY_SITE_LOAD_W, p.ctx));
    await until(`the registration of ${p.members.length} VENs`, () => p.members.every((m) => m.ven.status().registration !== undefined && m.ven.status().session === 'OPERATIONAL'), p.stopped);
    const venIdOf = (m: FleetMember): string => m.ven.status().registration?.venId ?? '';
    // A VEN whose report metadata the VTN never got (its registration crossed a second one under
    // load, R406 erased the reporting state) is asked to register again (oadrRequestReregistration).
    const waiting = new Map<string, number>();
    await until('the telemetry requests of every VEN', async () => {
      let all = true;
      for (const m of p.members) {
        const venId = venIdOf(m);
        const r = await admin.find<{ requests: { reportName: string; state: string }[] }>(`/vens/${venId}/reports`);
        if (r?.requests.some((q) => q.reportName === 'TELEMETRY_USAGE' && q.state === 'active') === true) continue;
        all = false;
        const since = waiting.get(m.venName) ?? performance.now();
        waiting.set(m.venName, since);
        if (r !== undefined && performance.now() - since > REREGISTER_AFTER_MS) {
          waiting.set(m.venName, performance.now());
          await admin.post(`/vens/${venId}/request-reregistration`, {});
        }
      }
      return all;
    }, p.stopped, 120_000 + 500 * p.members.length);
    const venIds = new Map(p.members.map((m) => [m.customerId, venIdOf(m)]));
    const overXmpp = p.members.filter((m) => m.transport === 'xmpp').length;
    const over = overXmpp === 0 ? 'over HTTP on loopback' : `${p.members.length - overXmpp} over HTTP on loopback, ${overXmpp} over XMPP`;
    out(`${tag} ${p.members.length} VENs registered (${over}), reporting 15-minute usage telemetry\n`);

    const notify = async (t: number): Promise<void> => {
      if (existing === undefined) {
        await admin.post('/events', { eventId: phase.eventId, start: new Date(startMs).toISOString(), slots, reductionW: phase.reductionW, targets: { customerIds: customers.map((c) => c.customerId) } });
      }
      let event: EventJson | undefined;
      // Each VEN decides: in, or out (a device it cannot read, a reduction beyond it; docs/ven.md).
      const answer = (m: FleetMember): string | undefined => event?.vens.find((v) => v.venId === venIds.get(m.customerId))?.optType;
      await until('every VEN to answer the event', async () => {
        for (const m of p.members) m.ems?.check();
        event = await admin.get<EventJson>(`/events/${phase.eventId}`);
        return p.members.every((m) => answer(m) !== undefined);
      }, p.stopped, 120_000 + 500 * p.members.length);
      const optedOut = p.members.filter((m) => answer(m) !== 'optIn').map((m) => m.customerId);
      for (const m of p.members) m.ems?.check();
      const opr = (event?.vens ?? []).map((v) => (v.oprW ?? []).reduce((a, b) => a + b, 0) / Math.max(1, v.oprW?.length ?? 1));
      out(`${tag} ${localTime(t)} event ${phase.eventId}: ${phase.reductionW} W from ${EVENT_FROM} to ${EVENT_TO}, shared by the ledger (OPR ${Math.round(Math.min(...opr))}–${Math.round(Math.max(...opr))} W a customer); ${optedOut.length === 0 ? 'every VEN opted in' : `opted out: ${optedOut.join(', ')}`}${phase.households.some((h) => h.ems) ? '; the EMS moved the shiftable runs out of the window' : ''}\n`);
    };
    // A restart after the notice finds the event on the VTN: the VENs have it, nothing is created again.
    const notifyAtMs = zonedMs(phase.day, NOTIFY_AT);
    let notified = false;
    await runDay(p, zonedMs(phase.day, DAY_FROM), endMs + 20 * MIN, phase.stepMinutes, tag, async (t) => {
      if (notified || t < notifyAtMs) return;
      notified = true;
      await notify(t);
    });
    for (const m of p.members) await m.ven.flush();
    await until('the VENs to deliver their telemetry', () => p.members.every((m) => m.ven.status().outboxPending === 0), p.stopped);
  }
  await admin.post(`/events/${phase.eventId}/settle`, {});
  const settled = await admin.get<EventJson>(`/events/${phase.eventId}`);
  const rows: TokenRow[] = [];
  for (const c of customers) {
    const v = settled.vens.find((x) => x.customerId === c.customerId);
    const { balance } = await admin.get<{ balance: { balanceMilli: number } }>(`/customers/${c.customerId}/tokens`);
    rows.push({ customerId: c.customerId, eventId: phase.eventId, askedWh: Math.round((v?.oprW ?? []).reduce((a, b) => a + b, 0) / 4), balanceMilli: balance.balanceMilli });
  }
  out(`${tag} settled ${phase.eventId} on the ledger: ${rows.length} customers, ${formatTokens(rows.reduce((a, r) => a + r.balanceMilli, 0))} DR tokens in all\n`);
  return rows;
}

/**
 * Steps the demo clock `stepMinutes` at a time, ticking every VEN, at most `speed` times real time.
 * Each tick is half a minute into the last minute of its step: the VEN labels its sample with that
 * minute's start (the period that ended) and reads the power of the minute it is in, so with steps
 * of several minutes every sample still falls in the slot it is counted in.
 */
async function runDay(p: PhaseContext, fromMs: number, toMs: number, stepMinutes: number, tag: string, at: (minuteMs: number) => Promise<void>): Promise<void> {
  const step = stepMinutes * MIN;
  const stepRealMs = step / p.speed;
  let last = performance.now();
  // The first step after `fromMs`, or after the clock of a day cut short (its last step again).
  const first = Math.ceil(Math.max(fromMs + MIN, p.clock() - MIN / 2 + MIN) / step) * step - MIN;
  for (let t = first; t <= toMs; t += step) {
    if (p.stopped()) throw new Stopped();
    p.setClock(t + MIN / 2);
    await at(t);
    await Promise.all(p.members.map((m) => m.ven.tick()));
    for (const m of p.members) m.ems?.check();
    await Promise.all(p.members.map((m) => m.ven.flush()));
    if (t % (60 * MIN) < step) {
      p.save();
      const w = (await Promise.all(p.members.map((m) => m.ven.status().lastReading?.powerW ?? 0))).reduce((a, b) => a + b, 0);
      const detail = p.members.length <= 4 ? p.members.map((m) => `${m.customerId} ${Math.round(m.ven.status().lastReading?.powerW ?? 0)} W`).join(', ') : `${p.members.length} sites draw ${(w / 1000).toFixed(1)} kW`;
      p.out(`${tag} ${localTime(t - (t % (60 * MIN)))}  ${detail}\n`);
    }
    if (Number.isFinite(stepRealMs)) {
      const wait = last + stepRealMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      last = performance.now();
    }
  }
  p.save();
}

const formatTokens = (milli: number): string => (milli / 1000).toFixed(3);

/** The token table per customer: what the event asked and the DR tokens each holds on the ledger. */
export function tokenTable(rows: readonly TokenRow[]): string {
  const width = Math.max(8, ...rows.map((r) => r.customerId.length));
  const lines = rows.map((r) => `  ${r.customerId.padEnd(width)}  ${r.eventId.padEnd(15)}  ${String(r.askedWh).padStart(9)}  ${formatTokens(r.balanceMilli).padStart(12)}`);
  return [`tokens        DR tokens per customer, from the ledger (GET /api/v1/customers/{id}/tokens)`, `  ${'customer'.padEnd(width)}  ${'event'.padEnd(15)}  ${'asked Wh'.padStart(9)}  ${'tokens'.padStart(12)}`, ...lines, ''].join('\n');
}
