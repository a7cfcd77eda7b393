/**
 * The dashboard as an operator uses it: a VTN on the embedded ledger after a real small DR cycle
 * (two households with 35 days of history, their VENs over real HTTP on loopback, an event of
 * 300 W from the ledger, opt answers, telemetry, settlement, its flexibility claims), opened in headless Chromium (Debian's
 * `chromium`, driven by playwright-core). Every number checked on the screen is compared with what
 * the admin API returns for the same thing; the test clicks through an event to a customer's charts,
 * confirms a flexibility claim, runs the ledger's verification, enrols a customer, and saves screenshots (desktop and phone) to a
 * temporary folder.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { addDaysUtc, profile } from '../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import type { Payload, ReportInterval } from '../oadr/index.ts';
import { createMappingLedgerPort } from '../vtn/index.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { call, createTestClock, drain, registerVen, startTestVtn, ven } from '../vtn/testing/fake-ven.ts';
import { until } from './support/until.ts';

/** Debian's chromium; .ci/run installs it. */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-operator-token-0123456789';
const MIN = 60_000;
const SLOT = 15 * MIN;
const H1 = 'household-1'; // opts in and reduces
const H2 = 'household-2'; // opts out and does not
/**
 * A Wednesday (a weekday baseline) a few days ahead of the wall clock: the ledger's transactions
 * carry the test clock's time, and the verification checks each signer's certificate at that time,
 * so the clock must not run behind the certificates the ledger issues at start.
 */
const EVENT_DAY = ((): string => {
  const d = new Date(Date.now() + 2 * 86_400_000);
  d.setUTCDate(d.getUTCDate() + ((3 - d.getUTCDay() + 7) % 7));
  return d.toISOString().slice(0, 10);
})();
/** 15:00 UTC on the event day: four slots in the afternoon (Rome time). */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const iso = (ms: number): string => new Date(ms).toISOString();

/** 15 one-minute intervals of `kw` from `fromMs`, as the VEN reports them (TELEMETRY_USAGE, kW). */
function usageReport(venId: string, reportRequestId: string, fromMs: number, kw: number): Payload {
  const intervals: ReportInterval[] = Array.from({ length: 15 }, (_, i) => ({ duration: 'PT1M', uid: String(i), payloads: [{ rId: 'power', value: { type: 'float', value: kw } }] }));
  return { type: 'UpdateReport', schemaVersion: '2.0b', requestId: `rq-${fromMs}`, venId, reports: [{ dtstart: iso(fromMs), intervals, reportRequestId, reportSpecifierId: 'usage-spec', reportName: 'TELEMETRY_USAGE', createdDateTime: iso(fromMs + SLOT) }] };
}

/** The page's number format (charts.js `fmt`). */
const fmt = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 }));

