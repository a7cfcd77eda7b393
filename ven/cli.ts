/**
 * `oadr-ledger ven`: runs one VEN against a VTN until SIGINT/SIGTERM. The lead wires
 * `runVenCommand` into cli/main.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBatterySimulator, type BatterySimulator } from './devices/battery-sim.ts';
import { Metering, type Device, type MeteringValue } from './devices/device.ts';
import { createHouseholdSim } from './devices/household-sim.ts';
import { createMqttDevice } from './devices/mqtt-device.ts';
import { createSimulatedSite } from './devices/sim-site.ts';
import { createSunSpecDevice } from './devices/sunspec-device.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { isLoopbackHost } from './http-transport.ts';
import type { VenLogger } from './session.ts';
import { createVen, type Ven, type VenOptions } from './ven.ts';
import { createXmppClient, splitJid, type XmppClient } from '../xmpp/index.ts';

export const VEN_USAGE = `Usage: oadr-ledger ven --vtn-url URL --ven-name NAME [--device sim-site | modbus://HOST:PORT | mqtt://HOST:PORT]
                      [--config FILE] [--data-dir DIR] [--push HOST:PORT] [--cert FILE --key FILE --ca FILE [--xml-signature]]
       oadr-ledger ven --transport xmpp --xmpp-url xmpp://HOST[:PORT] --ven-jid LOCAL@DOMAIN[/RESOURCE] --ven-name NAME
                      [--vtn-jid JID] [--cert FILE --key FILE [--xml-signature]] [--ca FILE] [--device …] [--config FILE] [--data-dir DIR]

Runs an OpenADR 2.0b VEN: registers with the VTN, polls it (or takes pushes with --push), answers
events with opt decisions, drives the device during events and sends 15-minute telemetry.

  --vtn-url URL     the VTN's base URL with its scheme: https://HOST:PORT/ (plus the VTN's path prefix,
                    if it has one); plain http:// only to a loopback address (a VTN started with
                    --insecure-http: http://127.0.0.1:8080/)
  --ven-name NAME   oadrVenName
  --device DEV      sim-site (default; sim-battery is the same): a simulated site, a household load
                    and a SunSpec battery simulator on loopback behind one meter, the meter reported;
                    modbus://HOST:PORT (SunSpec storage over Modbus TCP: reads only the inverter, so
                    no usage report is offered); mqtt://HOST:PORT (the device's own power unless the
                    config says "metering": "site")
  --config FILE     YAML (.yaml/.yml) or JSON with further VEN options (resourceId, marketContexts, signals, opt, reports,
                    pollIntervalMs, tickMs, device limits: maxChargeW, maxDischargeW; metering for
                    mqtt://; site.loadW for sim-site: W, or W per equal slot of a UTC day)
  --data-dir DIR    where the outbox and state live (default ./data/ven-NAME)
  --push HOST:PORT  HTTP push: listen here and register it as oadrTransportAddress (HTTPS with the
                    certificate below, requiring the VTN's client certificate)
  --cert FILE       the VEN's certificate chain (PEM, e.g. <pki>/openadr/ven/ven-ecc/chain.pem); required for https://
  --key FILE        its private key (PEM)
  --ca FILE         the OpenADR roots the VTN's certificate must chain to (e.g. <pki>/openadr/ca-bundle.pem)
  --xml-signature   sign every payload with --cert/--key and ignore VTN payloads not signed by the VTN's
                    TLS certificate (R514, like the VTN's --xml-signature); over XMPP, not signed by the
                    certificate of the VTN's first accepted signature
  --transport T     http (default) or xmpp (R507: the VTN pushes over XMPP; no inbound port needed)
  --xmpp-url URL    the XMPP server (STARTTLS, TLS 1.2 or later); config file: "xmppUrl"
  --ven-jid JID     the VEN's JID, its oadrTransportAddress (resource 'ven' when none is given); with
                    --cert/--key SASL EXTERNAL (the CN is the local part), else SCRAM with
                    OADR_XMPP_PASSWORD (development); --ca: the server's CA. Config file: "venJid"
  --vtn-jid JID     the VTN's full JID (default: discovered on the server, XEP-0030); config file: "vtnJid"

A VTN that answers HTTP 404 serves no OpenADR at that URL: the VEN stops (not retried) and exits 1.
Other failures are retried with a back-off, one log line each. While an event runs the VEN logs one
line per 15-minute slot: power target, measured power, state of charge (storage).
Exit codes: 0 stopped, 1 failed, 2 usage or configuration error.
`;

export interface VenCommandIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Stops the VEN when aborted (default: SIGINT / SIGTERM). */
  readonly signal?: AbortSignal;
  readonly log?: VenLogger;
  /** Test seam: the VEN's clock in ms (default `Date.now`), e.g. a fake clock shared with a VTN under test. */
  readonly clock?: () => number;
  /** Test seam: called once the VEN has started, with the running VEN (to tick it or read its status). */
  readonly onStarted?: (ven: Ven) => void;
  /** OADR_XMPP_PASSWORD, read by cli/: SCRAM for the XMPP connection when no certificate is given. */
  readonly xmppPassword?: string;
  /** Reads the --config file (cli/ reads YAML and JSON); default: JSON. */
  readonly readConfig?: (path: string) => Record<string, unknown>;
}

