/**
 * For tests and benchmarks: an embedded ledger in a temporary directory served by the Gateway gRPC
 * service on a free loopback port with TLS (a fresh TLS CA and a server certificate for
 * `peer0.org1.example.com`), and connectors to it with the Fabric client library.
 */
import { Client, credentials } from '@grpc/grpc-js';
import { connect, signers, type Gateway } from '@hyperledger/fabric-gateway';
import { createRootCa, issueServerCertificate } from '../../certs/index.ts';
import { keyObjectOf } from '../embedded/signer.ts';
import { createFabricLedger, type FabricLedger, type FabricLedgerOptions } from '../fabric/fabric-ledger.ts';
import { startGatewayServer, type GatewayServer } from '../gateway/service.ts';
import type { EmbeddedLedgerOptions } from '../embedded/embedded-ledger.ts';
import type { LedgerIdentity } from '../ledger.ts';
import { createTestEmbeddedLedger, type TestEmbeddedLedger } from './embedded.ts';

export const TEST_PEER_HOSTNAME = 'peer0.org1.example.com';

export interface TestGateway {
  readonly embedded: TestEmbeddedLedger;
  readonly server: GatewayServer;
  readonly tlsCaPem: string;
  /** Moves the transaction clock of the ledger and of every connector made by `connect`. */
  setTime(time: Date): void;
  now(): Date;
  /** A connector to the service over TLS, signing its own requests with `identity`. */
  connect(identity: LedgerIdentity, options?: Partial<FabricLedgerOptions>): Promise<FabricLedger>;
  /** A plain `@hyperledger/fabric-gateway` Gateway to the service over TLS, as `identity`. */
  fabricGateway(identity: LedgerIdentity): Gateway;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** The ordering service on its own port (0: a free one); default beside the peer's services. */
  readonly ordererPort?: number;
  /** A peer per organisation on its own port (GatewayServerOptions.orgPeers). */
  readonly orgPeers?: ReadonlyArray<{ readonly mspId: string; readonly port: number }>;
}

export async function startTestGateway(options: Partial<EmbeddedLedgerOptions> = {}, serverOptions: TestGatewayOptions = {}): Promise<TestGateway> {
  let now = new Date();
  const embedded = await createTestEmbeddedLedger({ clock: () => now, ...options });
  const ca = await createRootCa({ commonName: 'tlsca.org1.example.com' });
  const tls = await issueServerCertificate({ commonName: TEST_PEER_HOSTNAME, issuer: ca, dnsNames: [TEST_PEER_HOSTNAME] });
  const server = await startGatewayServer({ ledger: embedded.ledger, port: 0, ...serverOptions, tls: { certificatePem: tls.certificatePem, privateKeyPem: tls.privateKeyPem } });
  const connectors = new Set<FabricLedger>();
  const gateways = new Set<{ gateway: Gateway; client: Client }>();
  return {
    embedded,
    server,
    tlsCaPem: ca.certificatePem,
    setTime(time) {
      now = time;
      embedded.setTime(time);
    },
    now: () => now,
    async connect(identity, connectorOptions = {}) {
      const connector = await createFabricLedger({
        peerEndpoint: server.address,
        tlsRootCertificate: ca.certificatePem,
        hostnameOverride: TEST_PEER_HOSTNAME,
        identity,
        channel: embedded.ledger.channel,
        chaincodeName: embedded.ledger.chaincodeName,
        clock: () => now,
        ...connectorOptions,
      });
      connectors.add(connector);
      return connector;
    },
    fabricGateway(identity) {
      const client = new Client(server.address, credentials.createSsl(Buffer.from(ca.certificatePem)), { 'grpc.ssl_target_name_override': TEST_PEER_HOSTNAME });
      const gateway = connect({
        client,
        identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
        signer: signers.newPrivateKeySigner(keyObjectOf(identity)),
      });
      gateways.add({ gateway, client });
      return gateway;
    },
    async close() {
      for (const { gateway, client } of gateways) {
        gateway.close();
        client.close();
      }
      for (const c of connectors) await c.close();
      await server.close();
      await embedded.close();
    },
  };
}