test('the dashboard shows the DR cycle the admin API holds: events, per-customer charts, fleet, ledger, verify, enrol', async (t) => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
  const dir = tempDataDir('oadr-dashboard-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T12:00:00Z`));
  const vl = await openVtnLedger({ dataDir: join(dir, 'data'), clock: () => new Date(clock.now()) });
  t.after(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger, verify: vl.verify });
  const { url, vtn } = await startTestVtn(
    t,
    { dataDir: join(dir, 'data'), registrationPolicy: 'enrolled-only', programs: [{ id: 'default', signals: ['LOAD_DISPATCH', 'SIMPLE', 'x-LOAD_AMOUNT'], reportGranularityMs: MIN, reportBackDurationMs: SLOT }] },
    { ledger: port, clock, adminToken: TOKEN },
  );
  const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    assert.ok(res.ok, `${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  // The DR cycle: enrolment and history through the admin API, the VENs over OpenADR.
  for (const [customerId, household] of [[H1, 1], [H2, 2]] as const) {
    await api('/customers', { method: 'POST', body: { customerId, venName: customerId } });
    await api(`/customers/${customerId}/energy`, { method: 'POST', body: { days: Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(household, i + 1).map((w) => w / 4) })) } });
  }
  const v1 = await registerVen(url, H1);
  const v2 = await registerVen(url, H2);
  const usageRequest = async (venId: string): Promise<string> => {
    const metadata = ven.telemetryMetadata(venId, { duration: 'PT24H', rId: 'power', siScaleCode: 'k', minPeriod: 'PT10S', maxPeriod: 'PT1H', reportSpecifierId: 'usage-spec', createdDateTime: iso(START) });
    const registered = await call(url, 'EiReport', metadata, 'RegisteredReport');
    const id = registered.reportRequests?.[0]?.reportRequestId;
    assert.ok(id !== undefined, 'the VTN requests TELEMETRY_USAGE');
    return id;
  };
  const rr1 = await usageRequest(v1.venId);
  const rr2 = await usageRequest(v2.venId);
  const created = await api<{ event: { eventId: string } }>('/events', { method: 'POST', body: { start: iso(START), slots: 4, reductionW: 300, targets: 'all' } });
  const eventId = created.event.eventId;
  for (const v of [v1, v2]) t.assert.equal((await drain(url, v.venId)).some((p) => p.type === 'DistributeEvent'), true, 'each VEN polls its event');
  await call(url, 'EiEvent', ven.createdEvent(v1.venId, [{ eventId, modificationNumber: 0, optType: 'optIn' }]), 'Response');
  await call(url, 'EiEvent', ven.createdEvent(v2.venId, [{ eventId, modificationNumber: 0, optType: 'optOut' }]), 'Response');
  for (let k = 0; k < 4; k++) {
    clock.set(START + (k + 1) * SLOT + MIN);
    await call(url, 'EiReport', usageReport(v1.venId, rr1, START + k * SLOT, 0.1), 'UpdatedReport');
    await call(url, 'EiReport', usageReport(v2.venId, rr2, START + k * SLOT, 1.5), 'UpdatedReport');
  }
  await until('the telemetry on the ledger', async () => (await api<{ measured: number }>(`/customers/${H2}/energy?date=${EVENT_DAY}`)).measured === 4, 60_000);
  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  await api(`/events/${eventId}/settle`, { method: 'POST' });
  // The claims, as the scheduler's pass submits them (a pass may find the last block not yet readable: the next one submits).
  await until('the claims on the ledger', async () => (await port.submitClaims?.(eventId))?.state === 'submitted', 60_000);

  // What the admin API says.
  type VenRow = { customerId: string; venId: string; oprW: number[]; optType: string; lastDeliveredAt: number };
  const event = await api<{ status: string; settlement: string; vens: VenRow[] }>(`/events/${eventId}`);
  const totals = await api<{ unallocatedW: number[]; requestW: number[] }>(`/events/${eventId}/ledger`);
  type Day = { baselineW: number[]; measuredW: Array<number | null>; targetW: number[]; oprW: number[]; tokensMilli: number[]; totalTokensMilli: number; availability: number[]; window: number[] };
  const day1 = await api<Day>(`/customers/${H1}/events/${eventId}`);
  const day2 = await api<Day>(`/customers/${H2}/events/${eventId}`);
  assert.ok(day1.totalTokensMilli > day2.totalTokensMilli, 'household 1, which reduced, earns more (the experiment)');
  // The new endpoints agree with the event and with the contract's arithmetic.
  for (const [d, customerId] of [[day1, H1], [day2, H2]] as const) {
    assert.deepEqual(d.oprW, event.vens.find((v) => v.customerId === customerId)?.oprW, `${customerId}: the OPR the VEN received`);
    assert.deepEqual(d.targetW, d.window.map((slot, k) => (d.baselineW[slot] ?? 0) - (d.oprW[k] ?? 0)), `${customerId}: target = baseline − OPR`);
    assert.equal(d.tokensMilli.reduce((a, b) => a + b, 0), d.totalTokensMilli, `${customerId}: the tokens per slot add up`);
    assert.equal(d.measuredW.filter((w) => w !== null).length, 4, `${customerId}: the four measured slots`);
  }
  assert.deepEqual(totals.requestW.map((w, k) => w - (day1.oprW[k] ?? 0) - (day2.oprW[k] ?? 0)), totals.unallocatedW, 'request = allocations + unallocated');
  assert.deepEqual(totals.requestW, [300, 300, 300, 300]);

  const shots = mkdtempSync(join(tmpdir(), 'oadr-dashboard-shots-'));
  t.diagnostic(`screenshots in ${shots}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  // Waits are for the page to show something, not speed: generous, so a loaded machine does not fail them.
  const WAIT_MS = 120_000;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const loaded = (hash: string) => page.waitForSelector(`body[data-loaded="${hash}"]`);
  const cell = (row: string, col: string) => page.locator(`tr[data-key="${row}"] td[data-col="${col}"]`).innerText();

  // Events: the token from the address (as `npm start` prints the URL), the list, then the event.
  await page.goto(`${url}/#token=${TOKEN}`);
  await loaded('#/events');
  assert.equal(await cell(eventId, 'status'), event.status);
  assert.equal(await cell(eventId, 'settlement'), event.settlement);
  assert.equal(page.url().includes(TOKEN), false, 'the token leaves the address bar');
  await page.click(`tr[data-key="${eventId}"] a`);
  await loaded(`#/events/${eventId}`);
  for (const v of event.vens) {
    assert.equal(await cell(v.customerId, 'opr'), v.oprW.map(fmt).join(' / '), `OPR of ${v.customerId}`);
    assert.equal(await cell(v.customerId, 'opt'), v.optType);
    assert.equal(await cell(v.customerId, 'delivered'), new Date(v.lastDeliveredAt).toISOString().replace('T', ' ').slice(0, 19) + 'Z');
  }
  assert.equal(await page.locator('[data-field="unallocatedW"]').innerText(), totals.unallocatedW.map(fmt).join(' / '));
  assert.equal(await page.locator('[data-field="requestW"]').innerText(), totals.requestW.map(fmt).join(' / '));
  // The event's flexibility claims: every number as the API has it; the operator confirms one.
  type Claim = { claimId: string; status: string; powerW: number; customers: number; missing: number; reasons: string[] };
  const claims = await api<Claim[]>(`/events/${eventId}/claims`);
  assert.equal(claims.length, 4);
  for (const c of claims) {
    assert.equal(c.status, 'recorded');
    assert.equal(await cell(c.claimId, 'status'), c.status);
    assert.equal(await cell(c.claimId, 'powerW'), fmt(c.powerW));
    assert.equal(await cell(c.claimId, 'customers'), String(c.customers));
    assert.equal(await cell(c.claimId, 'missing'), String(c.missing));
    assert.equal(await cell(c.claimId, 'reasons'), c.reasons.join('; '));
  }
  assert.deepEqual(claims.map((c) => c.powerW), [1600, 1600, 1600, 1600], 'household 1 drew 0.1 kW, household 2 1.5 kW');
  await page.selectOption('form[data-action="Confirm claim"] select[name="claimId"]', claims[2]?.claimId as string);
  await page.click('form[data-action="Confirm claim"] button');
  await page.locator(`tr[data-key="${claims[2]?.claimId}"] td[data-col="status"]`).filter({ hasText: 'confirmed' }).waitFor();
  assert.deepEqual((await api<Claim[]>(`/events/${eventId}/claims`)).map((c) => c.status), ['recorded', 'recorded', 'confirmed', 'recorded']);
  await page.screenshot({ path: join(shots, 'event.png'), fullPage: true });

  // A customer's day: the charts carry exactly the API's values.
  await page.click(`tr[data-key="${H1}"] a`);
  await loaded(`#/events/${eventId}/customers/${H1}`);
  const series = async (name: string): Promise<unknown> => JSON.parse((await page.locator(`g[data-series="${name}"]`).getAttribute('data-values')) ?? 'null');
  const inWindow = (perSlot: readonly number[]) => day1.measuredW.map((_, slot) => (day1.window.includes(slot) ? perSlot[day1.window.indexOf(slot)] : null));
  assert.deepEqual(await series('baseline'), day1.baselineW);
  assert.deepEqual(await series('measured'), day1.measuredW);
  assert.deepEqual(await series('target'), inWindow(day1.targetW));
  assert.deepEqual(await series('OPR'), inWindow(day1.oprW));
  assert.deepEqual(await series('tokens'), inWindow(day1.tokensMilli.map((m) => m / 1000)));
  assert.deepEqual(await series('availability'), day1.availability);
  assert.equal(await page.locator('[data-field="totalTokens"]').innerText(), fmt(day1.totalTokensMilli / 1000));
  const shade = page.locator('rect.window').first();
  assert.deepEqual([await shade.getAttribute('data-from'), await shade.getAttribute('data-to')], [String(day1.window[0]), String((day1.window.at(-1) ?? 0) + 1)], 'the event window is shaded');
  await page.screenshot({ path: join(shots, 'customer-day.png'), fullPage: true });

  // Fleet: the VENs, their transport, profile and queue depth as the API has them; a 2.0a VEN says
  // where its delivery comes from (it sends no reports).
  await api('/customers', { method: 'POST', body: { customerId: 'c-20a' } });
  await api('/vens', { method: 'POST', body: { venId: 'ven-20a', customerId: 'c-20a', profile: '2.0a', fingerprint: 'ab'.repeat(32) } });
  const vens = await api<Array<{ venId: string; transport: string; queueDepth: number; online: boolean; profileName: string }>>('/vens');
  await page.click('a[data-nav="fleet"]');
  await loaded('#/fleet');
  assert.equal(await cell('ven-20a', 'profile'), '2.0a · delivery from imported meter data');
  for (const v of vens) {
    if (v.profileName !== '2.0a') assert.equal(await cell(v.venId, 'profile'), v.profileName);
    assert.equal(await cell(v.venId, 'transport'), v.transport);
    assert.equal(await cell(v.venId, 'queueDepth'), String(v.queueDepth));
    assert.equal(await cell(v.venId, 'online'), v.online ? 'online' : 'offline');
  }

  // Ledger: the newest block, then the verify button.
  const blocks = await api<Array<{ number: number; transactions: Array<{ fn: string; validationCode: string }> }>>('/ledger/blocks?limit=20');
  await page.click('a[data-nav="ledger"]');
  await loaded('#/ledger');
  const top = blocks[0];
  assert.ok(top !== undefined);
  assert.equal(await cell(String(top.number), 'txs'), top.transactions.map((x) => `${x.fn} ${x.validationCode}`).join('\n'));
  const verified = await api<{ ok: boolean; blocks: number }>('/ledger/verify', { method: 'POST' });
  assert.equal(verified.ok, true, JSON.stringify(verified));
  await page.click('form[data-action="Verify ledger"] button');
  // The page runs under its content security policy (no eval): wait with locators, not page functions.
  const result = page.locator('form[data-action="Verify ledger"] .result');
  await result.filter({ hasText: /^(OK|PROBLEMS)/ }).waitFor();
  assert.match(await result.innerText(), new RegExp(`^OK: ${verified.blocks} blocks`));
  await page.screenshot({ path: join(shots, 'ledger.png'), fullPage: true });

  // An operator action: enrol a customer from the form; the API has it.
  await page.click('a[data-nav="customers"]');
  await loaded('#/customers');
  await page.fill('form[data-action="Enrol customer"] input[name="customerId"]', 'household-3');
  await page.fill('form[data-action="Enrol customer"] input[name="venName"]', 'household-3');
  await page.click('form[data-action="Enrol customer"] button');
  await page.waitForSelector('tr[data-key="household-3"]');
  const enrolled = await api<Array<{ customerId: string; venName?: string }>>('/customers');
  assert.deepEqual(enrolled.find((c) => c.customerId === 'household-3')?.venName, 'household-3');

  // The next day's event from the forms: create, modify before it starts, cancel.
  await page.click('a[data-nav="events"]');
  await loaded('#/events');
  const form = (action: string) => `form[data-action="${action}"]`;
  const nextStart = iso(START + 86_400_000);
  await page.fill(`${form('Create event')} input[name="start"]`, nextStart);
  await page.fill(`${form('Create event')} input[name="slots"]`, '2');
  await page.fill(`${form('Create event')} input[name="reductionW"]`, '200');
  await page.click(`${form('Create event')} button`);
  await page.waitForSelector(`${form('Modify event')}`);
  const next = (await api<Array<{ event: { eventId: string; startMs: number } }>>('/events')).find((e) => e.event.startMs === Date.parse(nextStart));
  assert.ok(next !== undefined, 'the event created from the form');
  const nextId = next.event.eventId;
  await loaded(`#/events/${nextId}`);
  await page.fill(`${form('Modify event')} input[name="reductionW"]`, '250');
  await page.click(`${form('Modify event')} button`);
  await page.locator(`${form('Modify event')} .result`).filter({ hasText: 'modified' }).waitFor();
  const modified = await api<{ event: { modificationNumber: number } }>(`/events/${nextId}`);
  assert.equal(modified.event.modificationNumber, 1);
  assert.deepEqual((await api<{ requestW: number[] }>(`/events/${nextId}/ledger`)).requestW, [250, 250]);
  await page.fill(`${form('Cancel event')} input[name="reason"]`, 'not needed');
  await page.click(`${form('Cancel event')} button`);
  await page.locator(`${form('Cancel event')} .result`).filter({ hasText: 'cancelled' }).waitFor();
  assert.equal((await api<{ status: string }>(`/events/${nextId}`)).status, 'cancelled');
  await page.locator('dd .pill.cancelled').waitFor();

  // A phone: the customer's charts fit the screen's width (tables scroll inside their box).
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  phone.setDefaultTimeout(WAIT_MS);
  await phone.goto(`${url}/#token=${TOKEN}`);
  await phone.waitForSelector('body[data-loaded="#/events"]');
  await phone.goto(`${url}/#/events/${eventId}/customers/${H2}`);
  await phone.waitForSelector(`body[data-loaded="#/events/${eventId}/customers/${H2}"]`);
  assert.deepEqual(JSON.parse((await phone.locator('g[data-series="OPR"]').getAttribute('data-values')) ?? 'null'), day2.measuredW.map((_, s) => (day2.window.includes(s) ? day2.oprW[day2.window.indexOf(s)] : null)));
  assert.ok(await phone.evaluate(() => {
    const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return w.document.documentElement.scrollWidth <= w.innerWidth;
  }), 'nothing wider than the phone');
  await phone.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
