/**
 * `oadr-ledger ven`: runs one VEN against a VTN until SIGINT/SIGTERM. The lead wires
 * `runVenCommand` into cli/main.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBatterySimulator, type BatterySimulator } from './devices/battery-sim.ts';
import type { Device } from './devices/device.ts';
import { createMqttDevice } from './devices/mqtt-device.ts';
import { createSunSpecDevice } from './devices/sunspec-device.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { isLoopbackHost } from './http-transport.ts';
import type { VenLogger } from './session.ts';
import { createVen, type Ven, type VenOptions } from './ven.ts';

export const VEN_USAGE = `Usage: oadr-ledger ven --vtn-url URL --ven-name NAME [--device sim-battery | modbus://HOST:PORT | mqtt://HOST:PORT]
                      [--config FILE] [--data-dir DIR] [--push HOST:PORT] [--cert FILE --key FILE --ca FILE [--xml-signature]]

Runs an OpenADR 2.0b VEN: registers with the VTN, polls it (or takes pushes with --push), answers
events with opt decisions, drives the device during events and sends 15-minute telemetry.

  --vtn-url URL     VTN base URL (https://…; plain http:// only to a loopback address)
  --ven-name NAME   oadrVenName
  --device DEV      sim-battery (default: a SunSpec battery simulator on loopback),
                    modbus://HOST:PORT (SunSpec storage over Modbus TCP), mqtt://HOST:PORT
  --config FILE     JSON with further VEN options (resourceId, marketContexts, signals, opt, reports,
                    pollIntervalMs, tickMs, device limits: maxChargeW, maxDischargeW)
  --data-dir DIR    where the outbox and state live (default ./data/ven-NAME)
  --push HOST:PORT  HTTP push: listen here and register it as oadrTransportAddress (HTTPS with the
                    certificate below, requiring the VTN's client certificate)
  --cert FILE       the VEN's certificate chain (PEM, e.g. <pki>/openadr/ven/ven-ecc/chain.pem); required for https://
  --key FILE        its private key (PEM)
  --ca FILE         the OpenADR roots the VTN's certificate must chain to (e.g. <pki>/openadr/ca-bundle.pem)
  --xml-signature   sign every payload with --cert/--key and ignore VTN payloads not signed by the VTN's
                    TLS certificate (R514, like the VTN's --xml-signature)
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
}

interface FileConfig extends Partial<Omit<VenOptions, 'device' | 'vtnUrl' | 'venName' | 'dataDir' | 'log' | 'clock' | 'random' | 'transport'>> {
  readonly maxChargeW?: number;
  readonly maxDischargeW?: number;
}

function hostPort(spec: string, what: string): { host: string; port: number } {
  const u = new URL(spec.includes('://') ? spec : `tcp://${spec}`);
  const port = Number(u.port);
  if (u.hostname === '' || !Number.isInteger(port) || port <= 0) throw new VenError(VenErrorCode.INVALID_CONFIG, `${what} ${spec} needs HOST:PORT`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
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
        device: { type: 'string', default: 'sim-battery' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        push: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'xml-signature': { type: 'boolean' },
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
  const vtnUrl = values['vtn-url'];
  const venName = values['ven-name'];
  if (vtnUrl === undefined || venName === undefined) {
    err(`--vtn-url and --ven-name are required\n\n${VEN_USAGE}`);
    return 2;
  }
  let sim: BatterySimulator | undefined;
  let simTimer: ReturnType<typeof setInterval> | undefined;
  try {
    const u = new URL(vtnUrl);
    if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
      throw new VenError(VenErrorCode.INVALID_CONFIG, `plain HTTP to ${u.hostname} is refused: OpenADR requires TLS (§9.2); use https:// (plain http:// is for loopback tests only)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VenError(VenErrorCode.INVALID_CONFIG, `--vtn-url ${vtnUrl} is not an http(s) URL`);
    const tlsFiles = [values.cert, values.key, values.ca];
    if (u.protocol === 'https:' && tlsFiles.some((f) => f === undefined)) {
      throw new VenError(VenErrorCode.INVALID_CONFIG, 'an https:// VTN needs --cert, --key and --ca (mutual TLS, §9.2.1.1); the dev PKI has them under <pki>/openadr/');
    }
    const tls = values.cert !== undefined && values.key !== undefined && values.ca !== undefined
      ? { cert: readFileSync(values.cert, 'utf8'), key: readFileSync(values.key, 'utf8'), ca: readFileSync(values.ca, 'utf8') }
      : undefined;
    if (values['xml-signature'] === true && tls === undefined) {
      throw new VenError(VenErrorCode.INVALID_CONFIG, '--xml-signature needs --cert, --key and --ca: the VEN signs with its TLS certificate');
    }
    const config: FileConfig = values.config === undefined ? {} : (JSON.parse(readFileSync(values.config, 'utf8')) as FileConfig);
    const limits = { maxChargeW: config.maxChargeW ?? 5000, maxDischargeW: config.maxDischargeW ?? 5000 };
    const spec = values.device ?? 'sim-battery';
    let device: Device;
    if (spec === 'sim-battery') {
      sim = await createBatterySimulator({ capacityWh: 10_000, socPct: 60, maxChargeW: limits.maxChargeW, maxDischargeW: limits.maxDischargeW, rampWPerS: 2000 });
      const s = sim;
      simTimer = setInterval(() => s.step(1000), 1000);
      simTimer.unref();
      device = createSunSpecDevice({ host: sim.host, port: sim.port });
    } else if (spec.startsWith('modbus://')) {
      device = createSunSpecDevice({ ...hostPort(spec, '--device'), maxChargeW: limits.maxChargeW, maxDischargeW: limits.maxDischargeW });
    } else if (spec.startsWith('mqtt://') || spec.startsWith('mqtts://')) {
      device = createMqttDevice({ url: spec, site: venName, device: 'inverter', limits });
    } else {
      throw new VenError(VenErrorCode.INVALID_CONFIG, `--device ${spec}: use sim-battery, modbus://HOST:PORT or mqtt://HOST:PORT`);
    }
    // The logger comes from cli/ (one per process); without one the VEN runs silent.
    const log: VenLogger = io.log ?? { info() {}, warn() {}, debug() {} };
    const { maxChargeW: _c, maxDischargeW: _d, ...venConfig } = config;
    const ven = await createVen({
      ...venConfig,
      vtnUrl,
      venName,
      device,
      dataDir: values['data-dir'] ?? join('data', `ven-${venName}`),
      ...(values.push === undefined ? {} : { push: hostPort(values.push, '--push') }),
      ...(tls === undefined ? {} : { tls }),
      ...(values['xml-signature'] === true ? { xmlSignature: true } : {}),
      log,
      ...(io.clock === undefined ? {} : { clock: io.clock }),
    });
    await ven.start();
    io.onStarted?.(ven);
    out(`VEN ${venName} started against ${vtnUrl}${ven.pushUrl() === undefined ? ' (HTTP pull)' : ` (HTTP push at ${ven.pushUrl()})`}\n`);
    await new Promise<void>((resolve) => {
      if (io.signal !== undefined) {
        if (io.signal.aborted) resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
      } else {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }
    });
    await ven.stop();
    return 0;
  } catch (e) {
    err(`${(e as Error).message}\n`);
    return 1;
  } finally {
    if (simTimer !== undefined) clearInterval(simTimer);
    await sim?.close();
  }
}