interface FileConfig extends Partial<Omit<VenOptions, 'device' | 'vtnUrl' | 'venName' | 'dataDir' | 'log' | 'clock' | 'random' | 'transport' | 'xmpp'>> {
  /** `http` (default) or `xmpp`; flags override these. */
  readonly transport?: string;
  readonly xmppUrl?: string;
  readonly venJid?: string;
  readonly vtnJid?: string;
  readonly maxChargeW?: number;
  readonly maxDischargeW?: number;
  /** mqtt://: what the measurement is (default `device`). */
  readonly metering?: MeteringValue;
  /** sim-site: the household load, W (constant) or W per equal slot of a UTC day (default 800 W). */
  readonly site?: { readonly loadW?: number | readonly number[] };
}

/** The CLI names of the simulated site; `sim-battery` is the older name of the same device. */
export const SIM_SITE_DEVICES: readonly string[] = ['sim-site', 'sim-battery'];
const DEFAULT_SITE_LOAD_W = 800;

/** The household load of `sim-site`: a constant, or a profile of equal slots over a UTC day, repeated. */
function siteLoad(spec: number | readonly number[] | undefined, clock: () => number): (atMs: number) => number {
  const profile = typeof spec === 'number' ? [spec] : [...(spec ?? [DEFAULT_SITE_LOAD_W])];
  if (profile.length === 0 || 1440 % profile.length !== 0) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, `site.loadW has ${profile.length} values; give one W value, or one per equal slot of a day (a divisor of 1440: 24, 48, 96, …)`);
  }
  const household = createHouseholdSim({ startMs: 0, slotMinutes: 1440 / profile.length, fixedLoadW: profile, now: clock });
  return (atMs) => household.powerW(atMs);
}

function hostPort(spec: string, what: string): { host: string; port: number } {
  const u = new URL(spec.includes('://') ? spec : `tcp://${spec}`);
  const port = Number(u.port);
  if (u.hostname === '' || !Number.isInteger(port) || port <= 0) throw new VenError(VenErrorCode.INVALID_CONFIG, `${what} ${spec} needs HOST:PORT`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** What a VTN URL looks like, for the messages about --vtn-url. */
const VTN_URL_HINT =
  "give the VTN's base URL with its scheme, e.g. https://vtn.example.com:8080/ (a VTN started with --insecure-http: http://127.0.0.1:8080/); the VEN appends OpenADR2/Simple/2.0b/<service>";

/** --vtn-url checked: an http(s) URL, plain HTTP only to loopback (§9.2). */
function vtnUrlOf(spec: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(spec);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new VenError(VenErrorCode.INVALID_CONFIG, `--vtn-url ${spec} is not an http(s) URL: ${VTN_URL_HINT}`);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, `plain HTTP to ${u.hostname} is refused: OpenADR requires TLS (§9.2); use https:// (plain http:// is for loopback tests only)`);
  }
  return u;
}

/** A file named by an option, read; one that cannot be read is a usage error (exit 2). */
function readOption(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, `${flag} ${file} cannot be read: ${(err as Error).message}`, {}, { cause: err });
  }
}

