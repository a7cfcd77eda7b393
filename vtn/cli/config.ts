/**
 * The VTN's configuration: one object, validated once by `resolveVtnConfig` (defaults filled in,
 * unknown keys refused, the result deeply frozen). The CLI merges file, `OADR_*` environment and
 * flags before calling it; nothing in vtn/ reads `process.env`.
 */
import { VtnError } from '../errors.ts';

export const REGISTRATION_POLICIES = ['enrolled-only', 'open'] as const;
export type RegistrationPolicy = (typeof REGISTRATION_POLICIES)[number];

/** Which signals a program sends for a customer's load reduction (see "The load-amount signal" in ARCHITECTURE.md). */
export const PROGRAM_SIGNALS = ['LOAD_DISPATCH', 'SIMPLE', 'x-LOAD_AMOUNT'] as const;
export type ProgramSignal = (typeof PROGRAM_SIGNALS)[number];

export interface ProgramConfig {
  readonly id: string;
  /** emix:marketContext of the program's events (a URI). */
  readonly marketContext: string;
  /** Length of one event interval (slot), default 15 minutes. */
  readonly slotMs: number;
  /** x-eiNotification of the program's events (R105), default 0. */
  readonly notificationMs: number;
  /** x-eiRampUp; when set, events are `near` that long before dtstart (R13). */
  readonly rampUpMs: number | undefined;
  /** Default event priority (R3: 1 highest, 0 none). */
  readonly priority: number;
  /** The signals derived from a per-customer load reduction, in this order. */
  readonly signals: readonly ProgramSignal[];
  /** SIMPLE level sent during the event when the program has a SIMPLE signal (1…3). */
  readonly simpleLevel: number;
  /**
   * How a customer's share (W) maps to a SIMPLE level, for the SIMPLE signal and for 2.0a VENs
   * (which receive SIMPLE only, R7): the shares at or above which levels 1, 2 and 3 are sent,
   * ascending. Default undefined: every share above 0 W gets `simpleLevel`.
   */
  readonly simpleLevelsW: readonly [number, number, number] | undefined;
  /** Granularity of the telemetry the VTN requests from the program's VENs (R317), default 15 minutes. */
  readonly reportGranularityMs: number;
  /** reportBackDuration of those requests: how often reports come (R324), default 15 minutes. */
  readonly reportBackDurationMs: number;
  /** Largest plausible power of one customer (W): telemetry above it (or Wh above it over the interval) is refused; default 10 MW. */
  readonly maxTelemetryW: number;
  /**
   * The program's events are test events (R6: VENs do not actuate) unless an event says otherwise;
   * default false. A test event never goes to the ledger (its day would leave baselines and it would
   * settle reductions nobody was asked for).
   */
  readonly testEvent: boolean;
  /** R201: the availability schedules the program's VENs may send: `both` (default), only `optIn` or only `optOut`. */
  readonly optSchedules: OptSchedules;
  /** R201: time no schedule covers is `available` (default) or `unavailable` (a VEN is available only where it opted in). */
  readonly optUncovered: 'available' | 'unavailable';
  /** R201: where an optIn and an optOut schedule overlap, `optOut` (default) or `optIn` wins. */
  readonly optOverlapWinner: 'optIn' | 'optOut';
  /** R201: a VEN unavailable during part of an event's window is `send`t the event, recorded as opted out (default), or the event is `withhold`en from it. */
  readonly eventsWhenUnavailable: 'send' | 'withhold';
}

export const OPT_SCHEDULES = ['both', 'optIn', 'optOut'] as const;
export type OptSchedules = (typeof OPT_SCHEDULES)[number];

export interface PushConfig {
  /** First back-off after a failed push, §9.1.7 (≈1 s). */
  readonly initialBackoffMs: number;
  /** Back-off cap. */
  readonly maxBackoffMs: number;
  /** Random jitter as a fraction of the wait (0.1 = ±10 %). */
  readonly jitter: number;
  /** Response timeout of one push request (≥ 5 s per §9.1.6). */
  readonly timeoutMs: number;
  /** Attempts of one payload before it is dropped (with an error log); network errors, timeouts and 5xx count. */
  readonly maxAttempts: number;
  /** Accept `http:` push addresses (development only); default false: https only. */
  readonly allowHttp: boolean;
  /** Push hosts (names or IP literals) allowed although loopback, link-local or private; default none. */
  readonly allowedHosts: readonly string[];
  /** The push address's host must be named by the VEN's TLS certificate (a DNS or IP SAN); default false. */
  readonly requireCertificateHost: boolean;
}

