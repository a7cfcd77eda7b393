/**
 * `oadr-ledger ledger serve`: the embedded ledger of a data directory served to standard Fabric tools
 * as a Fabric 2.5 peer and ordering service would serve it (gRPC, TLS): the Gateway (our connector, or
 * any fabric-gateway application in Node, Go or Java), the peer's Endorser and Deliver services and the
 * orderer's AtomicBroadcast (the `peer` CLI, block listeners and explorers).
 *
 *   ledger serve --data-dir DIR [--host H] [--port N] [--orderer-port N] [--tls-cert PEM --tls-key PEM] [--plaintext]
 *
 * Without --tls-cert/--tls-key a development TLS CA and a server certificate (localhost, 127.0.0.1,
 * peer0.org1.example.com) are created once under `<dataDir>/tls/`; clients trust `<dataDir>/tls/ca-cert.pem`.
 * Without --orderer-port the ordering service shares the peer's port.
 * Runs until SIGINT / SIGTERM (or `signal`), then stops listening and closes the ledger.
 * Exit codes: 0 after a clean stop, 1 when the ledger or the port cannot be opened, 2 usage error.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRootCa, issueServerCertificate } from '../../certs/index.ts';
import { ledgerDirOf, type CommandIo } from '../embedded/command.ts';
import { createEmbeddedLedger } from '../embedded/embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { startGatewayServer } from './service.ts';

export const LEDGER_SERVE_USAGE = `Usage: oadr-ledger ledger serve --data-dir DIR [--host H] [--port N] [--orderer-port N] [--peer MSPID=PORT]… [--tls-cert FILE --tls-key FILE] [--plaintext]

  Serve the embedded ledger of DIR (a VTN's data directory: DIR/ledger; or a ledger directory itself,
  holding ledger.sqlite; a new DIR gets DIR/ledger) as a Fabric peer and ordering service: the Fabric
  Gateway (Evaluate, Endorse, Submit, CommitStatus, ChaincodeEvents; qscc for blocks and transactions),
  the Endorser (ProcessProposal) and Deliver services (blocks, filtered blocks) and the orderer's
  Broadcast and Deliver, for Fabric clients, the peer CLI and block explorers.

  --host H          listen address (default 127.0.0.1)
  --port N          the peer's port (default 7051; 0 picks a free one)
  --orderer-port N  the ordering service's own port (7050 is an orderer's; 0 picks a free one);
                    default: the peer's port serves it too
  --peer MSPID=PORT the peer of one organisation on its own port (repeatable; 0 picks a free one):
                    its Gateway, Endorser and Deliver answer as that org's peer, so
                    'peer chaincode invoke --peerAddresses A --peerAddresses B' collects each
                    org's endorsement (AND policies); --port stays the caller's org's peer
  --tls-cert FILE   server TLS certificate (chain), PEM   } default: a development TLS CA and certificate
  --tls-key FILE    its private key, PEM                  } created once under DIR/tls/
  --plaintext       no TLS (local tests only)

Exit codes: 0 stopped, 1 ledger or port unavailable, 2 usage error.
`;

export interface ServeOptions {
  readonly io?: CommandIo;
  /** Stops the service (besides SIGINT / SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once listening, with host:port. */
  readonly onListening?: (address: string) => void;
}

export const DEV_TLS_HOSTNAMES = ['localhost', 'peer0.org1.example.com'] as const;

/** The development TLS material under `<dataDir>/tls/`, created on first use. */
export async function loadOrCreateDevTls(dataDir: string): Promise<{ caPath: string; certificatePem: string; privateKeyPem: string }> {
  const dir = join(dataDir, 'tls');
  const file = (name: string) => join(dir, name);
  if (!existsSync(file('server-cert.pem')) || !existsSync(file('server-key.pem')) || !existsSync(file('ca-cert.pem'))) {
    mkdirSync(dir, { recursive: true });
    const ca = await createRootCa({ commonName: 'tlsca.oadr-ledger.local' });
    const server = await issueServerCertificate({ commonName: 'peer0.org1.example.com', issuer: ca, dnsNames: [...DEV_TLS_HOSTNAMES] });
    writeFileSync(file('ca-cert.pem'), ca.certificatePem);
    writeFileSync(file('server-key.pem'), server.privateKeyPem, { mode: 0o600 });
    writeFileSync(file('server-cert.pem'), server.certificatePem);
  }
  return { caPath: file('ca-cert.pem'), certificatePem: readFileSync(file('server-cert.pem'), 'utf8'), privateKeyPem: readFileSync(file('server-key.pem'), 'utf8') };
}