export async function runVenCommand(argv: readonly string[], io: VenCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'vtn-url': { type: 'string' },
        'ven-name': { type: 'string' },
        device: { type: 'string', default: 'sim-site' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        push: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'xml-signature': { type: 'boolean' },
        transport: { type: 'string' },
        'xmpp-url': { type: 'string' },
        'ven-jid': { type: 'string' },
        'vtn-jid': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${VEN_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    out(VEN_USAGE);
    return 0;
  }
  const venName = values['ven-name'];
  let fileConfig: FileConfig;
  try {
    fileConfig = values.config === undefined ? {} : ((io.readConfig ?? ((path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>))(values.config) as FileConfig);
  } catch (e) {
    err(`cannot read the configuration ${values.config ?? ''}: ${(e as Error).message}\n`);
    return 2;
  }
  const transport = values.transport ?? fileConfig.transport ?? 'http';
  if (transport !== 'http' && transport !== 'xmpp') {
    err(`--transport must be http or xmpp, got '${transport}'\n\n${VEN_USAGE}`);
    return 2;
  }
  const xmppUrl = values['xmpp-url'] ?? fileConfig.xmppUrl;
  const venJid = values['ven-jid'] ?? fileConfig.venJid;
  const vtnJid = values['vtn-jid'] ?? fileConfig.vtnJid;
  if (transport === 'xmpp' && (xmppUrl === undefined || venJid === undefined || venName === undefined)) {
    err(`--transport xmpp needs --xmpp-url, --ven-jid and --ven-name\n\n${VEN_USAGE}`);
    return 2;
  }
  const vtnUrl = transport === 'xmpp' ? 'xmpp:' : values['vtn-url'];
  if (vtnUrl === undefined || venName === undefined) {
    err(`--vtn-url and --ven-name are required\n\n${VEN_USAGE}`);
    return 2;
  }
  let sim: BatterySimulator | undefined;
  try {
    const u = transport === 'xmpp' ? new URL('https://xmpp.invalid/') : vtnUrlOf(vtnUrl);
    const xmpp = transport === 'xmpp' ? venXmppClient({ url: xmppUrl ?? '', jid: venJid ?? '', cert: values.cert, key: values.key, ca: values.ca, password: io.xmppPassword, log: io.log }) : undefined;
    const tlsFiles = xmpp === undefined ? [values.cert, values.key, values.ca] : [];
    if (u.protocol === 'https:' && tlsFiles.some((f) => f === undefined)) {
      throw new VenError(VenErrorCode.INVALID_CONFIG, 'an https:// VTN needs --cert, --key and --ca (mutual TLS, §9.2.1.1); the dev PKI has them under <pki>/openadr/');
    }
    const tls = xmpp === undefined && values.cert !== undefined && values.key !== undefined && values.ca !== undefined
      ? { cert: readOption('--cert', values.cert), key: readOption('--key', values.key), ca: readOption('--ca', values.ca) }
      : // Over XMPP the certificate and key sign (R514); the connection has them already.
        xmpp !== undefined && values['xml-signature'] === true && values.cert !== undefined && values.key !== undefined
        ? { cert: readOption('--cert', values.cert), key: readOption('--key', values.key) }
        : undefined;
    if (values['xml-signature'] === true && tls === undefined) {
      throw new VenError(VenErrorCode.INVALID_CONFIG, `--xml-signature needs ${xmpp === undefined ? '--cert, --key and --ca' : '--cert and --key'}: the VEN signs with its TLS certificate`);
    }
    const config: FileConfig = fileConfig;
    const limits = { maxChargeW: config.maxChargeW ?? 5000, maxDischargeW: config.maxDischargeW ?? 5000 };
    const spec = values.device ?? 'sim-site';
    const clock = io.clock ?? Date.now;
    let device: Device;
    if (SIM_SITE_DEVICES.includes(spec)) {
      // The battery's physics and the household load run on the VEN's clock (they catch up on every read).
      const loadW = siteLoad(config.site?.loadW, clock);
      sim = await createBatterySimulator({ capacityWh: 10_000, socPct: 60, maxChargeW: limits.maxChargeW, maxDischargeW: limits.maxDischargeW, rampWPerS: 2000, clock });
      device = createSimulatedSite({ battery: createSunSpecDevice({ host: sim.host, port: sim.port }), loadW, clock });
    } else if (spec.startsWith('modbus://')) {
      device = createSunSpecDevice({ ...hostPort(spec, '--device'), maxChargeW: limits.maxChargeW, maxDischargeW: limits.maxDischargeW });
    } else if (spec.startsWith('mqtt://') || spec.startsWith('mqtts://')) {
      if (config.metering !== undefined && !Object.values(Metering).includes(config.metering)) {
        throw new VenError(VenErrorCode.INVALID_CONFIG, `metering ${JSON.stringify(config.metering)}: use "site" (the measurement is the connection point) or "device"`);
      }
      device = createMqttDevice({ url: spec, site: venName, device: 'inverter', limits, metering: config.metering });
    } else {
      throw new VenError(VenErrorCode.INVALID_CONFIG, `--device ${spec}: use sim-site, modbus://HOST:PORT or mqtt://HOST:PORT`);
    }
    // The logger comes from cli/ (one per process); without one the VEN runs silent.
    const log: VenLogger = io.log ?? { info() {}, warn() {}, debug() {} };
    const { maxChargeW: _c, maxDischargeW: _d, metering: _m, site: _s, transport: _t, xmppUrl: _u, venJid: _j, vtnJid: _v, ...venConfig } = config;
    let gaveUp: ((e: VenError) => void) | undefined;
    const givenUp = new Promise<VenError>((resolve) => (gaveUp = resolve));
    const ven = await createVen({
      ...venConfig,
      vtnUrl,
      venName,
      device,
      dataDir: values['data-dir'] ?? join('data', `ven-${venName}`),
      ...(values.push === undefined ? {} : { push: hostPort(values.push, '--push') }),
      ...(tls === undefined ? {} : { tls }),
      ...(values['xml-signature'] === true ? { xmlSignature: true } : {}),
      ...(xmpp === undefined ? {} : { xmpp: { client: xmpp, vtnJid } }),
      log,
      clock,
      onGiveUp: (e) => gaveUp?.(e),
    });
    await ven.start();
    io.onStarted?.(ven);
    const how = xmpp !== undefined ? ` (XMPP as ${xmpp.jid() ?? venJid ?? ''})` : ven.pushUrl() === undefined ? ' (HTTP pull)' : ` (HTTP push at ${ven.pushUrl()})`;
    out(`VEN ${venName} started against ${xmpp === undefined ? vtnUrl : (xmppUrl ?? '')}${how}\n`);
    const stopped = new Promise<undefined>((resolve) => {
      if (io.signal !== undefined) {
        if (io.signal.aborted) resolve(undefined);
        io.signal.addEventListener('abort', () => resolve(undefined), { once: true });
      } else {
        process.once('SIGINT', () => resolve(undefined));
        process.once('SIGTERM', () => resolve(undefined));
      }
    });
    const failure = await Promise.race([stopped, givenUp]);
    await ven.stop();
    if (failure !== undefined) {
      err(`oadr-ledger ven: the VTN answered HTTP 404 at ${vtnUrl}: no OpenADR 2.0b service there; check --vtn-url (${VTN_URL_HINT})\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    err(`${(e as Error).message}\n`);
    // Exit codes (README): a usage or configuration error 2, a failure while running 1.
    return e instanceof VenError && e.code === VenErrorCode.INVALID_CONFIG ? 2 : 1;
  } finally {
    await sim?.close();
  }
}

/** The VEN's XMPP connection: SASL EXTERNAL with --cert/--key (CN = the JID's local part), else SCRAM with the password. */
function venXmppClient(o: { url: string; jid: string; cert: string | undefined; key: string | undefined; ca: string | undefined; password: string | undefined; log: VenLogger | undefined }): XmppClient {
  const { local, domain, resource } = splitJid(o.jid);
  if (local === '' || domain === '') throw new VenError(VenErrorCode.INVALID_CONFIG, `--ven-jid ${o.jid} must be local@domain[/resource]`);
  const withCert = o.cert !== undefined && o.key !== undefined;
  if (!withCert && o.password === undefined) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, 'the XMPP connection needs --cert and --key (SASL EXTERNAL) or, for development, OADR_XMPP_PASSWORD');
  }
  return createXmppClient({
    url: o.url,
    jid: `${local}@${domain}`,
    // §9.3.4.1: a resource the VEN chooses, so that its registered JID stays the same across reconnections.
    resource: resource ?? 'ven',
    tls: {
      ...(o.ca === undefined ? {} : { ca: readFileSync(o.ca, 'utf8') }),
      ...(withCert ? { cert: readFileSync(o.cert ?? '', 'utf8'), key: readFileSync(o.key ?? '', 'utf8') } : {}),
    },
    auth: withCert ? { mechanism: 'EXTERNAL' } : { mechanism: 'SCRAM-SHA-1', password: o.password ?? '' },
    log: o.log,
  });
}