/** The VTN's XMPP connection (R38, R507; docs/xmpp.md). Off while `url` is unset. */
export interface XmppConfig {
  /** `xmpp://host[:port]` of the XMPP server (STARTTLS on the client port). */
  readonly url: string | undefined;
  /** The VTN's account, a bare JID `local@domain`; with a certificate, `local` is its CN. */
  readonly jid: string | undefined;
  /** The resource: the VTN's full JID is `jid/resource` (default `vtn`). */
  readonly resource: string;
  /** Client certificate chain and key files (PEM) for SASL EXTERNAL; absent: SCRAM with OADR_XMPP_PASSWORD (development). */
  readonly cert: string | undefined;
  readonly key: string | undefined;
  /** CA file (PEM) the server's certificate must chain to; absent: the system's roots. */
  readonly ca: string | undefined;
}

/** Which ledger the VTN records on (`oadr-ledger vtn --ledger`). */
export const LEDGER_KINDS = ['embedded', 'fabric'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** The VTN on a Fabric network (docs/fabric.md): used when `ledger` is `fabric`. */
export interface FabricConfig {
  /** The network's common connection profile (JSON or YAML). */
  readonly profile: string | undefined;
  /** The VTN's own MSP folder (the system operator, `ID=operator:…`). */
  readonly identity: string | undefined;
  /** One folder per retailer id with its identity (`ID=retailer:<id>`); default `<dataDir>/fabric-retailers`. */
  readonly retailers: string | undefined;
  /** The retailer folder of customers that name no retailer (default `vtn`). */
  readonly defaultRetailer: string;
  /** Default: the profile's first channel, else `mychannel`. */
  readonly channel: string | undefined;
  readonly chaincode: string;
  /** Wait until every other organisation's peer in the profile has each transaction's block (default false). */
  readonly waitForCommit: boolean;
  /** Submissions in all when an endorsement mismatch or a read conflict is retried (default 5; 1: no retries). */
  readonly retryAttempts: number;
}

/** The scale of the IEC 104 points' power values. */
export const IEC104_UNITS = { W: 1, kW: 1_000, MW: 1_000_000 } as const;
export type Iec104Unit = keyof typeof IEC104_UNITS;

/**
 * The IEC 60870-5-104 bridge: the aggregate as a UVAM for a TSO's control system (docs/iec104.md,
 * docs/uvam.md). Off while `port` is unset. The point map is configuration: Terna's point list is
 * not public; the defaults are the documented map.
 */
export interface Iec104Config {
  /** TCP port of the controlled station (the standard's is 2404); undefined: the bridge is off. */
  readonly port: number | undefined;
  /** Where it listens (default loopback). */
  readonly host: string;
  /** Addresses of the controlling stations allowed to connect; empty: any that reaches `host`. */
  readonly allow: readonly string[];
  readonly commonAddress: number;
  /** IOA of the unit's aggregate active power (M_ME_NC_1, periodic). */
  readonly aggregateIoa: number;
  /** Customers whose connection point is sent too, at IOAs aggregateIoa + 1, + 2, … in this order. */
  readonly connectionPoints: readonly string[];
  /** IOA of the requested modulation (C_SE_NC_1 or C_SE_TC_1; positive reduces consumption). */
  readonly setpointIoa: number;
  /** The set-point takes select-before-operate only (default: direct execute allowed too). */
  readonly selectRequired: boolean;
  /** Unit of every power value on the wire (default kW). */
  readonly unit: Iec104Unit;
  /** Period of the measurements (default 4 s). */
  readonly periodMs: number;
  /** Also send each period's aggregate as M_ME_TF_1 with cause 3 (spontaneous, time-tagged). */
  readonly spontaneous: boolean;
  /** A VEN's telemetry is stale when its latest usage interval ended longer ago than this (default 5 min). */
  readonly staleMs: number;
  /** A set-point's event starts this long after the order (default 1 min; at most 15 min). */
  readonly leadTimeMs: number;
  /** How long an order's event lasts (default 120 min). */
  readonly durationMinutes: number;
  /** Time from select to execute before a selection lapses. */
  readonly selectTimeoutMs: number;
  /** The link's k, w and timers t0–t3 (IEC 60870-5-104 §5.5; defaults 12, 8, 10/15/10/20 s). */
  readonly k: number;
  readonly w: number;
  readonly t0Ms: number;
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t3Ms: number;
}

export interface VtnConfig {
  readonly vtnId: string;
  /** Directory of the VTN store (`vtn.sqlite`); `:memory:` keeps everything in memory (tests). */
  readonly dataDir: string;
  /**
   * The VTN store: undefined for SQLite in `dataDir` (the default), or `postgres://user@host:port/db`
   * for PostgreSQL, shared by the processes of a cluster (docs/deployment.md). The password comes
   * from the URL or, better, `OADR_STORE_PASSWORD_FILE`.
   */
  readonly store: string | undefined;
  /** PostgreSQL cancels a statement running longer; a process waits at most about this (plus a connection's opening) on a stalled database (default 5 s). */
  readonly storeStatementTimeoutMs: number;
  /** Optional path prefix before `OpenADR2/Simple/2.0b/`, e.g. `/myVTN` (R511). Empty: none. */
  readonly pathPrefix: string;
  /** Largest request body accepted; larger ones get 413. */
  readonly bodyLimitBytes: number;
  /** oadrRequestedOadrPollFreq sent to pull VENs (R403). */
  readonly pollFrequencyMs: number;
  readonly registrationPolicy: RegistrationPolicy;
  /** R52: how many deliveries a cancelled `always` event gets while the VEN does not acknowledge it. */
  readonly cancelRetries: number;
  /** A report request the VEN has not answered (oadrCreatedReport or data) is sent again after this long (default 15 min). */
  readonly reportRequestRetryMs: number;
  /** Times a report request is sent again before it is marked unanswered (default 3). */
  readonly reportRequestRetries: number;
  readonly push: PushConfig;
  readonly xmpp: XmppConfig;
  readonly iec104: Iec104Config;
  /** The ledger: `embedded` (default, under dataDir/ledger) or `fabric` (the `fabric` section). */
  readonly ledger: LedgerKind;
  readonly fabric: FabricConfig;
  readonly programs: readonly ProgramConfig[];
  /** Where `oadr-ledger vtn` listens. */
  readonly host: string;
  readonly port: number;
  /** Separate port for the admin API, its docs, /metrics and the dashboard; undefined: the OpenADR port, under /api/v1. */
  readonly adminPort: number | undefined;
  /** Plain HTTP (no TLS): only on loopback, loudly logged. */
  readonly insecureHttp: boolean;
  /** A TLS connection must finish its handshake within this (default 10 s). */
  readonly tlsHandshakeTimeoutMs: number;
  /** `/metrics` and `/readyz`: `open` (default), `token` (an admin bearer token with the read right) or `admin-port` (served only on `adminPort`). */
  readonly operationsAccess: OperationsAccess;
  /** How long one rendering of `/metrics` is served again (default 1 s). */
  readonly metricsCacheMs: number;
  /** On stop: `/readyz` fails for this long while the VTN still serves, so a load balancer takes it out first (default 0). */
  readonly shutdownGraceMs: number;
  /** Opt answers of one customer for one event within this window go to the ledger once, the last one (default 1 s). */
  readonly optCoalesceMs: number;
  /** Failed admin authentications per client address per minute before 429 (default 10). */
  readonly adminAuthFailuresPerMinute: number;
  /** Admin requests per token and per client address per minute before 429 with Retry-After (default 1,200). */
  readonly adminRequestsPerMinute: number;
  /** `/readyz` fails while the outbox of ledger work holds more items than this (default 100,000): the ledger is not keeping up. */
  readonly ledgerOutboxReadyLimit: number;
  /** The voltages a flexibility claim carries, V: not metered, nominal values (default 400 line to line, 230 line to neutral). */
  readonly claimVoltageLLV: number;
  readonly claimVoltageLNV: number;
}

export const OPERATIONS_ACCESS = ['open', 'token', 'admin-port'] as const;
export type OperationsAccess = (typeof OPERATIONS_ACCESS)[number];

export type VtnConfigInput = {
  readonly [K in keyof VtnConfig]?: K extends 'push' ? Partial<PushConfig> : K extends 'xmpp' ? Partial<XmppConfig> : K extends 'iec104' ? Partial<Iec104Config> : K extends 'fabric' ? Partial<FabricConfig> : K extends 'programs' ? readonly ProgramConfigInput[] : VtnConfig[K];
};
export type ProgramConfigInput = Partial<ProgramConfig> & { readonly id: string };

export const DEFAULT_PROGRAM_ID = 'default';
export const DEFAULT_SLOT_MS = 15 * 60_000;
/** What a program id may be (it appears in URLs and market contexts). */
export const PROGRAM_ID = /^[A-Za-z0-9._~-]{1,64}$/;

const DEFAULTS: Omit<VtnConfig, 'programs' | 'push' | 'xmpp' | 'iec104' | 'fabric'> = {
  vtnId: 'oadr-ledger-vtn',
  dataDir: './data',
  store: undefined,
  storeStatementTimeoutMs: 5000,
  pathPrefix: '',
  bodyLimitBytes: 1_048_576,
  pollFrequencyMs: 10_000,
  registrationPolicy: 'enrolled-only',
  cancelRetries: 3,
  reportRequestRetryMs: 900_000,
  reportRequestRetries: 3,
  host: '127.0.0.1',
  port: 8080,
  adminPort: undefined,
  insecureHttp: false,
  tlsHandshakeTimeoutMs: 10_000,
  operationsAccess: 'open',
  metricsCacheMs: 1000,
  shutdownGraceMs: 0,
  optCoalesceMs: 1000,
  adminAuthFailuresPerMinute: 10,
  adminRequestsPerMinute: 1200,
  ledgerOutboxReadyLimit: 100_000,
  claimVoltageLLV: 400,
  claimVoltageLNV: 230,
  ledger: 'embedded',
};

const FABRIC_DEFAULTS: FabricConfig = Object.freeze({
  profile: undefined,
  identity: undefined,
  retailers: undefined,
  defaultRetailer: 'vtn',
  channel: undefined,
  chaincode: 'oadr-dr',
  waitForCommit: false,
  retryAttempts: 5,
});

function resolveFabricConfig(x: Partial<FabricConfig>, ledger: LedgerKind): FabricConfig {
  if (x === null || typeof x !== 'object') bad('fabric', 'must be an object');
  checkKeys(x, Object.keys(FABRIC_DEFAULTS), 'fabric.');
  const optional = (v: unknown, key: string): string | undefined => (v === undefined ? undefined : text(v, key));
  const profile = optional(x.profile, 'fabric.profile');
  const identity = optional(x.identity, 'fabric.identity');
  if (ledger === 'fabric' && profile === undefined) bad('fabric.profile', "is required with ledger 'fabric' (--fabric-profile FILE: the network's connection profile)");
  if (ledger === 'fabric' && identity === undefined) bad('fabric.identity', "is required with ledger 'fabric' (--fabric-identity DIR: the VTN's MSP folder)");
  return Object.freeze({
    profile,
    identity,
    retailers: optional(x.retailers, 'fabric.retailers'),
    defaultRetailer: text(x.defaultRetailer ?? FABRIC_DEFAULTS.defaultRetailer, 'fabric.defaultRetailer'),
    channel: optional(x.channel, 'fabric.channel'),
    chaincode: text(x.chaincode ?? FABRIC_DEFAULTS.chaincode, 'fabric.chaincode'),
    waitForCommit: bool(x.waitForCommit ?? FABRIC_DEFAULTS.waitForCommit, 'fabric.waitForCommit'),
    retryAttempts: int(x.retryAttempts ?? FABRIC_DEFAULTS.retryAttempts, 'fabric.retryAttempts', 1, 100),
  });
}

const XMPP_DEFAULTS: XmppConfig = { url: undefined, jid: undefined, resource: 'vtn', cert: undefined, key: undefined, ca: undefined };

export const IEC104_DEFAULTS: Iec104Config = Object.freeze({
  port: undefined,
  host: '127.0.0.1',
  allow: Object.freeze([]),
  commonAddress: 1,
  aggregateIoa: 1001,
  connectionPoints: Object.freeze([]),
  setpointIoa: 5000,
  selectRequired: false,
  unit: 'kW',
  periodMs: 4_000,
  spontaneous: false,
  staleMs: 300_000,
  leadTimeMs: 60_000,
  durationMinutes: 120,
  selectTimeoutMs: 30_000,
  k: 12,
  w: 8,
  t0Ms: 10_000,
  t1Ms: 15_000,
  t2Ms: 10_000,
  t3Ms: 20_000,
});

function resolveIec104Config(x: Partial<Iec104Config>): Iec104Config {
  if (x === null || typeof x !== 'object') bad('iec104', 'must be an object');
  checkKeys(x, Object.keys(IEC104_DEFAULTS), 'iec104.');
  const d = IEC104_DEFAULTS;
  const list = (v: unknown, key: string): readonly string[] => {
    if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || h === '')) bad(key, `must be a list of non-empty strings, got ${JSON.stringify(v)}`);
    return Object.freeze([...(v as string[])]);
  };
  const unit = x.unit ?? d.unit;
  if (!Object.hasOwn(IEC104_UNITS, unit)) bad('iec104.unit', `must be one of ${Object.keys(IEC104_UNITS).join(', ')}, got ${JSON.stringify(unit)}`);
  const connectionPoints = list(x.connectionPoints ?? d.connectionPoints, 'iec104.connectionPoints');
  const aggregateIoa = int(x.aggregateIoa ?? d.aggregateIoa, 'iec104.aggregateIoa', 1, 0xffffff - connectionPoints.length);
  const setpointIoa = int(x.setpointIoa ?? d.setpointIoa, 'iec104.setpointIoa', 1, 0xffffff);
  if (setpointIoa >= aggregateIoa && setpointIoa <= aggregateIoa + connectionPoints.length) bad('iec104.setpointIoa', `${setpointIoa} is also a measurement's IOA (${aggregateIoa}…${aggregateIoa + connectionPoints.length}); choose another`);
  const t1Ms = int(x.t1Ms ?? d.t1Ms, 'iec104.t1Ms', 1, 255_000);
  return Object.freeze({
    port: x.port === undefined ? undefined : int(x.port, 'iec104.port', 0, 65_535),
    host: text(x.host ?? d.host, 'iec104.host'),
    allow: list(x.allow ?? d.allow, 'iec104.allow'),
    commonAddress: int(x.commonAddress ?? d.commonAddress, 'iec104.commonAddress', 1, 65_534),
    aggregateIoa,
    connectionPoints,
    setpointIoa,
    selectRequired: bool(x.selectRequired ?? d.selectRequired, 'iec104.selectRequired'),
    unit,
    periodMs: int(x.periodMs ?? d.periodMs, 'iec104.periodMs', 100, 3_600_000),
    spontaneous: bool(x.spontaneous ?? d.spontaneous, 'iec104.spontaneous'),
    staleMs: int(x.staleMs ?? d.staleMs, 'iec104.staleMs', 1_000),
    // The UVAM modulates within 15 minutes of the order.
    leadTimeMs: int(x.leadTimeMs ?? d.leadTimeMs, 'iec104.leadTimeMs', 0, 900_000),
    durationMinutes: int(x.durationMinutes ?? d.durationMinutes, 'iec104.durationMinutes', 1, 24 * 60),
    selectTimeoutMs: int(x.selectTimeoutMs ?? d.selectTimeoutMs, 'iec104.selectTimeoutMs', 1),
    k: int(x.k ?? d.k, 'iec104.k', 1, 32_767),
    w: int(x.w ?? d.w, 'iec104.w', 1, 32_767),
    t0Ms: int(x.t0Ms ?? d.t0Ms, 'iec104.t0Ms', 1, 255_000),
    t1Ms,
    t2Ms: int(x.t2Ms ?? d.t2Ms, 'iec104.t2Ms', 1, t1Ms - 1),
    t3Ms: int(x.t3Ms ?? d.t3Ms, 'iec104.t3Ms', 1, 172_800_000),
  });
}

