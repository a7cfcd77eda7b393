/**
 * Our own VTN and VEN as the suite's peers in tests: the VTN on loopback with the real clock and
 * an admin token (its admin API is the adapter), the VEN pointed at the suite with short poll and
 * tick intervals (its `ven.opt` API is the adapter: what an operator of our VEN would call).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVen, type Ven, type VenOptions } from '../../ven/index.ts';
import { createMemoryDevice } from '../../ven/testing/memory-device.ts';
import { startTestVtn } from '../../vtn/testing/fake-ven.ts';
import { createAdminAdapter } from '../adapters/admin.ts';
import type { VenAdapter, VtnAdapter } from '../adapters/adapter.ts';
import type { Transport } from '../case.ts';
import { startXmppRig, type XmppRig } from '../../vtn/testing/xmpp-ven.ts';
import type { XmppClient } from '../../xmpp/index.ts';

const ADMIN_TOKEN = 'conformance-operator-token-0123456789';

/**
 * Waits for tests on a shared, loaded machine: long enough that a sound peer is never taken for a
 * silent one. They bound only what a failing case costs; a passing case does not wait them out.
 */
export const PATIENT = Object.freeze({ deliveryTimeoutMs: 30_000, caseTimeoutMs: 60_000, waitMs: 30_000 });
export const OUR_MARKET_CONTEXT = 'http://MarketContext1';

export async function startOurVtn(t: { after(fn: () => unknown): void }): Promise<{ url: string; adapter: VtnAdapter }> {
  const realClock = { now: Date.now, set: () => undefined, advance: () => undefined };
  const { url } = await startTestVtn(t, {}, { clock: realClock, adminToken: ADMIN_TOKEN });
  return { url, adapter: createAdminAdapter({ url: `${url}/api/v1`, token: ADMIN_TOKEN }) };
}

/**
 * Our VTN over XMPP: a real Prosody with certificate logins (xmpp/testing), the VTN's connection as
 * `vtn@localhost/vtn`, and the suite's connection (not started) as `conformance@localhost/suite`.
 */
export async function startOurXmppVtn(t: { after(fn: () => unknown): void }): Promise<{ url: string; adapter: VtnAdapter; rig: XmppRig; vtnJid: string; suite: XmppClient }> {
  const rig = await startXmppRig(t);
  const vtnClient = await rig.connection('vtn', 'vtn');
  const realClock = { now: Date.now, set: () => undefined, advance: () => undefined };
  const { url } = await startTestVtn(t, {}, { clock: realClock, adminToken: ADMIN_TOKEN, xmpp: vtnClient });
  const suite = await rig.connection('conformance', 'suite');
  return { url, adapter: createAdminAdapter({ url: `${url}/api/v1`, token: ADMIN_TOKEN }), rig, vtnJid: vtnClient.jid() ?? '', suite };
}

/** A Prosody (certificate logins) with the suite's connection as the VTN `vtn@localhost/vtn` (not started) and a maker of our VEN's. */
export async function startXmppVenRig(t: { after(fn: () => unknown): void }): Promise<{ rig: XmppRig; suite: XmppClient }> {
  const rig = await startXmppRig(t);
  return { rig, suite: await rig.connection('vtn', 'vtn') };
}

/** Our VEN over XMPP as `local@localhost/ven`, its VTN at `vtnJid` (the suite, or a relay in front of it). */
export async function startOurXmppVen(t: { after(fn: () => unknown): void }, rig: XmppRig, vtnJid: string, local = 'ven-under-test'): Promise<Ven> {
  const client = await rig.connection(local, 'ven');
  return startOurVen(t, 'unused:', 'xmpp', { venName: local, xmpp: { client, vtnJid } });
}

/** Starts our VEN against `vtnUrl` (the suite, or a proxy in front of it), `extra` options over the defaults; stopped and its data removed by `t.after`. */
export async function startOurVen(t: { after(fn: () => unknown): void }, vtnUrl: string, transport: Transport, extra: Partial<VenOptions> = {}): Promise<Ven> {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-ven-'));
  const ven = await createVen({
    vtnUrl,
    venName: 'ven-under-test',
    device: createMemoryDevice(),
    dataDir: dir,
    tickMs: 200,
    pollIntervalMs: 100,
    marketContexts: [OUR_MARKET_CONTEXT],
    ...(transport === 'http-push' ? { push: { host: '127.0.0.1', port: 0 } } : {}),
    ...extra,
  });
  t.after(async () => {
    await ven.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await ven.start();
  return ven;
}

/** The VEN-side adapter for our VEN: `ven.opt.schedule` / `ven.opt.cancel`, once `current()` has a VEN. */
export function ourVenAdapter(current: () => Ven | undefined): VenAdapter {
  const ven = (): Ven => {
    const v = current();
    if (v === undefined) throw new Error('our VEN is not started yet');
    return v;
  };
  return {
    name: 'ours',
    async perform(action, o) {
      if (action === 'cancel-opt') return ven().opt.cancel(o.optId ?? '');
      const optType = o.optType ?? 'optOut';
      if (action === 'opt-event') {
        await ven().opt.schedule({ optType, eventId: o.eventId });
        return;
      }
      await ven().opt.schedule({
        optId: o.optId,
        optType,
        windows: [{ start: o.startMs ?? Date.now(), durationMs: (o.durationMinutes ?? 60) * 60_000 }],
        ...(o.resourceId === undefined ? {} : { resourceIds: [o.resourceId] }),
      });
    },
  };
}