const processIo: CommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export async function runLedgerServe(argv: readonly string[], options: ServeOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'orderer-port': { type: 'string' },
        peer: { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        plaintext: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.stderr(`oadr-ledger ledger serve: ${(err as Error).message}\n\n${LEDGER_SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(LEDGER_SERVE_USAGE);
    return 0;
  }
  const dataDir = values['data-dir'] as string | undefined;
  const port = values.port === undefined ? 7051 : Number(values.port);
  const usage = (message: string) => {
    io.stderr(`oadr-ledger ledger serve: ${message}\n\n${LEDGER_SERVE_USAGE}`);
    return 2;
  };
  if (typeof dataDir !== 'string' || dataDir === '') return usage('--data-dir DIR is required');
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port takes a port number 0…65535, not '${String(values.port)}'`);
  const ordererPort = values['orderer-port'] === undefined ? undefined : Number(values['orderer-port']);
  if (ordererPort !== undefined && (!Number.isInteger(ordererPort) || ordererPort < 0 || ordererPort > 65535)) {
    return usage(`--orderer-port takes a port number 0…65535, not '${String(values['orderer-port'])}'`);
  }
  const orgPeers: Array<{ mspId: string; port: number }> = [];
  for (const spec of (values.peer as string[] | undefined) ?? []) {
    const m = /^([A-Za-z0-9._-]+)=(\d{1,5})$/.exec(spec);
    const p = m === null ? Number.NaN : Number(m[2]);
    if (m === null || !Number.isInteger(p) || p > 65535) return usage(`--peer takes MSPID=PORT (e.g. Org2MSP=9051), not '${spec}'`);
    if (orgPeers.some((o) => o.mspId === m[1])) return usage(`--peer ${m[1]} is given twice; one peer per organisation`);
    orgPeers.push({ mspId: m[1] as string, port: p });
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) return usage('give both --tls-cert and --tls-key, or neither');
  if (values.plaintext && values['tls-cert'] !== undefined) return usage('--plaintext and --tls-cert exclude each other');

  let tls: { certificatePem: string; privateKeyPem: string } | undefined;
  let caNote = '';
  try {
    if (typeof values['tls-cert'] === 'string' && typeof values['tls-key'] === 'string') {
      tls = { certificatePem: readFileSync(values['tls-cert'], 'utf8'), privateKeyPem: readFileSync(values['tls-key'], 'utf8') };
    } else if (!values.plaintext) {
      const dev = await loadOrCreateDevTls(dataDir);
      tls = { certificatePem: dev.certificatePem, privateKeyPem: dev.privateKeyPem };
      caNote = `TLS CA for clients: ${dev.caPath} (server names ${DEV_TLS_HOSTNAMES.join(', ')})\n`;
    }
  } catch (err) {
    io.stderr(`oadr-ledger ledger serve: cannot read the TLS material: ${(err as Error).message}\n`);
    return 1;
  }

  const ledgerDir = ledgerDirOf(dataDir).dir;
  let ledger;
  try {
    ledger = await createEmbeddedLedger({ dataDir: ledgerDir });
  } catch (err) {
    io.stderr(`oadr-ledger ledger serve: ${err instanceof LedgerError ? err.message : (err as Error).message}\n`);
    return 1;
  }
  let server;
  try {
    server = await startGatewayServer({
      ledger,
      host: typeof values.host === 'string' ? values.host : '127.0.0.1',
      port,
      ...(ordererPort !== undefined ? { ordererPort } : {}),
      ...(orgPeers.length === 0 ? {} : { orgPeers }),
      onRefusal: (line) => io.stderr(`${new Date().toISOString()} ${line}\n`),
      ...(tls ? { tls } : { plaintext: true }),
    });
  } catch (err) {
    await ledger.close();
    io.stderr(`oadr-ledger ledger serve: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout(
    `Fabric Gateway on ${server.address} (${tls ? 'TLS' : 'plain text'}), channel ${ledger.channel}, chaincode ${ledger.chaincodeName}\n` +
      `Peer services (Endorser, Deliver) on ${server.address}; ordering service (Broadcast, Deliver) on ${server.ordererAddress}\n` +
      Object.entries(server.orgPeerAddresses).map(([mspId, at]) => `Peer of ${mspId} (Gateway, Endorser, Deliver) on ${at}\n`).join('') +
      caNote +
      `MSPs: ${ledger.orgs.map((o) => `${o.mspId} (root CA ${join(ledgerDir, 'certs', o.mspId, 'ca-cert.pem')})`).join(', ')}\n`,
  );
  options.onListening?.(server.address);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      options.signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (options.signal?.aborted) return stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    options.signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  await ledger.close();
  io.stdout('Fabric Gateway stopped; ledger closed\n');
  return 0;
}
