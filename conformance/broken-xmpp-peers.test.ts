/**
 * Honesty of the XMPP cases (§9.3, R38, R507): each fails against a VTN with its fault planted (a
 * relay in front of our VTN, conformance/testing/broken-xmpp-vtn.ts), on its own rule, and the
 * same relay without a fault passes them all.
 */
import { test, type TestContext } from 'node:test';
import type { RunResult } from './case.ts';
import { vtnXmppCases } from './cases/vtn-xmpp.ts';
import { payloadChecks } from './checker.ts';
import { startBrokenXmppVtn, type XmppVtnFault } from './testing/broken-xmpp-vtn.ts';
import { PATIENT, startOurXmppVtn } from './testing/our-peers.ts';
import { runVtnSuite } from './vtn-suite.ts';

const FAULTS: ReadonlyArray<[XmppVtnFault, string]> = [
  ['no-xmpp-profile', 'R38+R507-xmpp-registration'],
  ['any-transport-address', '§9.3.4.1-transport-address-is-sender'],
  ['empty-result', '§9.3.4.2+§9.3.4.3-iq-result-payload'],
  ['schema-invalid-acted-on', '§9.3.4.4.2-schema-invalid-bad-request'],
  ['get-served', '§9.3.4.2-iq-get-refused'],
  ['foreign-child-served', '§9.3.4.4.2-foreign-child'],
  ['poll-served', 'R507-no-poll'],
  ['no-disco-feature', '§9.3.4.9.1-disco-feature'],
  ['missing-service', '§9.3.4.9.2-disco-services'],
  ['no-ping', '§9.3.4.6-ping'],
  ['push-lost-offline', '§9.3.4.5-presence-delivers'],
  ['created-event-refused', '§9.3.4.3+R42-created-event-iq'],
];

const summary = (run: RunResult): string => run.cases.map((c) => `${c.id}: ${c.outcome} ${c.findings.map((f) => f.message).join('; ')}`).join('\n');

test('every XMPP case fails against the VTN with its fault, on its rule; the relay without a fault passes them', async (t: TestContext) => {
  const { adapter, rig, vtnJid } = await startOurXmppVtn(t);
  t.assert.deepEqual(new Set(FAULTS.map(([, id]) => id)), new Set(vtnXmppCases.map((c) => c.id)), 'one fault per XMPP case');
  const run = async (fault: XmppVtnFault | undefined, only: string[]): Promise<RunResult> => {
    const name = fault ?? 'sound';
    const relay = await rig.connection(`relay-${name}`, 'vtn');
    t.after(() => relay.stop());
    const relayJid = await startBrokenXmppVtn(relay, vtnJid, fault);
    const suite = await rig.connection('conformance', `suite-${name}`);
    // Our client answers XMPP Ping whatever the relay wants: a VTN without it is a JID nobody answers at
    // (the server answers service-unavailable for the absent resource).
    const peer = fault === 'no-ping' ? `${relayJid}-gone` : relayJid;
    return runVtnSuite({ url: rig.prosody.url, transport: 'xmpp', adapter, xmpp: { client: suite, vtnJid: peer }, only, deliveryTimeoutMs: 8_000, caseTimeoutMs: PATIENT.caseTimeoutMs, checks: payloadChecks });
  };
  const sound = await run(undefined, vtnXmppCases.map((c) => c.id));
  t.assert.ok(sound.cases.length === vtnXmppCases.length && sound.cases.every((c) => c.outcome === 'passed'), summary(sound));
  for (const [fault, id] of FAULTS) {
    const r = await run(fault, [id]);
    const c = r.cases.find((x) => x.id === id);
    t.assert.equal(c?.outcome, 'failed', `${fault}: ${summary(r)}`);
    t.assert.ok(c?.findings.some((f) => f.ruleIds.some((rule) => c.ruleIds.includes(rule))), `${fault}: the failure names the case's rule: ${summary(r)}`);
  }
});
