/**
 * XMPP in a cluster: two VTN processes on one PostgreSQL store, each with its own XMPP connection
 * to a real Prosody as the VTN's account with its own resource (`vtn-1`, `vtn-2`), and two XMPP
 * VENs, each talking to one of them (its configured full JID). A VEN's IQ sets are handled by the
 * process its JID names; the other process sees their effect (one store). A push goes from the
 * process that holds the VEN's push claim (an advisory lock per VEN), whichever it is: the VENs
 * take pushes from any resource of the VTN's account (R515 checks the bare JID), and each payload
 * is delivered exactly once although both processes wake the VEN (one at the event's creation,
 * the lease holder's push sweep every poll interval) while a slow VEN's answer is pending.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Payload } from '../../oadr/index.ts';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { createTestClock, startTestVtn, ven } from '../testing/fake-ven.ts';
import { startXmppRig, startXmppTestVen, type XmppTestVen } from '../testing/xmpp-ven.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

const POLL_MS = 1000;

test('XMPP cluster: two processes, one account with a resource each; IQs handled by the process the VEN addresses, every push delivered once by one process', { timeout: 120_000 }, async (t) => {
  const rig = await startXmppRig(t);
  const store = pg.createDatabase();
  const clock = createTestClock(Date.now());
  const processes = [];
  for (const resource of ['vtn-1', 'vtn-2']) {
    const client = await rig.connection('vtn', resource);
    const started = await startTestVtn(t, { store, pollFrequencyMs: POLL_MS, push: { initialBackoffMs: 20, timeoutMs: 10_000 } }, { xmpp: client, clock });
    processes.push({ ...started, jid: client.jid() ?? '' });
  }
  const [one, two] = processes as [(typeof processes)[0], (typeof processes)[0]];
  assert.deepEqual([one.jid, two.jid], ['vtn@localhost/vtn-1', 'vtn@localhost/vtn-2']);

  // A slow VEN: each push is answered 1.5 poll intervals after it arrived, so pushes are in flight while the sweep runs.
  const a = await startXmppTestVen(t, rig, 'ven-a', one.jid, { answerDelayMs: 1.5 * POLL_MS });
  const b = await startXmppTestVen(t, rig, 'ven-b', two.jid, { answerDelayMs: 1.5 * POLL_MS });
  const register = async (v: XmppTestVen, name: string): Promise<string> => {
    const created = await v.call({ ...ven.create({ venName: name, pull: false, transportAddress: v.jid }), transportName: 'xmpp' } as Payload, 'CreatedPartyRegistration');
    assert.equal(created.response.code, 200, created.response.description);
    return created.venId ?? '';
  };
  const venA = await register(a, 'ven-a');
  const venB = await register(b, 'ven-b');
  // Each registration, made through one process, is the other's too.
  assert.equal(two.vtn.store.getRegistration(venA)?.transportAddress, a.jid);
  assert.equal(one.vtn.store.getRegistration(venB)?.transportAddress, b.jid);

  // Created on process 1 for both VENs; process 1 wakes both, the sweep's lease holder wakes them too.
  one.vtn.events.create({ eventId: 'dr-cluster', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [venA]: 300, [venB]: 500 } });
  await a.waitForPushed(2);
  await b.waitForPushed(2);
  const empty = (venId: string) => one.vtn.store.queueDepth(venId) === 0;
  for (let i = 0; i < 100 && !(empty(venA) && empty(venB)); i++) await new Promise((r) => setTimeout(r, 50));
  // Three more sweeps: nothing is pushed again.
  await new Promise((r) => setTimeout(r, 3 * POLL_MS));
  for (const v of [a, b]) assert.deepEqual(v.pushed.map((p) => p.type), ['RegisterReport', 'DistributeEvent'], `${v.jid}: each payload once`);

  // ven-b's oadrCreatedEvent goes to process 2 (its JID); process 1 shows the opt state.
  const distribute = b.pushed[1] as Extract<Payload, { type: 'DistributeEvent' }>;
  const ack = await b.call(ven.createdEvent(venB, [{ eventId: 'dr-cluster', modificationNumber: 0, requestId: distribute.requestId }]), 'Response');
  assert.equal(ack.response.code, 200);
  assert.equal(one.vtn.events.get('dr-cluster')?.vens.find((x) => x.venId === venB)?.optType, 'optIn');
});
