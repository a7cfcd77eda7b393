/**
 * Runs the contract as chaincode-as-a-service, with the semantics of `fabric-chaincode-node server`:
 * a gRPC server the peer dials (the address in the package's connection.json), registering under the
 * package id. The contract metadata (read-only tags, parameter names) is supplied directly instead of
 * being read from META-INF/metadata.json.
 *
 *   CHAINCODE_SERVER_ADDRESS=0.0.0.0:9999 CORE_CHAINCODE_ID_NAME=oadr-dr_1.0:abcd… node chaincode/server.ts
 *
 * Optional TLS (as the ccaas builder's connection.json tls_required): CHAINCODE_TLS_KEY_FILE,
 * CHAINCODE_TLS_CERT_FILE and, for client authentication, CHAINCODE_TLS_CLIENT_CACERT_FILE (PEM files).
 */
import { JSONSerializer } from 'fabric-contract-api';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DrContract } from './dr-contract.ts';
import { contractMetadata, CONTRACT_TITLE, CONTRACT_VERSION } from './metadata.ts';
import { skipDisabledDebugLogs } from './shim-logging.ts';

const require = createRequire(import.meta.url);

interface ChaincodeServer {
  start(): Promise<void>;
  _server?: { forceShutdown(): void };
}
interface ShimStatic {
  server(chaincode: unknown, opts: Record<string, unknown>): ChaincodeServer;
}
type ChaincodeFromContractCtor = new (contracts: unknown[], serializers: unknown, metadata: object, title: string, version: string) => unknown;

export interface ChaincodeServerOptions {
  /** host:port to listen on (CHAINCODE_SERVER_ADDRESS). */
  address: string;
  /** The package id the peer knows the chaincode by (CORE_CHAINCODE_ID_NAME). */
  ccid: string;
  tls?: { key: Buffer; cert: Buffer; clientCACerts?: Buffer };
}

export interface RunningChaincodeServer {
  /** Stops accepting and drops peer streams. */
  close(): void;
}

export async function startChaincodeServer(options: Readonly<ChaincodeServerOptions>): Promise<RunningChaincodeServer> {
  const shim = require('fabric-shim') as ShimStatic;
  skipDisabledDebugLogs();
  const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as ChaincodeFromContractCtor;
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  const chaincode = new ChaincodeFromContract([DrContract], serializers, contractMetadata(), CONTRACT_TITLE, CONTRACT_VERSION);
  const server = shim.server(chaincode, {
    ccid: options.ccid,
    address: options.address,
    ...(options.tls ? { tlsProps: { key: options.tls.key, cert: options.tls.cert, ...(options.tls.clientCACerts ? { clientCACerts: options.tls.clientCACerts } : {}) } } : {}),
  });
  await server.start();
  return { close: () => server._server?.forceShutdown() };
}

if (import.meta.main) {
  const env = process.env;
  const address = env['CHAINCODE_SERVER_ADDRESS'];
  const ccid = env['CORE_CHAINCODE_ID_NAME'];
  if (!address || !ccid) {
    process.stderr.write('set CHAINCODE_SERVER_ADDRESS (host:port) and CORE_CHAINCODE_ID_NAME (the package id from peer lifecycle chaincode install)\n');
    process.exit(1);
  }
  const keyFile = env['CHAINCODE_TLS_KEY_FILE'];
  const certFile = env['CHAINCODE_TLS_CERT_FILE'];
  const caFile = env['CHAINCODE_TLS_CLIENT_CACERT_FILE'];
  const running = await startChaincodeServer({
    address,
    ccid,
    ...(keyFile && certFile
      ? { tls: { key: readFileSync(keyFile), cert: readFileSync(certFile), ...(caFile ? { clientCACerts: readFileSync(caFile) } : {}) } }
      : {}),
  });
  process.stdout.write(`chaincode ${ccid} listening on ${address}\n`);
  process.once('SIGTERM', () => { running.close(); });
  process.once('SIGINT', () => { running.close(); });
}
