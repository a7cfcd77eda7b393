/**
 * The VTN's ledger throughput on Fabric against the bare client, in the same run on the same ledger
 * (`oadr-ledger ledger serve` in a child process, gRPC + TLS on loopback):
 *
 *   bare    a plain `@hyperledger/fabric-gateway` application as fabric-samples write one (its own
 *           signer, `submitTransaction`): C submitters, each sending its next recordEnergy (one
 *           96-value day) once the previous committed;
 *   VTN     the VTN's ledger side as `--ledger fabric` assembles it (connection profile, MSP folders,
 *           the connector with its retries, the mapping and its durable accumulator, the ledger port):
 *           the outbox's calls of `recordTelemetry`, one after the other, each with one 15-minute
 *           reading of each of C meters (C recordEnergy, one per meter-day, in flight together).
 *
 * The figure is VTN / bare (committed recordEnergy per second): target ≥ 0.8 — the VTN is never the
 * bottleneck of a Fabric network. Beside it, VTN / our connector alone on the same workload as the bare
 * client (the connector signs with OpenSSL, the library's default signer is a JavaScript curve): what
 * the mapping, its accumulator and the port cost on top of the connector.
 *
 *   node bench/vtn-fabric.bench.ts [--meters 200] [--rounds 8] [--tx 1600]
 */
import { credentials as grpcCredentials, Client } from '@grpc/grpc-js';
import { connect, signers, type Gateway } from '@hyperledger/fabric-gateway';
import { createPrivateKey, KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFabricLedger, issueClientIdentity, type LedgerIdentity } from '../ledger-bridge/index.ts';
import { startLedgerServeChild } from '../ledger-bridge/testing/ledger-serve-child.ts';
import { openFabricVtnLedger } from '../vtn/ledger/fabric.ts';
import { createMappingLedgerPort } from '../vtn/ledger/mapping-port.ts';
import type { TelemetryPoint } from '../vtn/ledger/port.ts';
import { connectionProfile, writeFabricVtnFiles } from '../vtn/testing/fabric-vtn.ts';
import { dayBefore, recordEnergyWorkload, runConcurrent } from './support/ledger-load.ts';
import { reportFigures } from './support/report.ts';

const { values: args } = parseArgs({ options: { meters: { type: 'string', default: '200' }, rounds: { type: 'string', default: '8' }, tx: { type: 'string', default: '1600' } } });
const METERS = Number(args.meters);
const ROUNDS = Number(args.rounds);
const TX = Number(args.tx);
const SLOT = 15 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'vtn-fabric-bench-'));
const cleanups: Array<() => unknown> = [];
const child = await startLedgerServeChild({ after: (fn) => void cleanups.push(fn) }, join(dir, 'served'));
const [org1] = await child.orgs();
if (org1 === undefined) throw new Error('the served ledger has no organisation');
const operator = await issueClientIdentity(org1, 'vtn-operator', { ID: 'operator:vtn' });
const files = await writeFabricVtnFiles(join(dir, 'files'), { profile: connectionProfile(child.address, { path: child.tlsCaPath }, 'mychannel', child.hostname), operator, org1 });

/** The bare client: one fabric-gateway Gateway per identity, the library's own signer. */
function bareClient() {
  const client = new Client(child.address, grpcCredentials.createSsl(readFileSync(child.tlsCaPath)), { 'grpc.ssl_target_name_override': child.hostname });
  const gateways = new Map<LedgerIdentity, Gateway>();
  const gatewayOf = (id: LedgerIdentity): Gateway => {
    let g = gateways.get(id);
    if (g === undefined) {
      g = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certificatePem) }, signer: signers.newPrivateKeySigner(typeof id.privateKey === 'string' ? createPrivateKey(id.privateKey) : KeyObject.from(id.privateKey)) });
      gateways.set(id, g);
    }
    return g;
  };
  return {
    submit: (id: LedgerIdentity, fn: string, a: readonly string[]) => gatewayOf(id).getNetwork('mychannel').getContract('oadr-dr').submitTransaction(fn, ...a),
    close() {
      for (const g of gateways.values()) g.close();
      client.close();
    },
  };
}

