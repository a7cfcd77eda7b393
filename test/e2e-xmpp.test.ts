/**
 * OpenADR over XMPP end to end, against a real Prosody with certificate authentication (SASL
 * EXTERNAL, CN = the JID's local part), and the full flow also through a real ejabberd (SCRAM): the real VEN (ven/createVen) and the VTN on the embedded
 * ledger — register, the event with the customer's own load amount pushed, oadrCreatedEvent,
 * telemetry reports reaching the ledger, the cancellation; a mixed fleet (HTTP pull, HTTP push,
 * XMPP) in one event; a VEN whose socket is cut reconnecting and getting what it missed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EVENT_DAY } from '../chaincode/testing/reference-scenario.ts';
import { createVen, RegistrationStatus, type Ven } from '../ven/index.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { startTestVtn } from '../vtn/testing/fake-ven.ts';
import { recordedSlots, startLedgerVtn, tickMinutes } from '../vtn/testing/ledger-vtn.ts';
import { startXmppRig, type XmppRig } from '../vtn/testing/xmpp-ven.ts';
import { startTcpProxy } from '../xmpp/testing/tcp-proxy.ts';
import { until } from './support/until.ts';
import { encodeOadr, type Payload } from '../oadr/index.ts';
import { createXmppClient, payloadElement, XmppStanzaError } from '../xmpp/index.ts';
import { startEjabberd } from '../xmpp/testing/ejabberd.ts';
import { createXmppTestPki } from '../xmpp/testing/prosody.ts';

const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);

/** Registered and synced (a VEN that never registers fails the test instead of hanging it). */
const operational = (ven: Ven): Promise<void> => until(`${ven.status().registration?.venId ?? 'the VEN'} operational`, () => ven.session.status() === RegistrationStatus.OPERATIONAL, 20_000);

function tempDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-xmpp-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function xmppVen(t: { after(fn: () => unknown): void }, rig: Connections, o: { venName: string; vtnJid?: string; dir: string; clock?: () => number; url?: string; basePowerW?: number }): Promise<Ven> {
  const client = await rig.connection(o.venName, 'ven', { reconnectDelayMs: () => 100, ...(o.url === undefined ? {} : { url: o.url }) });
  const ven = await createVen({
    vtnUrl: 'unused:',
    venName: o.venName,
    device: createMemoryDevice(undefined, o.basePowerW ?? 1500),
    dataDir: o.dir,
    xmpp: { client, ...(o.vtnJid === undefined ? {} : { vtnJid: o.vtnJid }) },
    tickMs: 3_600_000,
    reports: { minPeriodMs: MIN },
    random: () => 0.5,
    backoff: { initialMs: 50, capMs: 500 },
    ...(o.clock === undefined ? {} : { clock: o.clock }),
  });
  t.after(() => ven.stop());
  return ven;
}

/** Connections to one XMPP server, logged in as `local` with a fixed resource. */
type Connections = Pick<XmppRig, 'connection'>;