function resolveXmppConfig(x: Partial<XmppConfig>): XmppConfig {
  checkKeys(x, Object.keys(XMPP_DEFAULTS), 'xmpp.');
  const optional = (v: unknown, key: string): string | undefined => (v === undefined ? undefined : text(v, key));
  const url = optional(x.url, 'xmpp.url');
  if (url !== undefined && !/^xmpp:\/\/[^/\s]+\/?$/.test(url)) bad('xmpp.url', `must be xmpp://host[:port], got ${JSON.stringify(url)}`);
  const jid = optional(x.jid, 'xmpp.jid');
  if (jid !== undefined && !/^[^@/\s]+@[^@/\s]+$/.test(jid)) bad('xmpp.jid', `must be a bare JID local@domain, got ${JSON.stringify(jid)}`);
  if (url !== undefined && jid === undefined) bad('xmpp.jid', 'is required with xmpp.url (the VTN\'s account, local@domain)');
  const cert = optional(x.cert, 'xmpp.cert');
  const key = optional(x.key, 'xmpp.key');
  if ((cert === undefined) !== (key === undefined)) bad('xmpp.cert', 'and xmpp.key go together (SASL EXTERNAL with the certificate)');
  return Object.freeze({ url, jid, resource: text(x.resource ?? XMPP_DEFAULTS.resource, 'xmpp.resource'), cert, key, ca: optional(x.ca, 'xmpp.ca') });
}

