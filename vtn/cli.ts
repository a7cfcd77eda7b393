/**
 * `oadr-ledger vtn`: runs the VTN until SIGTERM/SIGINT. The lead's cli/ merges the config file,
 * `OADR_*` environment and flags; `runVtnCommand` also reads the flags itself so it works alone.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { resolveVtnConfig, type VtnConfigInput } from './config.ts';
import { VtnError } from './errors.ts';
import { openVtnLedger, type VtnLedger } from './ledger-embedded.ts';
import { createMappingLedgerPort } from './ledger-mapping-port.ts';
import { startLedgerScheduler, type LedgerScheduler } from './ledger-scheduler.ts';
import type { Logger } from './logger.ts';
import { createVtn, type Vtn } from './vtn.ts';

export const VTN_USAGE = `Usage: oadr-ledger vtn [--config FILE] [--data-dir DIR] [--port N] [--admin-port N] [--insecure-http] [--no-ledger]

  --config FILE      configuration (JSON); flags override it
  --data-dir DIR     directory of the VTN store and of the embedded ledger (DIR/ledger; default ./data)
  --no-ledger        run without the ledger (events only with per-VEN values; labs and tests)
  --port N           OpenADR port (default 8080)
  --admin-port N     separate port for the admin API, /docs and /metrics (default: the OpenADR port, under /api/v1)
  --insecure-http    plain HTTP on 127.0.0.1 only, for tests and demos (TLS comes with the certs issue)

Stops gracefully on SIGTERM or SIGINT. Exit codes: 0 stopped, 1 failed, 2 usage error.
`;

export interface VtnCommandIo {
  /** An already merged configuration (file < OADR_* env < flags); flags given here still override it. */
  readonly config?: VtnConfigInput;
  readonly logger?: Logger;
  readonly stderr?: (s: string) => void;
  /** OADR_ADMIN_TOKEN, read from the environment by cli/; without it a token is generated at first start and printed once. */
  readonly adminToken?: string;
  /** Resolves when the VTN must stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function onSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export async function runVtnCommand(argv: string[], io: VtnCommandIo = {}): Promise<number> {
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        'insecure-http': { type: 'boolean' },
        'no-ledger': { type: 'boolean' },
      },
    }));
  } catch (e) {
    err(`oadr-ledger vtn: ${(e as Error).message}\n\n${VTN_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(VTN_USAGE);
    return 0;
  }
  let config: Record<string, unknown> = { ...(io.config ?? {}) };
  if (values.config !== undefined) {
    try {
      config = { ...(JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>), ...config };
    } catch (e) {
      err(`oadr-ledger vtn: cannot read the configuration ${values.config}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const port = (s: string | undefined, flag: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new VtnError('INVALID_CONFIG', `--${flag} must be a port number, got '${s}'`);
    return n;
  };
  try {
    if (values['data-dir'] !== undefined) config.dataDir = values['data-dir'];
    const p = port(values.port, 'port');
    if (p !== undefined) config.port = p;
    const a = port(values['admin-port'], 'admin-port');
    if (a !== undefined) config.adminPort = a;
  } catch (e) {
    err(`oadr-ledger vtn: ${(e as Error).message}\n`);
    return 2;
  }
  if (values['insecure-http'] === true) config.insecureHttp = true;
  const logger: Logger = io.logger ?? (pino({ name: 'oadr-ledger', redact: ['req.headers.authorization'] }) as unknown as Logger);
  if (config.insecureHttp !== true) {
    err('oadr-ledger vtn: TLS is not available yet (it comes with the certificates issue); run with --insecure-http for a loopback-only plain-HTTP VTN\n');
    return 2;
  }
  const host = typeof config.host === 'string' ? config.host : '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    logger.warn({ host }, 'plain HTTP never binds beyond loopback: binding 127.0.0.1 instead');
  }
  config.host = LOOPBACK.has(host) ? host : '127.0.0.1';
  let vtn: Vtn | undefined;
  let ledger: VtnLedger | undefined;
  let scheduler: LedgerScheduler | undefined;
  const closeLedger = async (): Promise<void> => {
    await scheduler?.stop();
    await ledger?.close();
  };
  try {
    const dataDir = resolveVtnConfig(config as VtnConfigInput).dataDir;
    if (values['no-ledger'] === true || dataDir === ':memory:') {
      logger.warn({ dataDir }, 'running without the ledger: events need per-VEN values, telemetry is not recorded on a ledger');
    } else {
      // The embedded ledger under DIR/ledger with the VTN's operator and retailer identities (created on first start).
      ledger = await openVtnLedger({ dataDir });
      logger.info({ ledgerDir: `${dataDir}/ledger`, height: await ledger.ledger.height() }, 'embedded ledger open');
    }
    const meterOf = (customerId: string): string => vtn?.customers.get(customerId)?.meterId ?? customerId;
    const customerOf = (meterId: string): string => vtn?.customers.list().find((c) => (c.meterId ?? c.customerId) === meterId)?.customerId ?? meterId;
    const port = ledger === undefined ? undefined : createMappingLedgerPort({ mapping: ledger.mapping, ledger: ledger.ledger, meterOf, customerOf, log: logger });
    vtn = createVtn({
      config: config as VtnConfigInput,
      logger,
      ...(port === undefined ? {} : { ledger: port }),
      ...(io.adminToken === undefined || io.adminToken === '' ? {} : { adminToken: io.adminToken }),
      onAdminTokenGenerated: (token) => err(`oadr-ledger vtn: admin API token (operator), shown only this once; keep it or set OADR_ADMIN_TOKEN:\n  ${token}\n`),
    });
    if (port !== undefined) scheduler = startLedgerScheduler({ events: vtn.events, port, log: logger });
  } catch (e) {
    await closeLedger().catch(() => {});
    err(`oadr-ledger vtn: ${(e as Error).message}\n`);
    return e instanceof VtnError && e.code === 'INVALID_CONFIG' ? 2 : 1;
  }
  try {
    const url = await vtn.listen();
    logger.warn(
      { url, insecureHttp: true },
      '!!! INSECURE: the VTN speaks plain HTTP without TLS or client certificates; for tests and demos on this machine only !!!',
    );
    logger.info({ url, dataDir: vtn.config.dataDir, vtnId: vtn.config.vtnId }, 'VTN listening');
    await (io.stopSignal ?? onSignal());
    logger.info({}, 'stopping the VTN');
    await vtn.close();
    await closeLedger();
    return 0;
  } catch (e) {
    logger.error({ err: e }, 'the VTN failed');
    await vtn.close().catch(() => {});
    await closeLedger().catch(() => {});
    return 1;
  }
}
