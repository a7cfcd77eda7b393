/**
 * The folder cli/ is the VTN's configuration (config.ts: defaults, validation, frozen config) and its
 * command. It may depend on everything in vtn/ and on ledger-bridge/ and certs/ (their index).
 *
 * `oadr-ledger vtn`: runs the VTN until SIGTERM/SIGINT. The top-level cli/ merges the config file,
 * `OADR_*` environment and flags; `runVtnCommand` also reads the flags itself so it works alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { resolveVtnConfig, type VtnConfigInput } from './config.ts';
import { ledgerUnreachable, VtnError } from '../errors.ts';
import { openVtnLedger, type VtnLedger } from '../ledger/embedded.ts';
import { openFabricVtnLedger, type FabricVtnLedger } from '../ledger/fabric.ts';
import { createMappingLedgerPort, customerLookups, knownRetailers } from '../ledger/mapping-port.ts';
import { LEDGER_LEASE, startLedgerScheduler, type LedgerScheduler } from '../ledger/scheduler.ts';
import { checkStoreFiles, checkStoresAgree, deferLedgerPort, type DeferredLedgerPort } from '../ledger/startup-check.ts';
import type { MappingLedgerPort } from '../ledger/mapping-port.ts';
import type { Logger } from '../operations/logger.ts';
import type { CrashPointName } from '../services/context.ts';
import { ensureVtnPki, loadVtnPki, VTN_PKI_DIR, type VtnPki } from '../tls/pki.ts';
import { createVtn } from '../vtn.ts';
import { adminTokenPath, keepAdminToken, startBanner, tokenSource, type TokenSource } from './start-banner.ts';
import type { Vtn } from '../vtn-api.ts';
import { createXmppClient, type XmppClient } from '../../xmpp/index.ts';
import type { XmppConfig } from './config.ts';

export const VTN_USAGE = `Usage: oadr-ledger vtn [--config FILE] [--data-dir DIR] [--store postgres://…] [--port N] [--admin-port N] [--pki DIR] [--xml-signature]
                      [--tls-min-version V] [--tls-max-version V] [--tls-ciphers LIST] [--insecure-http] [--no-ledger]
                      [--verify-own-signatures] [--repair]
                      [--ledger fabric --fabric-profile FILE --fabric-identity DIR [--fabric-retailers DIR]
                       [--fabric-channel C] [--fabric-chaincode N] [--fabric-wait-for-commit]]
                      [--xmpp-url xmpp://HOST[:PORT] --xmpp-jid LOCAL@DOMAIN [--xmpp-cert FILE --xmpp-key FILE] [--xmpp-ca FILE]]
                      [--iec104-port N [--iec104-host HOST]]

Serves HTTPS with mutual TLS by default (TLS 1.2, ECDHE-ECDSA-AES128-SHA256 and AES128-SHA256, R67):
every VEN presents a client certificate from the OpenADR roots of the PKI; its fingerprint is bound
to its venID at registration (R517).

  --config FILE      configuration (YAML for .yaml/.yml, else JSON); flags override it
  --data-dir DIR     directory of the VTN store and of the embedded ledger (DIR/ledger; default ./data)
  --store URL        the VTN store: 'sqlite' (default, DIR/vtn.sqlite) or postgres://USER@HOST:PORT/DB,
                     shared by several VTN processes behind a load balancer (docs/deployment.md);
                     the password from OADR_STORE_PASSWORD_FILE (or the URL). A VTN on PostgreSQL
                     runs with --ledger fabric (the mapping store then in the same database) or
                     --no-ledger: the embedded ledger is one process's
  --no-ledger        run without the ledger (events only with per-VEN values; labs and tests)
  --verify-own-signatures
                     the embedded ledger verifies with ECDSA even the signatures it made itself
                     (default: checked against its memo of them; docs/ledger.md)
  --ledger KIND      embedded (default: DIR/ledger in the process) or fabric (a Hyperledger Fabric
                     network through its gateway peer; docs/fabric.md)
  --fabric-profile FILE
                     the network's common connection profile (JSON or YAML, connection-org1.json's
                     format): the VTN's organisation (client.organization), its first peer, the TLS CA
  --fabric-identity DIR
                     the VTN's MSP folder (signcerts/, keystore/): the system operator, ID=operator:…
  --fabric-retailers DIR
                     one folder per retailer id with its identity (ID=retailer:<id>), 'vtn' for the
                     customers that name no retailer (default DIR/fabric-retailers of --data-dir)
  --fabric-channel C, --fabric-chaincode N
                     default: the profile's first channel (else mychannel), and oadr-dr
  --fabric-wait-for-commit
                     after each transaction, wait until the other organisations' peers of the
                     profile have its block (their gateways' qscc), before the next step
  --repair           start although the VTN store lacks events the ledger holds (a lost WAL):
                     re-create them from their allocations on the ledger. Without it such a start
                     is refused; a damaged store file or a ledger that lost blocks is always refused
  --port N           OpenADR port (default 8080)
  --admin-port N     separate port for the admin API, /docs and /metrics (default: the OpenADR port, under /api/v1)
  --pki DIR          PKI made by 'oadr-ledger certs init' (default DIR/pki of --data-dir, created at first start)
  --xml-signature    high security (R514): verify every payload's XML signature, sign every answer
  --tls-min-version V, --tls-max-version V, --tls-ciphers LIST
                     an explicit deployment change of the TLS 1.2 profile (§10.4), e.g. TLSv1.3
  --insecure-http    plain HTTP on 127.0.0.1 only, for tests and demos
  --xmpp-url URL     also serve OpenADR over XMPP (R38, R507; docs/xmpp.md): one client connection
                     to this server (STARTTLS, TLS 1.2 or later), as --xmpp-jid with resource 'vtn'
  --xmpp-jid JID     the VTN's XMPP account, local@domain
  --xmpp-cert FILE, --xmpp-key FILE
                     client certificate and key for SASL EXTERNAL (the CN is the JID's local part);
                     without them SCRAM with OADR_XMPP_PASSWORD (or OADR_XMPP_PASSWORD_FILE), for development
  --xmpp-ca FILE     CA the XMPP server's certificate must chain to (default: the system's roots)
  --iec104-port N    also serve the aggregate as a UVAM to a TSO over IEC 60870-5-104 (docs/iec104.md):
                     a controlled station on port N (the standard's is 2404); the point map, the
                     allow-list of controlling stations and the timers are in the config's iec104 section
  --iec104-host HOST where it listens (default 127.0.0.1: loopback only)

Once it listens it prints the URLs, where the admin token and the PKI are, and a curl line to try.
A token generated at first start is kept in DIR/admin-token (mode 0600).
Stops gracefully on SIGTERM or SIGINT. Exit codes: 0 stopped, 1 failed (e.g. the port is in use),
2 usage or configuration error.
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
  /** OADR_XMPP_PASSWORD, read by cli/: SCRAM for the XMPP connection when no certificate is configured. */
  readonly xmppPassword?: string;
  /** OADR_STORE_PASSWORD, read by cli/: the PostgreSQL store's password when the URL has none. */
  readonly storePassword?: string;
  /** Reads the --config file (cli/ reads YAML and JSON); default: JSON. */
  readonly readConfig?: (path: string) => Record<string, unknown>;
  /** Bridges started once the VTN listens, stopped before it (cli/ passes the IEC 104 bridge). */
  readonly bridges?: readonly VtnBridge[];
  /** The clock of the VTN, its embedded ledger and its settlement scheduler, ms (default Date.now; the demo runs a faster one). */
  readonly now?: () => number;
  /** Test hook passed to the VTN (`VtnOptions.crashPoint`): crash tests exit at named points. */
  readonly crashPoint?: (name: CrashPointName) => void;
  /** Called once the VTN listens, before the start banner is printed (the demo starts its fleet from here). */
  readonly onListening?: (vtn: Vtn, url: string) => void | Promise<void>;
}