/** The full flow through one XMPP server (Prosody or ejabberd): the same steps as over HTTP. */
async function fullFlow(t: TestContext, rig: Connections): Promise<void> {
  const vtnClient = await rig.connection('vtn', 'vtn');
  const { clock, ledger: vl, vtn } = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-xmpp-',
    start: START - 10 * MIN,
    customerId: A,
    venName: 'house-a',
    config: { programs: [{ id: 'default', reportGranularityMs: MIN, reportBackDurationMs: SLOT }] },
    xmpp: vtnClient,
  });
  const dir = tempDir(t);
  const ven = await xmppVen(t, rig, { venName: 'house-a', vtnJid: vtnClient.jid() ?? '', dir, clock: clock.now });
  await ven.start();
  await operational(ven);
  const venId = ven.status().registration?.venId ?? '';
  t.assert.equal(vtn.store.getRegistration(venId)?.transportAddress, 'house-a@localhost/ven');
  await until('the usage report request', () => vtn.reports.requests(venId).some((r) => r.reportName === 'TELEMETRY_USAGE' && r.state === 'active'));

  const created = await vtn.events.create({ eventId: 'ev-x', start: START, slots: 4, reductionW: [300, 300, 400, 400], targets: { customerIds: [A] } });
  const opr = created.vens[0]?.oprW ?? [];
  t.assert.equal(opr.length, 4);
  // Pushed, no poll: the VEN opts in by its own IQ set.
  await until('the VEN opts in', () => vtn.events.get('ev-x')?.vens[0]?.optType === 'optIn');
  t.assert.deepEqual(ven.status().events.events['ev-x']?.event.signals.map((sig) => sig.intervals.length), [4], 'the event with its intervals is in the VEN');

  await tickMinutes(ven, clock, START, -5, 76);
  const slots = await recordedSlots(vl, A, EVENT_DAY, 68, 4);
  slots.forEach((w, i) => assert.ok(Math.abs(w - (1500 - (opr[i] ?? 0))) <= 15, `slot ${68 + i}: ${w} W recorded, device at ${1500 - (opr[i] ?? 0)} W`));

  // The VTN cancels a second event: the cancellation is pushed and acknowledged.
  await vtn.events.create({ eventId: 'ev-c', start: START + 24 * 60 * MIN, slots: 1, reductionW: [200], targets: { customerIds: [A] } });
  await until('the second event acknowledged', () => vtn.events.get('ev-c')?.vens[0]?.optType !== undefined);
  vtn.events.cancel('ev-c');
  // R52: the VEN's oadrCreatedEvent for the cancelled version acknowledges it.
  await until('the VEN acknowledges the cancellation', () => vtn.events.get('ev-c')?.vens[0]?.cancelAcked === true);
}

test('R507 full flow over XMPP with the ledger: register, event with its OPR pushed, createdEvent, telemetry → recordEnergy, cancel', async (t) => {
  await fullFlow(t, await startXmppRig(t));
});

test('R507 full flow over XMPP through ejabberd (SCRAM accounts, its generated configuration): register, event, createdEvent, reports, cancel', async (t) => {
  const pki = await createXmppTestPki();
  const server = await startEjabberd({ pki });
  t.after(() => server.stop());
  const password = 'ejabberd-test-secret';
  await fullFlow(t, {
    async connection(local, resource, o = {}) {
      await server.register(local, password);
      return createXmppClient({
        url: o.url ?? server.url,
        jid: `${local}@${server.domain}`,
        resource,
        tls: { ca: pki.caPem },
        auth: { mechanism: 'SCRAM-SHA-1', password },
        reconnectDelayMs: o.reconnectDelayMs ?? (() => 100),
      });
    },
  });
});

/** The values of the VEN's stored event, per signal name: what it was told to do. */
const valuesAt = (ven: Ven, eventId: string): Record<string, number[]> =>
  Object.fromEntries((ven.status().events.events[eventId]?.event.signals ?? []).map((s) => [s.signalName, s.intervals.map((i) => i.value)]));

