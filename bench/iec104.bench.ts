/**
 * The IEC 104 bridge's two figures (docs/uvam.md): the jitter of the 4-second measurement period
 * and the latency from a set-point to its act-term (the DR event on the ledger and queued to VENs).
 *
 *   node bench/iec104.bench.ts [--seconds 300] [--customers 10000] [--no-vens] [--profile DIR]
 *   --seconds N     how long the period runs (default 300: five minutes; 0 skips the jitter part)
 *   --customers N   enrolled customers, each with 35 days of metered history on the ledger (0 skips)
 *   --no-vens       the customers register no VEN (by default each registers a pull VEN, so every
 *                   order is distributed to 10,000 VENs as in the field)
 *   --profile DIR   writes a V8 CPU profile of each measured order (DIR/<order>.cpuprofile)
 *
 * Jitter: the bridge over an in-process VTN on the embedded ledger, a controlling station on
 * loopback noting when each periodic ASDU arrives; each gap is compared with 4 s. The reference, in
 * the same process and the same run, is a bare timer loop with the same absolute deadlines: what
 * the event loop itself allows on this machine. Latency: a direct C_SE_NC_1 execute, from the write
 * to the act-term, three orders (new, changed, ended), each with the process's CPU time (the steadier
 * figure on a shared machine). The reference, in the same run on the same ledger, right before the
 * orders: the contract's notifyDRevent of the same event for the same customers, one bare
 * transaction (the floor of an order: what the ledger itself must do); the ratio of the two moves
 * little with the machine's load.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { addDaysUtc, EVENT_DAY, profile } from '../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import { createUvamBridge } from '../iec104/index.ts';
import { connectControllingStation } from '../iec104/testing/controlling-station.ts';
import { createMappingLedgerPort, createVtn } from '../vtn/index.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { ven } from '../vtn/testing/fake-ven.ts';
import { createMeasure, type Measured } from './support/measure.ts';
import { reportFigures, type Figure } from './support/report.ts';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '300' }, customers: { type: 'string', default: '10000' }, 'no-vens': { type: 'boolean', default: false }, profile: { type: 'string' } },
});
const seconds = Number(args.seconds);
const customers = Number(args.customers);
const PERIOD = 4_000;
/** What this run reports for docs/benchmarks.md. */
const figures: Figure[] = [];

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const describe = (deviations: readonly number[]): string =>
  `${deviations.length} periods, |gap − 4 s| p50 ${quantile(deviations, 0.5).toFixed(1)} ms, p99 ${quantile(deviations, 0.99).toFixed(1)} ms, max ${Math.max(...deviations).toFixed(1)} ms, within ±50 ms: ${deviations.filter((d) => d <= 50).length}/${deviations.length}`;

const measure = await createMeasure(args.profile as string | undefined);
const fmt = (m: Measured<unknown>): string => `${m.ms.toFixed(0)} ms (CPU ${m.cpuMs.toFixed(0)} ms, main thread ${m.mainMs.toFixed(0)} ms, load ${m.load.toFixed(1)})`;