/**
 * A bridge to another protocol over the VTN's public API, started once the VTN listens: resolves to
 * where it serves and how to stop it, or undefined when the configuration leaves it off.
 */
export type VtnBridge = (vtn: Vtn, logger: Logger) => Promise<{ readonly name: string; readonly url: string; close(): Promise<void> } | undefined>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Resolves at the first SIGTERM or SIGINT (and stops listening for both). */
export function onSignal(): Promise<void> {
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

/** One line for a socket the VTN cannot listen on (a port in use, a privileged port), else undefined. */
function listenFailure(e: unknown): string | undefined {
  const x = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (x.syscall !== 'listen' && x.code !== 'EADDRINUSE') return undefined;
  const where = x.address === undefined ? 'the configured address' : `${x.address.includes(':') ? `[${x.address}]` : x.address}:${String(x.port)}`;
  switch (x.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the address is in use (another VTN or program listens there); stop it, or start with another --port (or --admin-port)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose a port from 1024 up`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no such address on this machine; check the host setting`;
    default:
      return `cannot listen on ${where}: ${x.message}`;
  }
}

export async function runVtnCommand(argv: string[], io: VtnCommandIo = {}): Promise<number> {
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const now = io.now ?? Date.now;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        store: { type: 'string' },
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        'insecure-http': { type: 'boolean' },
        'no-ledger': { type: 'boolean' },
        'verify-own-signatures': { type: 'boolean' },
        repair: { type: 'boolean' },
        pki: { type: 'string' },
        'xml-signature': { type: 'boolean' },
        'tls-min-version': { type: 'string' },
        'tls-max-version': { type: 'string' },
        'tls-ciphers': { type: 'string' },
        'xmpp-url': { type: 'string' },
        'xmpp-jid': { type: 'string' },
        'xmpp-cert': { type: 'string' },
        'xmpp-key': { type: 'string' },
        'xmpp-ca': { type: 'string' },
        'iec104-port': { type: 'string' },
        'iec104-host': { type: 'string' },
        ledger: { type: 'string' },
        'fabric-profile': { type: 'string' },
        'fabric-identity': { type: 'string' },
        'fabric-retailers': { type: 'string' },
        'fabric-channel': { type: 'string' },
        'fabric-chaincode': { type: 'string' },
        'fabric-wait-for-commit': { type: 'boolean' },
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
      const file = (io.readConfig ?? ((path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>))(values.config);
      // The xmpp, iec104 and fabric sections merge key by key: OADR_XMPP_* may set one key of a section the file holds.
      const section = (key: string): Record<string, unknown> =>
        file[key] === undefined && config[key] === undefined ? {} : { [key]: { ...(file[key] as object | undefined), ...(config[key] as object | undefined) } };
      config = { ...file, ...config, ...section('xmpp'), ...section('iec104'), ...section('fabric') };
    } catch (e) {
      err(`oadr-ledger vtn: cannot read the configuration ${values.config}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  /** The flags given of a section (xmpp, iec104, fabric) override its keys one by one. */
  const flagsInto = (section: string, flags: Readonly<Record<string, unknown>>): void => {
    const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
    if (Object.keys(given).length > 0) config[section] = { ...(config[section] as Record<string, unknown> | undefined), ...given };
  };
  const port = (s: string | undefined, flag: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new VtnError('INVALID_CONFIG', `--${flag} must be a port number, got '${s}'`);
    return n;
  };
  try {
    if (values['data-dir'] !== undefined) config.dataDir = values['data-dir'];
    if (values.store !== undefined) config.store = values.store;
    const p = port(values.port, 'port');
    if (p !== undefined) config.port = p;
    const a = port(values['admin-port'], 'admin-port');
    if (a !== undefined) config.adminPort = a;
    flagsInto('iec104', { port: port(values['iec104-port'], 'iec104-port'), host: values['iec104-host'] });
  } catch (e) {
    err(`oadr-ledger vtn: ${(e as Error).message}\n`);
    return 2;
  }
  if (values['insecure-http'] === true) config.insecureHttp = true;
  flagsInto('xmpp', { url: values['xmpp-url'], jid: values['xmpp-jid'], cert: values['xmpp-cert'], key: values['xmpp-key'], ca: values['xmpp-ca'] });
  if (values.ledger !== undefined) config.ledger = values.ledger;
  flagsInto('fabric', {
    profile: values['fabric-profile'],
    identity: values['fabric-identity'],
    retailers: values['fabric-retailers'],
    channel: values['fabric-channel'],
    chaincode: values['fabric-chaincode'],
    waitForCommit: values['fabric-wait-for-commit'],
  });
  const logger: Logger = io.logger ?? (pino({ name: 'oadr-ledger', redact: ['req.headers.authorization'] }) as unknown as Logger);
  const insecure = config.insecureHttp === true;
  const versions = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  for (const flag of ['tls-min-version', 'tls-max-version'] as const) {
    const v = values[flag];
    if (v !== undefined && !versions.includes(v)) {
      err(`oadr-ledger vtn: --${flag} must be one of ${versions.join(', ')}, got '${v}'\n`);
      return 2;
    }
  }
  if (insecure) {
    const host = typeof config.host === 'string' ? config.host : '127.0.0.1';
    if (!LOOPBACK.has(host)) {
      logger.warn({ host }, 'plain HTTP never binds beyond loopback: binding 127.0.0.1 instead');
    }
    config.host = LOOPBACK.has(host) ? host : '127.0.0.1';
  }
  let pki: VtnPki | undefined;
  if (!insecure) {
    try {
      const dataDir = resolveVtnConfig(config as VtnConfigInput).dataDir;
      if (values.pki === undefined && dataDir === ':memory:') throw new VtnError('INVALID_CONFIG', 'a VTN with dataDir :memory: needs --pki DIR for its TLS certificates (or --insecure-http on loopback)');
      const pkiDir = values.pki ?? join(dataDir, VTN_PKI_DIR);
      pki = values.pki === undefined ? await ensureVtnPki(pkiDir) : loadVtnPki(pkiDir);
    } catch (e) {
      err(`oadr-ledger vtn: ${(e as Error).message}\n`);
      return e instanceof VtnError && e.code === 'INVALID_CONFIG' ? 2 : 1;
    }
    const lines = pki.vens.map((v) => `  ${v.name}  ${v.fingerprint}  ${v.dir}`).join('\n');
    err(
      `oadr-ledger vtn: ${pki.created ? 'created the development PKI' : 'TLS certificates from the PKI'} in ${pki.dir}\n` +
        `  VEN certificates (enrol a customer with its fingerprint, or let policy 'open' bind it at first registration):\n${lines}\n`,
    );
  }
  const override = {
    ...(values['tls-min-version'] === undefined ? {} : { minVersion: values['tls-min-version'] as SecureVersion }),
    ...(values['tls-max-version'] === undefined ? {} : { maxVersion: values['tls-max-version'] as SecureVersion }),
    ...(values['tls-ciphers'] === undefined ? {} : { ciphers: values['tls-ciphers'] }),
  };
  const custom = Object.keys(override).length > 0;
  let vtn: Vtn | undefined;
  let generated: TokenSource | undefined;
  let ledger: VtnLedger | undefined;
  let scheduler: LedgerScheduler | undefined;
  /** Set while the start-up checks that need the ledger wait for it (the Fabric peer did not answer at start). */
  let deferred: DeferredLedgerPort<MappingLedgerPort> | undefined;
  /** Resolves with the failure of the deferred checks (the VTN then stops with exit code 1). */
  let deferredFailure: Promise<Error> = new Promise<Error>(() => {});
  let stopping = false;
  let peerDown = false;
  const closeLedger = async (): Promise<void> => {
    stopping = true;
    await scheduler?.stop();
    await ledger?.close();
  };
  const bridges: { close(): Promise<void> }[] = [];
  const closeBridges = async (): Promise<void> => {
    for (const b of bridges.splice(0)) await b.close();
  };
  const lookups = customerLookups(() => vtn?.store);
  try {
    const resolved = resolveVtnConfig(config as VtnConfigInput);
    const { dataDir, store: storeUrl } = resolved;
    const noLedger = values['no-ledger'] === true || dataDir === ':memory:';
    // SQLite's quick check of every store file before any of them opens (a damaged file stops the start).
    if (dataDir !== ':memory:') checkStoreFiles(dataDir, resolved.ledger === 'embedded');
    if (storeUrl !== undefined && values['no-ledger'] !== true && resolved.ledger === 'embedded') {
      // The embedded ledger lives in one process's data directory: a cluster shares a Fabric network.
      throw new VtnError(
        'INVALID_CONFIG',
        "a VTN on a PostgreSQL store (a cluster) cannot use the embedded ledger, which lives in one process: serve it with 'oadr-ledger ledger serve' and start every VTN process with --ledger fabric and its connection profile (or run with --no-ledger; docs/deployment.md)",
      );
    }
    if (noLedger) {
      logger.warn({ dataDir }, 'running without the ledger: events need per-VEN values, telemetry is not recorded on a ledger');
    } else if (resolved.ledger === 'fabric') {
      // A Fabric network through its gateway peer, with the identities its CA issued (docs/fabric.md).
      const f = resolved.fabric;
      ledger = await openFabricVtnLedger({
        dataDir,
        profile: f.profile as string,
        identity: f.identity as string,
        ...(f.retailers === undefined ? {} : { retailers: f.retailers }),
        defaultRetailer: f.defaultRetailer,
        ...(f.channel === undefined ? {} : { channel: f.channel }),
        chaincode: f.chaincode,
        waitForCommit: f.waitForCommit,
        retry: { attempts: f.retryAttempts },
        retailerOfMeter: lookups.retailerOfMeter,
        log: logger,
        ...(io.now === undefined ? {} : { clock: () => new Date(now()) }),
        // A cluster: the mapping store beside the VTN store in PostgreSQL, shared by every process.
        ...(storeUrl === undefined ? {} : { mappingStore: { url: storeUrl, password: io.storePassword, statementTimeoutMs: resolved.storeStatementTimeoutMs, applicationName: `oadr-ledger ${resolved.vtnId} mapping` } }),
      });
      try {
        logger.info({ ledger: ledger.location, height: await ledger.ledger.height(), waitForCommit: f.waitForCommit }, 'Fabric ledger connected');
      } catch (e) {
        if (!ledgerUnreachable(e)) throw e;
        // VENs are served from the start; what needs the ledger runs when the peer answers.
        logger.warn({ ledger: ledger.location, err: e }, 'the Fabric peer does not answer: the start-up checks that need the ledger are deferred until it does; VENs are served meanwhile, ledger work waits (telemetry and opt answers in the outbox, event creations pending)');
        peerDown = true;
      }
    } else {
      // The embedded ledger under DIR/ledger with the VTN's operator and retailer identities (created on first use).
      const verifyOwnSignatures = values['verify-own-signatures'] === true;
      ledger = await openVtnLedger({ dataDir, verifyOwnSignatures, retailerOfMeter: lookups.retailerOfMeter, ...(io.now === undefined ? {} : { clock: () => new Date(now()) }) });
      logger.info({ ledgerDir: `${dataDir}/ledger`, height: await ledger.ledger.height(), verifyOwnSignatures }, 'embedded ledger open');
    }
    const fabric = ledger !== undefined && ledger.kind === 'fabric' ? (ledger as FabricVtnLedger) : undefined;
    const port =
      ledger === undefined
        ? undefined
        : createMappingLedgerPort({
            mapping: ledger.mapping,
            ledger: ledger.ledger,
            store: ledger.store,
            ...(ledger.verify === undefined ? {} : { verify: ledger.verify }),
            ...(fabric === undefined ? {} : { retries: fabric.retries, noVerify: fabric.noVerify }),
            meterOf: lookups.meterOf,
            customerOf: lookups.customerOf,
            log: logger,
            now,
            nominalVoltages: { voltageLLV: resolved.claimVoltageLLV, voltageLNV: resolved.claimVoltageLNV },
          });
    if (peerDown && port !== undefined && ledger !== undefined) {
      deferred = deferLedgerPort(port, `the ledger (${ledger.location}) did not answer when the VTN started and its start-up checks have not run yet; the VTN runs them when it answers — try again later`);
    }
    const xmpp = vtnXmppClient(resolved.xmpp, io.xmppPassword, logger);
    vtn = createVtn({
      ...(xmpp === undefined ? {} : { xmpp }),
      ...(io.storePassword === undefined ? {} : { storePassword: io.storePassword }),
      config: config as VtnConfigInput,
      logger,
      now,
      ...(io.crashPoint === undefined ? {} : { crashPoint: io.crashPoint }),
      ...(port === undefined ? {} : { ledger: deferred?.port ?? port }),
      ...(pki === undefined ? {} : { tls: { ...pki.tls, ...(custom ? { override } : {}) }, pushTls: { ...pki.push, ...(custom ? { override } : {}) } }),
      ...(pki === undefined || values['xml-signature'] !== true
        ? {}
        : { xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key } }),
      ...(io.adminToken === undefined || io.adminToken === '' ? {} : { adminToken: io.adminToken }),
      // Kept in DIR/admin-token (0600) before the VTN listens and printed once it does: a start that
      // fails in between (a port in use) loses no token.
      onAdminTokenGenerated: (token) => {
        const dir = resolveVtnConfig(config as VtnConfigInput).dataDir;
        const kept = keepAdminToken(dir, token);
        generated = { kind: 'generated', token, file: kept ? adminTokenPath(dir) : undefined };
        if (!kept && dir !== ':memory:') err(`oadr-ledger vtn: cannot write ${adminTokenPath(dir)}; the admin API token (operator), shown only this once:\n  ${token}\n`);
      },
    });
    if (port !== undefined && ledger !== undefined) {
      // Every retailer the admin API knows (customers' and tokens') has its ledger identity; the
      // writes of one without stay refused (NO_IDENTITY), never made with another identity.
      await ledger.retailers.check(knownRetailers(vtn.store)).catch((e: unknown) => logger.error({ err: e }, 'retailers without a ledger identity: their customers\' meters are not written to the ledger'));
      // The stores agree (the ledger is not behind them, the VTN store not behind the ledger), then
      // event creations a crash cut short are completed, or cancelled on the ledger, before serving.
      const started = vtn;
      const vl = ledger;
      const ledgerChecks = async (): Promise<void> => {
        const agreement = await checkStoresAgree({ dataDir, store: started.store, ledger: vl.ledger, mappingStore: vl.store, repair: values.repair === true, ...(vl.kind === 'fabric' ? { remoteLedger: vl.location } : {}) });
        if (agreement.requeued.length > 0) logger.warn({ events: agreement.requeued }, '--repair: events the VTN store lacked are re-created from the ledger');
        deferred?.open();
        // Creations cut short: in a cluster the lease holder completes them, never a process starting beside a live one mid-creation.
        const cluster = started.store.cluster;
        const r = cluster === undefined || cluster.lease(LEDGER_LEASE) ? await started.events.recoverCreations() : { completed: [], compensated: [], left: [], pending: [] };
        if (r.completed.length + r.compensated.length + r.left.length > 0) logger.warn(r, 'event creations cut short by the last stop: completed or cancelled on the ledger');
        if (r.pending.length > 0) logger.info({ events: r.pending }, 'event creations accepted while the ledger could not be reached: created when it answers, or expired at their start');
        // In a cluster, settlement runs in the process holding the ledger lease (with the outbox drain).
        if (!stopping) scheduler = startLedgerScheduler({ events: started.events, port, log: logger, now, ...(cluster === undefined ? {} : { leased: () => cluster.lease(LEDGER_LEASE) }) });
      };
      if (deferred === undefined) await ledgerChecks();
      else {
        // Deferred: tried when the peer answers (1 s, doubling to 30 s); a failure stops the VTN as it would have stopped the start.
        deferredFailure = (async (): Promise<Error> => {
          for (let delayMs = 1000; !stopping; delayMs = Math.min(delayMs * 2, 30_000)) {
            try {
              await vl.ledger.height();
              logger.info({ ledger: vl.location }, 'the Fabric peer answers: running the deferred start-up checks');
              await ledgerChecks();
              logger.info({ ledger: vl.location }, 'deferred start-up checks passed; the ledger work resumes');
              started.ledgerOutbox?.kick();
              return new Promise<Error>(() => {});
            } catch (e) {
              if (!ledgerUnreachable(e)) return e as Error;
              logger.debug({ err: e, retryInMs: delayMs }, 'the Fabric peer still does not answer; the start-up checks wait');
            }
            await new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref());
          }
          return new Promise<Error>(() => {});
        })();
      }
    }
  } catch (e) {
    await closeLedger().catch(() => {});
    err(`oadr-ledger vtn: ${(e as Error).message}\n`);
    // A wrong connection profile, MSP folder or retailer identity is a configuration error too.
    const code = (e as { code?: unknown }).code;
    return (e instanceof VtnError && e.code === 'INVALID_CONFIG') || code === 'CONFIG' || code === 'NO_IDENTITY' ? 2 : 1;
  }
  try {
    const url = await vtn.listen();
    if (insecure) {
      logger.warn(
        { url, insecureHttp: true },
        '!!! INSECURE: the VTN speaks plain HTTP without TLS or client certificates; for tests and demos on this machine only !!!',
      );
    } else if (custom) {
      logger.warn({ url, ...override }, 'TLS profile changed by the deployment (§10.4): not the OpenADR 2.0b defaults of R67');
    }
    logger.info({ url, dataDir: vtn.config.dataDir, vtnId: vtn.config.vtnId }, 'VTN listening');
    const token = generated ?? tokenSource({ dataDir: vtn.config.dataDir, fromEnvironment: io.adminToken !== undefined && io.adminToken !== '', store: vtn.store, now: now() });
    await io.onListening?.(vtn, url);
    err(startBanner({ url, adminUrl: vtn.adminUrl(), pathPrefix: vtn.config.pathPrefix, token, pki }));
    for (const bridge of io.bridges ?? []) {
      const started = await bridge(vtn, logger);
      if (started === undefined) continue;
      bridges.push(started);
      logger.info({ bridge: started.name, url: started.url }, 'bridge listening');
      err(`oadr-ledger vtn: ${started.name} listening on ${started.url}\n`);
    }
    const failed = await Promise.race([(io.stopSignal ?? onSignal()).then(() => undefined), deferredFailure]);
    if (failed !== undefined) {
      logger.error({ err: failed }, 'the deferred start-up checks failed: stopping the VTN');
      err(`oadr-ledger vtn: ${failed.message}\n`);
      await closeBridges();
      await vtn.close();
      await closeLedger();
      return 1;
    }
    logger.info({}, 'stopping the VTN');
    await closeBridges();
    await vtn.close();
    await closeLedger();
    return 0;
  } catch (e) {
    const listen = listenFailure(e);
    if (listen === undefined) logger.error({ err: e }, 'the VTN failed');
    else err(`oadr-ledger vtn: ${listen}${generated?.kind === 'generated' && generated.file !== undefined ? `; the admin token generated at this start is kept in ${generated.file}` : ''}\n`);
    await closeBridges().catch(() => {});
    await vtn.close().catch(() => {});
    await closeLedger().catch(() => {});
    return 1;
  }
}

/** The VTN's XMPP connection from its configuration: SASL EXTERNAL with the certificate files, else SCRAM with the password. */
export function vtnXmppClient(x: XmppConfig, password: string | undefined, log: Logger): XmppClient | undefined {
  if (x.url === undefined || x.jid === undefined) return undefined;
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new VtnError('INVALID_CONFIG', `cannot read the XMPP ${what} ${file}: ${(e as Error).message}`);
    }
  };
  const tls = {
    ...(x.ca === undefined ? {} : { ca: read(x.ca, 'CA file (xmpp.ca)') }),
    ...(x.cert === undefined || x.key === undefined ? {} : { cert: read(x.cert, 'certificate (xmpp.cert)'), key: read(x.key, 'key (xmpp.key)') }),
  };
  if (tls.cert === undefined && password === undefined) {
    throw new VtnError('INVALID_CONFIG', 'the XMPP connection needs a client certificate (--xmpp-cert and --xmpp-key) or, for development, OADR_XMPP_PASSWORD');
  }
  return createXmppClient({
    url: x.url,
    jid: x.jid,
    resource: x.resource,
    tls,
    auth: tls.cert === undefined ? { mechanism: 'SCRAM-SHA-1', password: password ?? '' } : { mechanism: 'EXTERNAL' },
    log: log.child({ component: 'vtn.xmpp' }),
  });
}