test('R38, §9.3.4.9: a mixed fleet — HTTP pull, HTTP push and XMPP (the VTN found by discovery) — in one event, each VEN with its own share', async (t) => {
  // The server lists the VTN among its items; the XMPP VEN has no VTN JID configured.
  const rig = await startXmppRig(t, { discoItems: [{ jid: 'vtn@localhost/vtn', name: 'OpenADR VTN' }, { jid: 'localhost', name: 'the server itself' }] });
  const vtnClient = await rig.connection('vtn', 'vtn');
  const { vtn, url, clock } = await startTestVtn(t, { push: { initialBackoffMs: 20 } }, { xmpp: vtnClient });
  const dir = tempDir(t);
  const common = { device: createMemoryDevice(undefined, 2000), tickMs: 3_600_000, clock: clock.now, random: () => 0.5, backoff: { initialMs: 50, capMs: 500 } };
  const pull = await createVen({ ...common, vtnUrl: url, venName: 'pull-1', dataDir: join(dir, 'pull') });
  t.after(() => pull.stop());
  const push = await createVen({ ...common, vtnUrl: url, venName: 'push-1', dataDir: join(dir, 'push'), push: { host: '127.0.0.1' } });
  t.after(() => push.stop());
  const x = await xmppVen(t, rig, { venName: 'xmpp-1', dir: join(dir, 'xmpp'), clock: clock.now, basePowerW: 2000 });
  const fleet = [pull, push, x];
  for (const v of fleet) await v.start();
  for (const v of fleet) await operational(v);
  const ids = fleet.map((v) => v.status().registration?.venId ?? '');
  t.assert.deepEqual(ids.map((id) => vtn.vens.get(id)?.transportName), ['simpleHttp', 'simpleHttp', 'xmpp']);

  vtn.events.create({ eventId: 'ev-mix', start: clock.now() + 30 * MIN, slots: 1, perVenReductionW: { [ids[0] ?? '']: 100, [ids[1] ?? '']: 200, [ids[2] ?? '']: 300 } });
  pull.session.pollNow();
  await until('every VEN opts in', () => vtn.events.get('ev-mix')?.vens.every((v) => v.optType === 'optIn') === true && vtn.events.get('ev-mix')?.vens.length === 3, 20_000);
  // Each VEN got its own load amount, whatever its transport.
  t.assert.deepEqual(fleet.map((v) => valuesAt(v, 'ev-mix')['LOAD_DISPATCH']), [[-100], [-200], [-300]]);

  // R515: another account's IQ set to the XMPP VEN is refused and changes nothing there.
  const intruder = await rig.connection('intruder', 'x');
  t.after(() => intruder.stop());
  await intruder.start();
  const forged: Payload = { type: 'CancelPartyRegistration', schemaVersion: '2.0b', requestId: 'rq-x', registrationId: x.status().registration?.registrationId ?? '', venId: ids[2] ?? '' };
  await t.assert.rejects(intruder.request('xmpp-1@localhost/ven', payloadElement(encodeOadr(forged))), (err: unknown) => err instanceof XmppStanzaError && err.condition === 'forbidden');
  t.assert.equal(x.status().registration?.venId, ids[2]);
});

test('an XMPP VEN whose socket is cut reconnects with back-off and gets the event it missed, once', async (t) => {
  const rig = await startXmppRig(t);
  const vtnClient = await rig.connection('vtn', 'vtn');
  const { vtn, clock } = await startTestVtn(t, { push: { initialBackoffMs: 20 } }, { xmpp: vtnClient });
  const proxy = await startTcpProxy(rig.prosody.port);
  t.after(() => proxy.close());
  const ven = await xmppVen(t, rig, { venName: 'house-r', vtnJid: vtnClient.jid() ?? '', dir: tempDir(t), clock: clock.now, url: proxy.url });
  await ven.start();
  await operational(ven);
  const venId = ven.status().registration?.venId ?? '';
  await until('the VTN queue drained', () => vtn.store.queueDepth(venId) === 0);

  proxy.dropAll();
  vtn.events.create({ eventId: 'ev-missed', start: clock.now() + 30 * MIN, slots: 1, perVenReductionW: { [venId]: 400 } });
  await until('the VEN got the event after reconnecting', () => valuesAt(ven, 'ev-missed')['LOAD_DISPATCH'] !== undefined, 20_000);
  await until('the VEN opts in', () => vtn.events.get('ev-missed')?.vens[0]?.optType === 'optIn');
  t.assert.deepEqual(valuesAt(ven, 'ev-missed')['LOAD_DISPATCH'], [-400]);
  t.assert.equal(vtn.events.get('ev-missed')?.vens[0]?.optModificationNumber, 0);

  // A Prosody restart drops both sides; they come back and the next event goes through.
  await rig.prosody.restart();
  vtn.events.create({ eventId: 'ev-after', start: clock.now() + 60 * MIN, slots: 1, perVenReductionW: { [venId]: 500 } });
  await until('the event after the restart', () => vtn.events.get('ev-after')?.vens[0]?.optType === 'optIn', 30_000);
});