const PUSH_DEFAULTS: PushConfig = { initialBackoffMs: 1000, maxBackoffMs: 60_000, jitter: 0.1, timeoutMs: 10_000, maxAttempts: 20, allowHttp: false, allowedHosts: [], requireCertificateHost: false };

/** Default `maxTelemetryW`: 10 MW, beyond any one customer's connection. */
export const DEFAULT_MAX_TELEMETRY_W = 10_000_000;

function programDefaults(id: string): ProgramConfig {
  return {
    id,
    marketContext: `http://oadr-ledger.local/programs/${encodeURIComponent(id)}`,
    slotMs: DEFAULT_SLOT_MS,
    notificationMs: 0,
    rampUpMs: undefined,
    priority: 1,
    signals: ['LOAD_DISPATCH'],
    simpleLevel: 1,
    simpleLevelsW: undefined,
    reportGranularityMs: DEFAULT_SLOT_MS,
    reportBackDurationMs: DEFAULT_SLOT_MS,
    maxTelemetryW: DEFAULT_MAX_TELEMETRY_W,
    testEvent: false,
    optSchedules: 'both',
    optUncovered: 'available',
    optOverlapWinner: 'optOut',
    eventsWhenUnavailable: 'send',
  };
}

function bad(key: string, what: string): never {
  throw new VtnError('INVALID_CONFIG', `VTN configuration: ${key} ${what}; fix it in the config file, the OADR_* environment or the flags`);
}

