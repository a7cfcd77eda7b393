/**
 * A RunResult for tests of the reports, with one case of each outcome and a big message: its
 * messages are the golden fixtures (some with a small edit that breaks a rule) and its findings are
 * what the payload checker says about them, so every report shows real checker output.
 */
import { readFileSync } from 'node:fs';
import { decodeOadr, encodeOadr, type OadrEvent } from '../../oadr/index.ts';
import type { CaseResult, Exchange, Family, RunResult } from '../case.ts';
import { checkExchanges, payloadChecks } from '../checker.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/oadr/${name}`, import.meta.url), 'utf8');

/** XML on one line, as many peers send it. */
const compact = (xml: string): string => xml.replace(/>\s+</g, '><');

const PEER = 'https://vtn.example.com:8443';
const T0 = Date.parse('2026-12-07T16:00:00Z');

/** An HTTP request the suite sent and the peer's answer, as the runner records them. */
function post(at: number, service: string, request: string, status: number, response: string, responseHeaders: Record<string, string> = {}): Exchange[] {
  const headers = (body: string) => ({ 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) });
  return [
    { at, direction: 'sent', channel: 'http', method: 'POST', url: `${PEER}/OpenADR2/Simple/2.0b/${service}`, headers: { host: 'vtn.example.com:8443', ...headers(request) }, body: request },
    { at: at + 40, direction: 'received', channel: 'http', status, headers: { ...headers(response), ...responseHeaders }, body: response, answers: 0 },
  ];
}

interface CaseSpec {
  readonly id: string;
  readonly title: string;
  readonly ruleIds: readonly string[];
  readonly family: Family;
  readonly exchanges: readonly Exchange[];
  readonly outcome?: CaseResult['outcome'];
  readonly reason?: string;
}

let clock = T0;
function result(spec: CaseSpec): CaseResult {
  const findings = checkExchanges(spec.exchanges, payloadChecks);
  const startedAt = clock;
  clock += 350;
  const outcome = spec.outcome ?? (findings.length > 0 ? 'failed' : 'passed');
  return { id: spec.id, title: spec.title, ruleIds: spec.ruleIds, side: 'vtn', family: spec.family, transport: 'http-pull', outcome, ...(spec.reason === undefined ? {} : { reason: spec.reason }), findings, exchanges: spec.exchanges, startedAt, durationMs: 310 };
}

/** An oadrDistributeEvent of `count` events (the load-dispatch fixture's event under new IDs): about 13 KiB per event. */
export function bigDistributeEvent(count: number): string {
  const message = decodeOadr(fixture('oadrDistributeEvent-load-dispatch-48.xml'));
  const p = message.payload;
  if (p.type !== 'DistributeEvent' || p.events?.[0] === undefined) throw new Error('the load-dispatch fixture holds one oadrDistributeEvent');
  const first: OadrEvent = p.events[0];
  const events = Array.from({ length: count }, (_, i): OadrEvent => ({ ...first, descriptor: { ...first.descriptor, eventId: `evt-bulk-${String(i).padStart(4, '0')}` }, activePeriod: { ...first.activePeriod, dtstart: new Date(Date.parse(first.activePeriod.dtstart) + i * 86_400_000).toISOString() } }));
  return encodeOadr({ payload: { ...p, events } });
}

/** The sample run: 8 cases — 3 passed, 2 failed, 1 skipped, 1 expected-fail, 1 unexpected-pass. */
export function sampleRun(): RunResult {
  clock = T0;
  const poll = fixture('oadrPoll.xml');
  const distribute = fixture('oadrDistributeEvent-multi.xml');
  const cases = [
    result({ id: 'R402+R403-pull-registration', title: 'a pull registration gets registrationID, venID, vtnID, profiles and the poll frequency', ruleIds: ['R402', 'R403'], family: 'registration', exchanges: post(clock, 'EiRegisterParty', fixture('oadrCreatePartyRegistration-pull.xml'), 200, fixture('oadrCreatedPartyRegistration.xml')) }),
    result({ id: 'R500-poll-empty-queue', title: 'oadrPoll on an empty queue gets oadrResponse 200', ruleIds: ['R500'], family: 'poll', exchanges: post(clock, 'OadrPoll', poll, 200, fixture('oadrResponse-empty-queue.xml')) }),
    result({ id: 'R1-utc-times', title: 'every date-time of an oadrDistributeEvent is UTC with Z', ruleIds: ['R1'], family: 'event', exchanges: post(clock, 'OadrPoll', poll, 200, distribute.replace('<ei:createdDateTime>2025-06-12T08:15:00Z</ei:createdDateTime>', '<ei:createdDateTime>2025-06-12T10:15:00+02:00</ei:createdDateTime>')) }),
    result({ id: 'R45-no-schema-location', title: 'no schemaLocation in any answer', ruleIds: ['R45'], family: 'general', exchanges: post(clock, 'EiEvent', fixture('oadrRequestEvent.xml'), 200, compact(distribute).replace('<oadr:oadrPayload ', '<oadr:oadrPayload xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://openadr.org/oadr-2.0b/2012/07 oadr_20b.xsd" ')) }),
    result({ id: 'R50-all-events', title: 'every oadrDistributeEvent holds all far, near and active events (120 events)', ruleIds: ['R50'], family: 'event', exchanges: post(clock, 'EiEvent', fixture('oadrRequestEvent-all.xml'), 200, bigDistributeEvent(120)) }),
    result({ id: 'R511-host-case', title: 'the endpoint answers with an upper-case host name and an explicit port', ruleIds: ['R511'], family: 'general', exchanges: [], outcome: 'skipped', reason: 'the VTN URL names an IP address: there is no host name whose case could change' }),
    result({ id: 'R52-cancel-resend', title: 'a cancelled event is re-sent until the VEN acknowledges it', ruleIds: ['R52'], family: 'event', exchanges: post(clock, 'OadrPoll', poll, 200, fixture('oadrResponse-empty-queue.xml')), outcome: 'expected-fail', reason: 'known deviation: the VTN re-sends a cancellation on the next poll only after its retry interval' }),
    result({ id: 'R309-metadata-first', title: 'the first poll after registration returns the VTN\'s oadrRegisterReport', ruleIds: ['R309', 'R301'], family: 'report', exchanges: post(clock, 'OadrPoll', poll, 200, fixture('oadrRegisterReport-empty.xml')), outcome: 'unexpected-pass', reason: 'listed as failing while the VTN queued its metadata after the first event' }),
  ];
  return { side: 'vtn', transport: 'http-pull', peer: PEER, tool: 'oadr-ledger 0.1.0', startedAt: T0, finishedAt: clock + 500, cases };
}
