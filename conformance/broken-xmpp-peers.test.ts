/**
 * Honesty of the XMPP cases (§9.3, R38, R507): each fails against a VTN with its fault planted (a
 * relay in front of our VTN, or in front of our VEN, conformance/testing/xmpp-relay.ts), on its own
 * rule, and the same relay without a fault passes them all.
 */
import { test, type TestContext } from 'node:test';
import type { RunResult } from './case.ts';
import { vtnXmppCases } from './cases/vtn-xmpp.ts';
import { payloadChecks } from './checker.ts';
import { startXmppRelay, type XmppFault } from './testing/xmpp-relay.ts';
import { PATIENT, startOurXmppVen, startOurXmppVtn, startXmppVenRig } from './testing/our-peers.ts';
import { startVenSuite } from './ven-suite.ts';
import { venXmppCases } from './cases/ven-xmpp.ts';
import { runVtnSuite } from './vtn-suite.ts';

const FAULTS: ReadonlyArray<[XmppFault, string, RegExp]> = [
  ['no-xmpp-profile', 'R38+R507-xmpp-registration', /does not list the xmpp transport/],
  ['any-transport-address', '§9.3.4.1-transport-address-is-sender', /registered a JID that did not send the registration/],
  ['empty-result', '§9.3.4.2+§9.3.4.3-iq-result-payload', /IQ result to an operation that has an answer is empty/],
  ['schema-invalid-acted-on', '§9.3.4.4.2-schema-invalid-bad-request', /cancellation was acted on/],
  ['get-served', '§9.3.4.2-iq-get-refused', /in an IQ get with an IQ result/],
  ['foreign-child-served', '§9.3.4.4.2-foreign-child', /foreign child with an IQ result/],
  ['poll-served', 'R507-no-poll', /served oadrPoll over XMPP/],
  ['no-disco-feature', '§9.3.4.9.1-disco-feature', /does not advertise the OpenADR feature/],
  ['missing-service', '§9.3.4.9.2-disco-services', /does not list every OpenADR service/],
  ['no-ping', '§9.3.4.6-ping', /does not answer XMPP Ping/],
  ['push-lost-offline', '§9.3.4.5-presence-delivers', /pushed nothing of what the case waits for/],
  ['created-event-refused', '§9.3.4.3+R42-created-event-iq', /answered IQ error bad-request/],
];

/** The relay without a fault passes every case; with each fault, its case fails on its rule with the fault's finding. */
async function soundPassesFaultsFail(t: TestContext, run: (fault: XmppFault | undefined, only: string[]) => Promise<RunResult>, cases: readonly { id: string }[], faults: ReadonlyArray<[XmppFault, string, RegExp]>): Promise<void> {
  t.assert.deepEqual(new Set(faults.map(([, id]) => id)), new Set(cases.map((c) => c.id)), 'one fault per XMPP case');
  const sound = await run(undefined, cases.map((c) => c.id));
  t.assert.ok(sound.cases.length === cases.length && sound.cases.every((c) => c.outcome === 'passed'), summary(sound));
  for (const [fault, id, message] of faults) {
    const r = await run(fault, [id]);
    const c = r.cases.find((x) => x.id === id);
    t.assert.equal(c?.outcome, 'failed', `${fault}: ${summary(r)}`);
    t.assert.ok(c?.findings.some((f) => f.ruleIds.some((rule) => c.ruleIds.includes(rule)) && message.test(f.message)), `${fault}: the failure names the case's rule and the fault: ${summary(r)}`);
  }
}

const summary = (run: RunResult): string => run.cases.map((c) => `${c.id}: ${c.outcome} ${c.findings.map((f) => f.message).join('; ')}`).join('\n');

test('every XMPP case fails against the VTN with its fault, on its rule; the relay without a fault passes them', async (t: TestContext) => {
  const { adapter, rig, vtnJid } = await startOurXmppVtn(t);
  const run = async (fault: XmppFault | undefined, only: string[]): Promise<RunResult> => {
    const name = fault ?? 'sound';
    const relay = await rig.connection(`relay-${name}`, 'vtn');
    t.after(() => relay.stop());
    const relayJid = await startXmppRelay(relay, vtnJid, fault);
    const suite = await rig.connection('conformance', `suite-${name}`);
    // Our client answers XMPP Ping whatever the relay wants: a VTN without it is a JID nobody answers at
    // (the server answers service-unavailable for the absent resource).
    const peer = fault === 'no-ping' ? `${relayJid}-gone` : relayJid;
    return runVtnSuite({ url: rig.prosody.url, transport: 'xmpp', adapter, xmpp: { client: suite, vtnJid: peer }, only, deliveryTimeoutMs: 8_000, caseTimeoutMs: PATIENT.caseTimeoutMs, checks: payloadChecks });
  };
  await soundPassesFaultsFail(t, run, vtnXmppCases, FAULTS);
});

const VEN_FAULTS: ReadonlyArray<[XmppFault, string, RegExp]> = [
  ['foreign-address', '§9.3.4.1+R507-ven-registers-its-jid', /not the full JID the VEN registered from/],
  ['distribute-answered', '§9.3.4.3+R42-distribute-event-empty-result', /not acknowledged with an empty IQ result/],
  ['schema-invalid-acted-on', '§9.3.4.4.2-ven-schema-invalid-bad-request', /acted on it/],
  ['get-served', '§9.3.4.2-ven-iq-get-refused', /served an OpenADR payload sent as IQ get/],
  ['poll-sent', 'R507-ven-never-polls', /polled over XMPP/],
  ['no-disco-feature', '§9.3.4.9.3-ven-disco-feature', /does not advertise the OpenADR feature/],
  ['no-ping', '§9.3.4.6-ven-ping', /does not answer XMPP Ping/],
];

test('every VEN-side XMPP case fails against the VEN with its fault, on its rule; the relay without a fault passes them', async (t: TestContext) => {
  const { rig } = await startXmppVenRig(t);
  const run = async (fault: XmppFault | undefined, only: string[]): Promise<RunResult> => {
    const name = fault ?? 'sound';
    const client = await rig.connection('vtn', `suite-${name}`);
    const suite = await startVenSuite({
      transport: 'xmpp',
      xmpp: { client },
      only,
      waitMs: PATIENT.waitMs,
      caseTimeoutMs: PATIENT.caseTimeoutMs,
      checks: payloadChecks,
      onListening: async (url) => {
        const relay = await rig.connection(`relay-${name}`, 'ven');
        t.after(() => relay.stop());
        await startOurXmppVen(t, rig, await startXmppRelay(relay, url.replace(/^xmpp:/, ''), fault), `ven-${name}`);
      },
    });
    t.after(() => suite.close());
    return suite.run();
  };
  await soundPassesFaultsFail(t, run, venXmppCases, VEN_FAULTS);
});