try {
  console.log(`VTN on Fabric vs the bare fabric-gateway client: Node ${process.version}, ledger serve (child process) on ${child.address}; load average ${loadavg()[0]?.toFixed(1)}`);

  // The bare client first: `TX` recordEnergy, METERS in flight.
  const bare = bareClient();
  const retailer = await issueClientIdentity(org1, 'bare-retailer', { ID: 'utility:1234' });
  const nextRecord = await recordEnergyWorkload(bare, { operator, retailer }, { meters: Math.ceil(TX / 30) + 1, days: 30, enrolConcurrency: 100 });
  let t0 = performance.now();
  await runConcurrent(TX, METERS, () => nextRecord());
  const bareTps = TX / ((performance.now() - t0) / 1000);
  bare.close();
  console.log(`bare fabric-gateway client: ${TX} recordEnergy, ${METERS} in flight → ${bareTps.toFixed(0)} tx/s`);

  // Our connector alone (its OpenSSL signer), the same workload: what the VTN's own layers cost on top.
  const connector = await createFabricLedger({ peerEndpoint: child.address, tlsRootCertificatePath: child.tlsCaPath, hostnameOverride: child.hostname, identity: operator });
  cleanups.push(() => connector.close());
  const retailer2 = await issueClientIdentity(org1, 'bare-retailer-2', { ID: 'utility:1234' });
  const nextRecord2 = await recordEnergyWorkload(connector, { operator, retailer: retailer2 }, { meters: Math.ceil(TX / 30) + 1, days: 30, enrolConcurrency: 100 });
  t0 = performance.now();
  await runConcurrent(TX, METERS, () => nextRecord2());
  const connectorTps = TX / ((performance.now() - t0) / 1000);
  console.log(`the connector alone: ${TX} recordEnergy, ${METERS} in flight → ${connectorTps.toFixed(0)} tx/s`);

  // The VTN's ledger side: a round = one outbox call with a 15-minute reading of each meter.
  const vl = await openFabricVtnLedger({ dataDir: join(dir, 'vtn'), ...files });
  cleanups.push(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger, store: vl.store });
  const day0 = Date.parse(`${dayBefore(Date.now(), 2)}T00:00:00Z`);
  const round = (r: number): TelemetryPoint[] =>
    Array.from({ length: METERS }, (_, m) => ({ venId: `ven-${m}`, customerId: `bench:vtn-${m}`, startMs: day0 + r * SLOT, durationMs: SLOT, rId: 'power', value: 200 + ((m * 7 + r * 13) % 300), unit: 'W' }));
  await port.recordTelemetry(round(0)); // warm-up: enables the retailer, enrols the meters, first slot
  const h0 = await vl.ledger.height();
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let r = 1; r <= ROUNDS; r++) await port.recordTelemetry(round(r));
  const vtnMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const vtnTps = (METERS * ROUNDS) / (vtnMs / 1000);
  const retried = vl.retries.counts().reduce((n, c) => n + c.count, 0);
  console.log(`VTN (profile → connector → mapping → port): ${METERS * ROUNDS} recordEnergy in ${ROUNDS} outbox calls of ${METERS} → ${vtnTps.toFixed(0)} tx/s (${(await vl.ledger.height()) - h0} blocks; VTN CPU ${((cpu.user + cpu.system) / 1000 / (METERS * ROUNDS)).toFixed(2)} ms per tx; ${retried} retries)`);
  const ratio = vtnTps / bareTps;
  console.log(`VTN / bare: ${ratio.toFixed(2)} (target ≥ 0.8); VTN / connector alone: ${(vtnTps / connectorTps).toFixed(2)}; load average ${loadavg()[0]?.toFixed(1)}`);
  reportFigures([
    {
      id: 'vtn-fabric.ratio',
      label: `the VTN's ledger throughput on Fabric (ledger serve, child process) / the bare fabric-gateway client's, same run, ${METERS} in flight`,
      value: ratio,
      unit: '×',
      better: 'higher',
      target: 0.8,
      detail: `VTN ${vtnTps.toFixed(0)} tx/s, bare client ${bareTps.toFixed(0)} tx/s; load average ${loadavg()[0]?.toFixed(1)}`,
    },
    {
      id: 'vtn-fabric.ratio-connector',
      label: `the VTN's ledger throughput on Fabric / our connector's alone (OpenSSL signer), same run, ${METERS} in flight`,
      value: vtnTps / connectorTps,
      unit: '×',
      better: 'higher',
      detail: `connector alone ${connectorTps.toFixed(0)} tx/s`,
    },
  ]);
} finally {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
}
