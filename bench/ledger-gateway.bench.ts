/**
 * The ledger through the Fabric Gateway: committed `recordEnergy` transactions (one 96-value day each)
 * sent by the Fabric connector (`@hyperledger/fabric-gateway` over gRPC + TLS on loopback) to
 * `oadr-ledger ledger serve` running in a child process — Endorse, client signature, Submit,
 * CommitStatus per transaction, as against a Fabric peer's gateway.
 *
 *   saturation   C concurrent submitters, each sending its next transaction once the previous committed
 *   open load    transactions started at a fixed rate whatever happens to earlier ones: p50 / p99 latency
 *
 *   node bench/ledger-gateway.bench.ts [--tx 3000] [--concurrency 300] [--rate 100] [--seconds 5]
 *
 * Seeds beside ours: thesis 10.2 s per recordEnergy; JRC < 1 s latency only below 32 tx/s; a real
 * Fabric 2.5.12 network measured on this machine: 160–220 tx/s, 112–222 ms median latency.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFabricLedger } from '../ledger-bridge/fabric/fabric-ledger.ts';
import { benchIdentities, ms, openLoad, percentile, recordEnergyWorkload, runConcurrent } from './support/ledger-load.ts';
import { reportFigures } from './support/report.ts';
import { FABRIC_HERE, JRC, THESIS } from './support/seeds.ts';

const { values: args } = parseArgs({
  options: {
    tx: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '300' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
  },
});
const TX = Number(args.tx);
const CONCURRENCY = Number(args.concurrency);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const DAYS = 30;

const dir = mkdtempSync(join(tmpdir(), 'ledger-gateway-bench-'));
// `ledger serve --data-dir DIR` serves the ledger in DIR/ledger (as the VTN keeps it): its orgs are there.
const { operator, retailer } = await benchIdentities(join(dir, 'ledger'));

// The service in its own process, as a peer would be: the real `oadr-ledger ledger serve`.
const cli = fileURLToPath(new URL('../cli/oadr-ledger.js', import.meta.url));
const child = spawn(process.execPath, [cli, 'ledger', 'serve', '--data-dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const address = await new Promise<string>((resolve, reject) => {
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const m = /Fabric Gateway on (\S+) /.exec(text);
    if (m?.[1]) resolve(m[1]);
  });
  child.once('exit', (code) => reject(new Error(`ledger serve exited with ${code}`)));
});

const ledger = await createFabricLedger({
  peerEndpoint: address,
  tlsRootCertificatePath: join(dir, 'tls', 'ca-cert.pem'),
  hostnameOverride: 'peer0.org1.example.com',
  identity: operator,
});

const meters = Math.ceil((TX + RATE * SECONDS) / DAYS) + 1;


try {
  console.log(`ledger through the Fabric Gateway: Node ${process.version}, connector → gRPC + TLS → ledger serve (child process) on ${address}`);
  let t0 = performance.now();
  const nextRecord = await recordEnergyWorkload(ledger, { operator, retailer }, { meters, days: DAYS, enrolConcurrency: 200 });
  console.log(`set-up: ${meters} meters enrolled in ${ms(performance.now() - t0)}`);

  const h0 = await ledger.height();
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await runConcurrent(TX, CONCURRENCY, () => nextRecord());
  const satMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const tps = TX / (satMs / 1000);
  const blocks = (await ledger.height()) - h0;
  const clientCpuMs = (cpu.user + cpu.system) / 1000 / TX;
  console.log(`saturation: ${TX} recordEnergy committed in ${ms(satMs)} with ${CONCURRENCY} in flight → ${tps.toFixed(0)} tx/s (${blocks} blocks); client CPU ${clientCpuMs.toFixed(2)} ms/tx; load average ${loadavg()[0]?.toFixed(1)}`);

  const { latencies, failures, offered: total } = await openLoad(nextRecord, RATE, SECONDS);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`open load: ${total} recordEnergy at ${RATE}/s: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(latencies.at(-1) ?? NaN)}, failed ${failures}`);

  console.log('');
  console.log(`${'figure'.padEnd(40)} ${'ours (gateway)'.padEnd(30)} seeds / reference`);
  console.log(`${'recordEnergy, 96 values'.padEnd(40)} ${`${(1000 / tps).toFixed(2)} ms/tx at saturation`.padEnd(30)} thesis: 10.2 s per recordEnergy`);
  console.log(`${'committed tx/s at saturation'.padEnd(40)} ${`${tps.toFixed(0)} tx/s`.padEnd(30)} Fabric 2.5.12 on this machine: 160–220 tx/s`);
  console.log(`${`latency at ${RATE}/s offered`.padEnd(40)} ${`p50 ${ms(p50)}, p99 ${ms(p99)}`.padEnd(30)} Fabric 2.5.12 here: 112–222 ms median; JRC: < 1 s below 32 tx/s`);
  console.log(`${'failed transactions'.padEnd(40)} ${`${((100 * failures) / total).toFixed(1)} %`.padEnd(30)} JRC: > 20 % above ~50 tx/s`);
  reportFigures([
    {
      id: 'gateway.saturation-tps',
      label: `through the Fabric Gateway (gRPC + TLS, ledger serve in a child process): committed recordEnergy per second, ${CONCURRENCY} in flight`,
      value: tps,
      unit: 'tx/s',
      better: 'higher',
      detail: `client CPU ${clientCpuMs.toFixed(2)} ms per tx`,
      seeds: [
        { source: 'Fabric 2.5.12 on this machine, best', value: FABRIC_HERE.tpsHigh },
        { source: 'JRC paper: 3 nodes, < 20 % failed up to', value: JRC.capacityPerS },
        { source: 'thesis table 5.1: the batch settings allow', value: THESIS.maxTps },
      ],
    },
    {
      id: 'gateway.p50-at-rate',
      label: `through the Fabric Gateway: commit latency p50 at ${RATE}/s offered for ${SECONDS} s`,
      value: p50,
      unit: 'ms',
      better: 'lower',
      detail: `p99 ${ms(p99)}, ${((100 * failures) / total).toFixed(1)} % failed`,
      seeds: [{ source: 'Fabric 2.5.12 here: median, best', value: FABRIC_HERE.medianMsLow }],
    },
  ]);
} finally {
  await ledger.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
