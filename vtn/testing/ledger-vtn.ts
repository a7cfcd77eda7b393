/**
 * The set-up of the VTN's end-to-end ledger tests: a VTN on the embedded ledger in a temporary folder,
 * with one enrolled customer whose 35 days of metered history (the reference scenario's profile) are
 * on the ledger, so the contract has the baseline an event needs.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import type { VtnConfigInput } from '../cli/config.ts';
import { openVtnLedger, type VtnLedger } from '../ledger/embedded.ts';
import { createMappingLedgerPort, type MappingLedgerPort } from '../ledger/mapping-port.ts';
import type { Logger } from '../operations/logger.ts';
import type { XmppClient } from '../../xmpp/index.ts';
import type { Payload, ReportInterval } from '../../oadr/index.ts';
import { call, createTestClock, post, registerVen, startTestVtn, ven, type TestClock, type TestVtn } from './fake-ven.ts';
import { until } from '../../test/support/until.ts';

export interface LedgerVtnOptions {
  /** Prefix of the temporary folder. */
  readonly prefix: string;
  /** The clock's start, ms. */
  readonly start: number;
  readonly customerId: string;
  /** The customer's VEN name (default: the customer id). */
  readonly venName?: string;
  readonly config?: VtnConfigInput;
  readonly logger?: Logger;
  /** The admin API's operator token (no admin API without one). */
  readonly adminToken?: string;
  /** The VTN's XMPP connection (VtnOptions.xmpp). */
  readonly xmpp?: XmppClient;
  /** Opens the VTN's ledger in its data directory (default: the embedded one, `openVtnLedger`); the rig closes it. */
  readonly openLedger?: (dataDir: string, clock: TestClock) => Promise<VtnLedger>;
}

export interface LedgerVtn extends TestVtn {
  readonly dir: string;
  readonly clock: TestClock;
  readonly ledger: VtnLedger;
  readonly port: MappingLedgerPort;
}

export async function startLedgerVtn(t: { after(fn: () => unknown): void }, o: Readonly<LedgerVtnOptions>): Promise<LedgerVtn> {
  const dir = tempDataDir(o.prefix);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(o.start);
  const ledger = await (o.openLedger ?? ((dataDir) => openVtnLedger({ dataDir, clock: () => new Date(clock.now()) })))(join(dir, 'vtn'), clock);
  t.after(() => ledger.close());
  const port = createMappingLedgerPort({ mapping: ledger.mapping, ledger: ledger.ledger, ...(ledger.verify === undefined ? {} : { verify: ledger.verify }), ...(o.logger ? { log: o.logger } : {}) });
  const vtn = await startTestVtn(t, { dataDir: join(dir, 'vtn'), registrationPolicy: 'enrolled-only', ...o.config }, { ledger: port, clock, ...(o.logger ? { logger: o.logger } : {}), ...(o.adminToken ? { adminToken: o.adminToken } : {}), ...(o.xmpp ? { xmpp: o.xmpp } : {}) });
  vtn.vtn.customers.enrol({ customerId: o.customerId, venName: o.venName ?? o.customerId });
  await port.importEnergy?.(o.customerId, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) })));
  return { ...vtn, dir, clock, ledger, port };
}

/** What a rig needs of a VEN (ven/'s `Ven` has it; structural, so vtn/ does not import ven/). */
export interface TickingVen {
  tick(): Promise<unknown>;
  flush(): Promise<unknown>;
}

/**
 * The VEN through an event, one tick per simulated minute from `fromMin` to `toMin` minutes after
 * `start` (30 s into each minute: actuation, a sample, its reports), its report outbox flushed after
 * each tick.
 */
export async function tickMinutes(ven: TickingVen, clock: TestClock, start: number, fromMin: number, toMin: number): Promise<void> {
  for (let m = fromMin; m <= toMin; m++) {
    clock.set(start + m * 60_000 + 30_000);
    await ven.tick();
    await ven.flush();
  }
}

/** The customer's 96 energy values of `day` on the ledger (W averages per 15-minute slot; null where none is recorded). */
export async function ledgerEnergy(vl: VtnLedger, customerId: string, day: string): Promise<(number | null)[]> {
  return (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryEnergyValue', [customerId, day])) as { values?: (number | null)[] }).values ?? [];
}

/** Waits until slots `first` … `first + count − 1` of the customer's day are on the ledger, and returns them. */
export async function recordedSlots(vl: VtnLedger, customerId: string, day: string, first: number, count: number): Promise<number[]> {
  // The values seen when they were all there: a second read may go to an endorser a block behind.
  let seen: (number | null)[] = [];
  await until(`slots ${first}–${first + count - 1} of ${customerId} on the ledger`, async () => (seen = (await ledgerEnergy(vl, customerId, day)).slice(first, first + count)).length === count && seen.every((v) => v !== null));
  return seen as number[];
}

export interface UsageVen {
  readonly venId: string;
  /** Posts 15 one-minute intervals of `kw` (siScaleCode k) ending at `toMs` as TELEMETRY_USAGE; the VTN's answer's HTTP status. */
  report(toMs: number, kw: number): Promise<number>;
}

/**
 * A VEN over HTTP that registers as `venName`, offers its usage telemetry (rId `power`, kW) and
 * takes the VTN's report request for it; `report` sends a quarter hour of usage.
 */
export async function usageVen(url: string, venName: string, nowMs: number): Promise<UsageVen> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const { venId } = await registerVen(url, venName);
  const metadata = ven.telemetryMetadata(venId, { requestId: 'rq-meta', duration: 'PT24H', rId: 'power', siScaleCode: 'k', minPeriod: 'PT10S', maxPeriod: 'PT1H', reportSpecifierId: 'usage-spec', createdDateTime: iso(nowMs) });
  const registered = await call(url, 'EiReport', metadata, 'RegisteredReport');
  const reportRequestId = registered.reportRequests?.find((r) => r.specifier.specifierPayloads.some((p) => p.rId === 'power'))?.reportRequestId as string;
  return {
    venId,
    async report(toMs, kw) {
      const intervals: ReportInterval[] = Array.from({ length: 15 }, (_, i) => ({ duration: 'PT1M', uid: String(i), payloads: [{ rId: 'power', value: { type: 'float', value: kw } }] }));
      const update: Payload = {
        type: 'UpdateReport',
        schemaVersion: '2.0b',
        requestId: `rq-up-${toMs}`,
        venId,
        reports: [{ dtstart: iso(toMs - 15 * 60_000), intervals, reportRequestId, reportSpecifierId: 'usage-spec', reportName: 'TELEMETRY_USAGE', createdDateTime: iso(toMs) }],
      };
      return (await post(url, 'EiReport', update)).status;
    },
  };
}