console.log(`# ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

const dir = tempDataDir('oadr-iec104-bench-');
const now = Date.parse(`${EVENT_DAY}T12:00:00Z`);
const clock = now;
const vl = await openVtnLedger({ dataDir: join(dir, 'vtn'), clock: () => new Date(clock) });
const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
const vtn = createVtn({ config: { dataDir: join(dir, 'vtn'), registrationPolicy: 'enrolled-only', iec104: { periodMs: PERIOD, leadTimeMs: 15 * 60_000 } }, ledger: port, now: () => clock });

try {
  if (customers > 0) {
    const t0 = performance.now();
    // 100 imports at a time: the ledger cuts them into blocks together.
    for (let from = 0; from < customers; from += 100) {
      const batch = Array.from({ length: Math.min(100, customers - from) }, (_, k) => from + k);
      await Promise.all(
        batch.map((c) => {
          const id = `c${c}`;
          vtn.customers.enrol({ customerId: id, venName: id });
          if (!args['no-vens']) vtn.handle(ven.create({ venName: id, requestId: `reg-${id}` }));
          return port.importEnergy?.(id, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(c % 2 === 0 ? 1 : 2, i + 1).map((w) => w / 4) })));
        }),
      );
    }
    console.log(`set-up: ${customers} customers${args['no-vens'] ? ' (no VEN)' : `, ${vtn.vens.list().length} pull VENs registered,`} with 35 days of history on the ledger in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bridge = createUvamBridge({ vtn, now: () => clock });
  const { port: tcp } = await bridge.listen(0);
  const cs = await connectControllingStation({ port: tcp });
  await cs.startDt();

  if (customers > 0) {
    const kw = customers * 0.05;
    // A first event warms the ledger's caches (baselines): cancelled at once, not measured.
    const warm = performance.now();
    await vtn.events.create({ eventId: 'warm-up', start: now + 15 * 60_000, durationMinutes: 120, reductionW: kw * 1000, targets: 'all' });
    vtn.events.cancel('warm-up');
    await vtn.events.ledgerIdle();
    console.log(`warm-up: a first event through vtn.events.create (cold caches), created and cancelled in ${(performance.now() - warm).toFixed(0)} ms`);
    // The floor, before the orders: the contract's notifyDRevent of the same event for the same
    // customers (the warm-up's day, window, request and cluster), one bare transaction.
    const w = vl.mapping.event('warm-up');
    if (w === undefined) throw new Error('the warm-up event is not in the mapping');
    const onLedger = JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['warm-up'])) as { day: string; window: number[]; requestW: number[] };
    const cluster = Object.keys(w.oprByMeter).sort();
    const bare = await measure('reference-notify', () => vl.ledger.submit(vl.identities.operator, 'notifyDRevent', ['reference-tx', onLedger.day, JSON.stringify(onLedger.window), JSON.stringify(onLedger.requestW), JSON.stringify(cluster)]));
    console.log(`reference: the contract's notifyDRevent of the same event for the same ${cluster.length} customers, one bare transaction: ${fmt(bare)}`);
    await vl.ledger.submit(vl.identities.operator, 'cancelDRevent', ['reference-tx']);
    const ordered: Measured<unknown>[] = [];
    for (const [name, what, value] of [['new', 'a new order', kw], ['changed', 'a changed order', kw * 1.2], ['ended', 'the order ended (0)', 0]] as const) {
      const from = cs.received.length;
      const m = await measure(`order-${name}`, async () => {
        await cs.setpoint({ ioa: 5000, value, timeoutMs: 600_000 });
        return cs.next((r) => r.typeId === 50 && r.cause === 10, { from, timeoutMs: 600_000 });
      });
      ordered.push(m);
      console.log(`set-point → act-term, ${what}, ${value} kW over ${customers} customers: ${fmt(m)}${m.result.negative ? ' (NEGATIVE: refused)' : ''} (target 2,000 ms for 10,000 customers)`);
    }
    // The other reference: the same event created through the VTN's API directly, without the bridge.
    const direct = await measure('reference-events-create', () => vtn.events.create({ eventId: 'reference', start: now + 15 * 60_000, durationMinutes: 120, reductionW: kw * 1000, targets: 'all' }));
    console.log(`reference: the same event through vtn.events.create directly: ${fmt(direct)}`);
    const [first] = ordered as [Measured<unknown>];
    console.log(`ratio set-point → act-term / bare notifyDRevent: wall ${(first.ms / bare.ms).toFixed(2)}, CPU ${(first.cpuMs / bare.cpuMs).toFixed(2)}`);
    figures.push({
      id: 'iec104.setpoint-act-term',
      label: `IEC 104 set-point → act-term, a new order over ${customers} customers${args['no-vens'] ? ' without VENs' : ' and their VENs'} (the DR event on the ledger and queued to the VENs)`,
      value: first.ms / 1000,
      unit: 's',
      better: 'lower',
      detail: `CPU ${(first.cpuMs / 1000).toFixed(2)} s, load ${first.load.toFixed(1)}`,
      ...(customers >= 10_000 ? { target: 2 } : {}),
      seeds: [{ source: "the contract's notifyDRevent of the same event, one bare transaction, same run", value: bare.ms / 1000 }],
    });
  }

  if (seconds > 0) {
    // The reference: a bare timer loop by the same absolute deadlines, in this process, at the same time.
    const reference: number[] = [];
    const start = performance.now();
    let n = 1;
    let last = start;
    const arm = (): void => {
      setTimeout(() => {
        const t = performance.now();
        reference.push(Math.abs(t - last - PERIOD));
        last = t;
        n++;
        if (t - start < seconds * 1000) arm();
      }, Math.max(0, start + n * PERIOD - performance.now()));
    };
    arm();
    const seen = cs.received.length;
    await new Promise((r) => setTimeout(r, seconds * 1000 + 500));
    const arrivals = cs.received.slice(seen).filter((r) => r.cause === 1).map((r) => r.at);
    const gaps = arrivals.slice(1).map((t, i) => Math.abs(t - (arrivals[i] as number) - PERIOD));
    console.log(`measurement period (bridge → controlling station on loopback): ${describe(gaps)}`);
    console.log(`reference (bare timer loop, same process): ${describe(reference.slice(1))}`);
    figures.push({ id: 'iec104.period-p99', label: `IEC 104 measurement period: p99 of |gap − 4 s| over ${gaps.length} periods`, value: quantile(gaps, 0.99), unit: 'ms', better: 'lower', target: 50, detail: `bare timer loop in the same process: p99 ${quantile(reference.slice(1), 0.99).toFixed(1)} ms` });
  }
  cs.close();
  await bridge.close();
  reportFigures(figures);
  measure.close();
} finally {
  await vtn.close();
  await vl.close();
  rmSync(dir, { recursive: true, force: true });
}
