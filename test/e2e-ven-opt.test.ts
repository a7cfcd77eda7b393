/**
 * EiOpt from our VEN to our VTN over HTTP on loopback (R200–R211): availability schedules reach the
 * VTN's `opt.availableAt`, cancels remove them, refusals come back as OPT_REFUSED, schedules survive
 * a VEN restart, and a device that goes offline mid-event opts the VEN out of the event with an
 * oadrCreateOpt (R206) that the VTN's event view shows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createMemoryDevice, type MemoryDevice } from '../ven/testing/memory-device.ts';
import { VenError } from '../ven/errors.ts';
import { createVen, type Ven } from '../ven/ven.ts';
import { startTestVtn, type TestVtn } from '../vtn/testing/fake-ven.ts';
import { until } from './support/until.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Rig {
  readonly vtn: TestVtn;
  readonly dir: string;
  startVen(device?: MemoryDevice, start?: boolean): Promise<Ven>;
}

async function rig(t: TestContext): Promise<Rig> {
  const vtn = await startTestVtn(t, { pollFrequencyMs: 1000 });
  const dir = mkdtempSync(join(tmpdir(), 'e2e-ven-opt-'));
  const running: Ven[] = [];
  t.after(async () => {
    for (const v of running) await v.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    vtn,
    dir,
    async startVen(device = createMemoryDevice(), start = true) {
      const ven = await createVen({ vtnUrl: vtn.url, venName: 'house-1', device, dataDir: dir, tickMs: 3_600_000, clock: vtn.clock.now, backoff: { initialMs: 20, capMs: 100 }, random: () => 0.5 });
      running.push(ven);
      if (start) {
        await ven.start();
        await ven.session.whenOperational();
      }
      return ven;
    },
  };
}

const venIdOf = (ven: Ven): string => ven.status().registration?.venId ?? '';

test('R200+R202+R210 VEN→VTN: an optOut schedule with two windows (one open-ended) shows in vtn.opt.availableAt', async (t: TestContext) => {
  const { vtn, startVen } = await rig(t);
  const ven = await startVen();
  const venId = venIdOf(ven);
  const t0 = vtn.clock.now();
  const rec = await ven.opt.schedule({ optId: 'vacation', optType: 'optOut', windows: [{ start: t0 + HOUR, durationMs: 2 * HOUR }, { start: t0 + 10 * HOUR, durationMs: 0 }] });
  t.assert.equal(rec.status, 'acknowledged');
  t.assert.equal(rec.optReason, 'notParticipating');
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + 30 * MIN), true);
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + 90 * MIN), false);
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + 4 * HOUR), true);
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + 1000 * HOUR), false, 'duration 0 is open-ended (R210)');
  const stored = vtn.vtn.opt.list(venId);
  t.assert.deepStrictEqual(stored.map((x) => [x.optId, x.optType, x.resources, x.windows.length]), [['vacation', 'optOut', [], 2]]);
});

test('R204+R208+R211 VEN→VTN: oadrCancelOpt removes the schedule; cancelling it again is refused with 452 and forgotten', async (t: TestContext) => {
  const { vtn, startVen } = await rig(t);
  const ven = await startVen();
  const venId = venIdOf(ven);
  const t0 = vtn.clock.now();
  await ven.opt.schedule({ optId: 'o1', optType: 'optOut', windows: [{ start: t0, durationMs: HOUR }] });
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + MIN), false);
  await ven.opt.cancel('o1');
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + MIN), true);
  t.assert.deepStrictEqual(ven.opt.list(), []);
  await t.assert.rejects(ven.opt.cancel('o1'), (err: unknown) => err instanceof VenError && err.code === 'OPT_REFUSED' && err.responseCode === 452);
});

test('R205 VEN→VTN: a schedule for a marketContext the VTN does not run is refused (462) and not kept', async (t: TestContext) => {
  const { vtn, startVen } = await rig(t);
  const ven = await startVen();
  await t.assert.rejects(
    ven.opt.schedule({ optId: 'bad', optType: 'optOut', marketContext: 'http://elsewhere.example/program', windows: [{ start: vtn.clock.now(), durationMs: HOUR }] }),
    (err: unknown) => err instanceof VenError && err.code === 'OPT_REFUSED' && err.responseCode === 462,
  );
  t.assert.deepStrictEqual(ven.opt.list(), []);
  await t.assert.rejects(ven.opt.schedule({ optType: 'optIn' }), (err: unknown) => err instanceof VenError && err.code === 'INVALID_CONFIG', 'R206: a schedule without an event needs windows');
});

test('R200 VEN: a schedule made before registration is pending, sent once operational, and kept across a restart', async (t: TestContext) => {
  const { vtn, startVen } = await rig(t);
  const first = await startVen(createMemoryDevice(), false);
  const t0 = vtn.clock.now();
  const rec = await first.opt.schedule({ optId: 'early', optType: 'optOut', windows: [{ start: t0, durationMs: HOUR }] });
  t.assert.equal(rec.status, 'pending');
  await first.start();
  await first.session.whenOperational();
  const venId = venIdOf(first);
  await until('the pending schedule reaches the VTN', () => first.opt.list()[0]?.status === 'acknowledged');
  t.assert.equal(vtn.vtn.opt.availableAt(venId, t0 + MIN), false);
  await first.stop();
  const second = await startVen(createMemoryDevice(), false);
  t.assert.deepStrictEqual(second.opt.list().map((r) => [r.optId, r.status, r.windows]), [['early', 'acknowledged', [{ dtstart: new Date(t0).toISOString(), duration: 'PT1H' }]]]);
});

test('R206 VEN→VTN: the device goes offline mid-event, the VEN opts out with oadrCreateOpt and the VTN event view shows optOut', async (t: TestContext) => {
  const { vtn, startVen } = await rig(t);
  const device = createMemoryDevice();
  const ven = await startVen(device);
  const venId = venIdOf(ven);
  vtn.vtn.events.create({ eventId: 'ev-1', start: vtn.clock.now() + 15 * MIN, slots: 4, perVenReductionW: { [venId]: 1000 } });
  ven.session.pollNow();
  const vtnOpt = (): string | undefined => vtn.vtn.events.get('ev-1')?.vens.find((v) => v.venId === venId)?.optType;
  await until('the VEN opts in with oadrCreatedEvent', () => vtnOpt() === 'optIn');
  vtn.clock.advance(20 * MIN);
  await ven.tick();
  t.assert.equal(ven.status().setting?.eventId, 'ev-1', 'the event runs on the device');

  device.set({ online: false });
  await ven.tick();
  t.assert.equal(vtnOpt(), 'optOut');
  t.assert.equal(ven.status().events.events['ev-1']?.optType, 'optOut');
  t.assert.equal(ven.status().setting, undefined, 'the VEN stops acting on the event');
  const sent = vtn.vtn.opt.list(venId);
  t.assert.deepStrictEqual(sent.map((x) => [x.eventId, x.optType, x.optReason, x.windows.length]), [['ev-1', 'optOut', 'outageRunStatus', 0]]);

  // CHOICE: no automatic opt-in when the device returns.
  device.set({ online: true });
  await ven.tick();
  t.assert.equal(vtnOpt(), 'optOut');
  t.assert.equal(vtn.vtn.opt.list(venId).length, 1);

  // An explicit later opt for the event (R206) flips it back.
  await ven.opt.schedule({ optType: 'optIn', eventId: 'ev-1' });
  t.assert.equal(vtnOpt(), 'optIn');
  t.assert.equal(ven.status().events.events['ev-1']?.optType, 'optIn');
});