/** Reports an invalid value: `bad` for the configuration; the admin API passes its own. */
export type Complain = (key: string, what: string) => never;

function checkKeys(obj: object, allowed: readonly string[], where: string, fail: Complain = bad): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`${where}${k}`, `is not a known option (known: ${allowed.join(', ')})`);
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function int(v: unknown, key: string, min: number, max?: number, fail: Complain = bad): number {
  if (!isInt(v, min, max)) fail(key, `must be an integer ≥ ${min}${max === undefined ? '' : ` and ≤ ${max}`}, got ${JSON.stringify(v)}`);
  return v;
}

function wholeSeconds(v: unknown, key: string, fail: Complain = bad): number {
  const n = int(v, key, 1000, undefined, fail);
  if (n % 1000 !== 0) fail(key, `must be whole seconds in ms (OpenADR durations have no fractions, R1), got ${n}`);
  return n;
}

function text(v: unknown, key: string, pattern?: RegExp, fail: Complain = bad): string {
  if (typeof v !== 'string' || v.length === 0 || (pattern !== undefined && !pattern.test(v))) fail(key, `must be a non-empty string${pattern === undefined ? '' : ` matching ${pattern}`}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * One program validated, defaults filled in, frozen. `where` names it in errors (`programs[0].` for
 * the configuration); the admin API validates its program bodies with this too.
 */
export function resolveProgramConfig(p: ProgramConfigInput, where: string, fail: Complain = bad): ProgramConfig {
  if (p === null || typeof p !== 'object') fail(where === '' ? 'program' : where.slice(0, -1), 'must be an object');
  checkKeys(p, Object.keys(programDefaults('x')), where, fail);
  const id = text(p.id, `${where}id`, PROGRAM_ID, fail);
  const d = programDefaults(id);
  const signals = p.signals ?? d.signals;
  if (!Array.isArray(signals) || signals.length === 0 || signals.some((s) => !PROGRAM_SIGNALS.includes(s))) {
    fail(`${where}signals`, `must be a non-empty list of ${PROGRAM_SIGNALS.join(', ')}`);
  }
  let marketContext = d.marketContext;
  if (p.marketContext !== undefined) {
    marketContext = text(p.marketContext, `${where}marketContext`, undefined, fail);
    try {
      new URL(marketContext);
    } catch {
      fail(`${where}marketContext`, `must be an absolute URI, got ${JSON.stringify(marketContext)}`);
    }
  }
  return Object.freeze({
    id,
    marketContext,
    slotMs: int(p.slotMs ?? d.slotMs, `${where}slotMs`, 1000, undefined, fail),
    notificationMs: int(p.notificationMs ?? d.notificationMs, `${where}notificationMs`, 0, undefined, fail),
    rampUpMs: p.rampUpMs === undefined ? undefined : int(p.rampUpMs, `${where}rampUpMs`, 0, undefined, fail),
    priority: int(p.priority ?? d.priority, `${where}priority`, 0, undefined, fail),
    signals: Object.freeze([...new Set(signals)]),
    simpleLevel: int(p.simpleLevel ?? d.simpleLevel, `${where}simpleLevel`, 0, 3, fail),
    simpleLevelsW: simpleLevelsW(p.simpleLevelsW, `${where}simpleLevelsW`, fail),
    reportGranularityMs: wholeSeconds(p.reportGranularityMs ?? d.reportGranularityMs, `${where}reportGranularityMs`, fail),
    reportBackDurationMs: wholeSeconds(p.reportBackDurationMs ?? d.reportBackDurationMs, `${where}reportBackDurationMs`, fail),
    maxTelemetryW: int(p.maxTelemetryW ?? d.maxTelemetryW, `${where}maxTelemetryW`, 1, undefined, fail),
    testEvent: bool(p.testEvent ?? d.testEvent, `${where}testEvent`, fail),
    optSchedules: oneOf(p.optSchedules ?? d.optSchedules, OPT_SCHEDULES, `${where}optSchedules`, fail),
    optUncovered: oneOf(p.optUncovered ?? d.optUncovered, ['available', 'unavailable'] as const, `${where}optUncovered`, fail),
    optOverlapWinner: oneOf(p.optOverlapWinner ?? d.optOverlapWinner, ['optIn', 'optOut'] as const, `${where}optOverlapWinner`, fail),
    eventsWhenUnavailable: oneOf(p.eventsWhenUnavailable ?? d.eventsWhenUnavailable, ['send', 'withhold'] as const, `${where}eventsWhenUnavailable`, fail),
  });
}

function simpleLevelsW(v: unknown, key: string, fail: Complain): readonly [number, number, number] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x, i) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || (i > 0 && x < (v[i - 1] as number)))) {
    fail(key, `must be three ascending positive numbers (W at or above which SIMPLE levels 1, 2 and 3 are sent), got ${JSON.stringify(v)}`);
  }
  return Object.freeze([...v]) as unknown as readonly [number, number, number];
}

/** The SIMPLE level (0…3) for a customer's share `w` (W) in a program (R9). */
export function simpleLevelFor(program: Pick<ProgramConfig, 'simpleLevel' | 'simpleLevelsW'>, w: number): number {
  if (!(w > 0)) return 0;
  const t = program.simpleLevelsW;
  if (t === undefined) return program.simpleLevel;
  return w >= t[2] ? 3 : w >= t[1] ? 2 : w >= t[0] ? 1 : 0;
}

/** Validate a merged configuration once; returns a frozen object with every default filled in. */
export function resolveVtnConfig(input: VtnConfigInput = {}): VtnConfig {
  if (input === null || typeof input !== 'object') bad('(root)', 'must be an object');
  checkKeys(input, [...Object.keys(DEFAULTS), 'push', 'xmpp', 'iec104', 'fabric', 'programs'], '');
  const ledger = input.ledger ?? DEFAULTS.ledger;
  if (!LEDGER_KINDS.includes(ledger)) bad('ledger', `must be one of ${LEDGER_KINDS.join(', ')}, got ${JSON.stringify(ledger)}`);
  const push = input.push ?? {};
  checkKeys(push, Object.keys(PUSH_DEFAULTS), 'push.');
  const jitter = push.jitter ?? PUSH_DEFAULTS.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) bad('push.jitter', `must be a number in [0, 1), got ${JSON.stringify(jitter)}`);
  const initialBackoffMs = int(push.initialBackoffMs ?? PUSH_DEFAULTS.initialBackoffMs, 'push.initialBackoffMs', 1);
  const resolvedPush: PushConfig = Object.freeze({
    initialBackoffMs,
    maxBackoffMs: int(push.maxBackoffMs ?? PUSH_DEFAULTS.maxBackoffMs, 'push.maxBackoffMs', initialBackoffMs),
    jitter,
    timeoutMs: int(push.timeoutMs ?? PUSH_DEFAULTS.timeoutMs, 'push.timeoutMs', 1),
    maxAttempts: int(push.maxAttempts ?? PUSH_DEFAULTS.maxAttempts, 'push.maxAttempts', 1, 10_000),
    allowHttp: bool(push.allowHttp ?? PUSH_DEFAULTS.allowHttp, 'push.allowHttp'),
    allowedHosts: Object.freeze(hosts(push.allowedHosts ?? PUSH_DEFAULTS.allowedHosts, 'push.allowedHosts')),
    requireCertificateHost: bool(push.requireCertificateHost ?? PUSH_DEFAULTS.requireCertificateHost, 'push.requireCertificateHost'),
  });
  const programInputs = input.programs ?? [{ id: DEFAULT_PROGRAM_ID }];
  if (!Array.isArray(programInputs) || programInputs.length === 0) bad('programs', 'must be a non-empty list');
  const programs = programInputs.map((p, i) => resolveProgramConfig(p, `programs[${i}].`));
  const ids = new Set<string>();
  for (const p of programs) {
    if (ids.has(p.id)) bad('programs', `has the id '${p.id}' twice`);
    ids.add(p.id);
  }
  const policy = input.registrationPolicy ?? DEFAULTS.registrationPolicy;
  if (!REGISTRATION_POLICIES.includes(policy)) bad('registrationPolicy', `must be one of ${REGISTRATION_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`);
  const prefix = input.pathPrefix ?? DEFAULTS.pathPrefix;
  if (typeof prefix !== 'string' || (prefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix))) {
    bad('pathPrefix', `must be empty or like '/myVTN' (no trailing slash), got ${JSON.stringify(prefix)}`);
  }
  const insecureHttp = bool(input.insecureHttp ?? DEFAULTS.insecureHttp, 'insecureHttp');
  const operationsAccess = input.operationsAccess ?? DEFAULTS.operationsAccess;
  if (!OPERATIONS_ACCESS.includes(operationsAccess)) bad('operationsAccess', `must be one of ${OPERATIONS_ACCESS.join(', ')}, got ${JSON.stringify(operationsAccess)}`);
  if (operationsAccess === 'admin-port' && input.adminPort === undefined) bad('operationsAccess', "is 'admin-port' but no adminPort is set");
  return Object.freeze({
    vtnId: text(input.vtnId ?? DEFAULTS.vtnId, 'vtnId'),
    dataDir: text(input.dataDir ?? DEFAULTS.dataDir, 'dataDir'),
    store: storeUrl(input.store),
    storeStatementTimeoutMs: int(input.storeStatementTimeoutMs ?? DEFAULTS.storeStatementTimeoutMs, 'storeStatementTimeoutMs', 100, 600_000),
    pathPrefix: prefix,
    bodyLimitBytes: int(input.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes, 'bodyLimitBytes', 1024, 64 * 1_048_576),
    pollFrequencyMs: int(input.pollFrequencyMs ?? DEFAULTS.pollFrequencyMs, 'pollFrequencyMs', 1000),
    registrationPolicy: policy,
    cancelRetries: int(input.cancelRetries ?? DEFAULTS.cancelRetries, 'cancelRetries', 1, 1000),
    reportRequestRetryMs: int(input.reportRequestRetryMs ?? DEFAULTS.reportRequestRetryMs, 'reportRequestRetryMs', 1000),
    reportRequestRetries: int(input.reportRequestRetries ?? DEFAULTS.reportRequestRetries, 'reportRequestRetries', 0, 1000),
    push: resolvedPush,
    xmpp: resolveXmppConfig(input.xmpp ?? {}),
    iec104: resolveIec104Config(input.iec104 ?? {}),
    ledger,
    fabric: resolveFabricConfig(input.fabric ?? {}, ledger),
    programs: Object.freeze(programs),
    host: text(input.host ?? DEFAULTS.host, 'host'),
    port: int(input.port ?? DEFAULTS.port, 'port', 0, 65_535),
    adminPort: input.adminPort === undefined ? undefined : int(input.adminPort, 'adminPort', 0, 65_535),
    insecureHttp,
    tlsHandshakeTimeoutMs: int(input.tlsHandshakeTimeoutMs ?? DEFAULTS.tlsHandshakeTimeoutMs, 'tlsHandshakeTimeoutMs', 100, 600_000),
    operationsAccess,
    metricsCacheMs: int(input.metricsCacheMs ?? DEFAULTS.metricsCacheMs, 'metricsCacheMs', 0, 3_600_000),
    shutdownGraceMs: int(input.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs, 'shutdownGraceMs', 0, 600_000),
    ledgerOutboxReadyLimit: int(input.ledgerOutboxReadyLimit ?? DEFAULTS.ledgerOutboxReadyLimit, 'ledgerOutboxReadyLimit', 1, 1_000_000_000),
    claimVoltageLLV: int(input.claimVoltageLLV ?? DEFAULTS.claimVoltageLLV, 'claimVoltageLLV', 1, 1_000_000),
    claimVoltageLNV: int(input.claimVoltageLNV ?? DEFAULTS.claimVoltageLNV, 'claimVoltageLNV', 1, 1_000_000),
    optCoalesceMs: int(input.optCoalesceMs ?? DEFAULTS.optCoalesceMs, 'optCoalesceMs', 0, 3_600_000),
    adminAuthFailuresPerMinute: int(input.adminAuthFailuresPerMinute ?? DEFAULTS.adminAuthFailuresPerMinute, 'adminAuthFailuresPerMinute', 1, 1_000_000),
    adminRequestsPerMinute: int(input.adminRequestsPerMinute ?? DEFAULTS.adminRequestsPerMinute, 'adminRequestsPerMinute', 1, 100_000_000),
  });
}

/** undefined (SQLite) or a postgres:// URL. */
function storeUrl(v: unknown): string | undefined {
  if (v === undefined || v === 'sqlite') return undefined;
  let url: URL | undefined;
  try {
    url = typeof v === 'string' ? new URL(v) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') {
    bad('store', `must be 'sqlite' or a PostgreSQL URL like postgres://vtn@db.example:5432/oadr, got ${JSON.stringify(typeof v === 'string' ? v.replace(/:[^:@/]*@/, ':***@') : v)}`);
  }
  return v as string;
}

function oneOf<T extends string>(v: unknown, options: readonly T[], key: string, fail: Complain = bad): T {
  if (!options.includes(v as T)) fail(key, `must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function bool(v: unknown, key: string, fail: Complain = bad): boolean {
  if (typeof v !== 'boolean') fail(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function hosts(v: unknown, key: string): string[] {
  if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || h === '')) bad(key, `must be a list of host names or IP addresses, got ${JSON.stringify(v)}`);
  return (v as string[]).map((h) => h.replace(/^\[|\]$/g, '').toLowerCase());
}
