/**
 * The three reports of a run with every outcome and a 1.5 MB message (conformance/testing/
 * sample-run.ts, whose findings come from the real payload checker): the terminal summary, JUnit XML
 * validated against the shape Jenkins reads, and the HTML report opened in headless Chromium
 * (Debian's `chromium`, driven by playwright-core) as a person would read it, with screenshots.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import { parseXml, type XmlElement } from '../../oadr/index.ts';
import type { RunResult } from '../case.ts';
import { sampleRun } from '../testing/sample-run.ts';
import { validateXsd } from '../xsd.ts';
import { renderHtml, renderJunit, renderSummary, writeReports, writeSummary } from './index.ts';

/** Debian's chromium, as the dashboard test uses it. */
const CHROMIUM = '/usr/bin/chromium';
const JUNIT_XSD = new URL('./junit.xsd', import.meta.url).pathname;
const run = sampleRun();
const ESC = '\u001b[';

test('summary: a row per case with its rules, outcome and lead finding, the broken rule\'s text, totals and exit code', (t: TestContext) => {
  const text = renderSummary(run);
  const lines = text.split('\n');
  t.assert.ok(lines[0]?.startsWith('OpenADR 2.0b conformance: VTN at https://vtn.example.com:8443 over http-pull (oadr-ledger 0.1.0)'));
  for (const c of run.cases) assert.ok(lines.some((l) => l.startsWith(c.id) && l.includes(c.outcome)), `a row for ${c.id}`);
  const r1 = lines.find((l) => l.startsWith('R1-utc-times')) ?? '';
  t.assert.match(r1, /failed\s+R1: the peer sent a date-time with the offset \+02:00/, 'the finding on the case\'s own rule leads, not the XSD one');
  t.assert.ok(lines.some((l) => l.trim().startsWith('R1: Date-times are UTC with a trailing Z')), 'the rule\'s one-liner under the failure');
  t.assert.match(lines.find((l) => l.startsWith('R511-host-case')) ?? '', /skipped\s+the VTN URL names an IP address/);
  t.assert.match(lines.find((l) => l.startsWith('R309-metadata-first')) ?? '', /unexpected-pass\s+passed, but listed as an expected failure/);
  t.assert.ok(text.includes('8 cases: 3 passed, 2 failed, 1 skipped, 1 expected-fail, 1 unexpected-pass; exit code 1'));
  t.assert.ok(lines.every((l) => l.length <= 120 || l === lines[0]), 'rows fit 120 columns');
  t.assert.ok(!text.includes(ESC), 'no colour unless asked');
  t.assert.ok(renderSummary(run, { color: true }).includes(`${ESC}31mfailed`), 'failed in red when asked');
});

test('summary: colour only on a TTY', (t: TestContext) => {
  const written = (isTTY: boolean): string => {
    let out = '';
    writeSummary(run, { isTTY, columns: 100, write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream & { isTTY: boolean });
    return out;
  };
  t.assert.ok(written(true).includes(ESC));
  t.assert.ok(!written(false).includes(ESC));
  t.assert.ok(written(false).split('\n').every((l, i) => i === 0 || l.length <= 100), 'the terminal\'s width');
});

const children = (e: XmlElement, local: string): XmlElement[] => e.children.filter((c) => c.local === local);
const attr = (e: XmlElement, name: string): string | undefined => e.attrs.find((a) => a.local === name)?.value;

test('JUnit: valid against the Jenkins shape, a suite per family, a case per case, failures with the findings, skips with reasons', async (t: TestContext) => {
  const xml = renderJunit(run);
  const verdict = await validateXsd(xml, JUNIT_XSD);
  t.assert.deepStrictEqual(verdict.errors, []);
  t.assert.equal(verdict.valid, true);
  const root = parseXml(xml, { maxBytes: 64 * 1024 * 1024 });
  t.assert.equal(root.local, 'testsuites');
  t.assert.equal(attr(root, 'tests'), '8');
  t.assert.equal(attr(root, 'failures'), '3', 'two failures and the unexpected pass');
  const suites = children(root, 'testsuite');
  t.assert.deepStrictEqual(suites.map((s) => attr(s, 'name')).sort(), ['vtn.event', 'vtn.general', 'vtn.poll', 'vtn.registration', 'vtn.report']);
  for (const s of suites) t.assert.equal(attr(s, 'tests'), String(children(s, 'testcase').length));
  const cases = suites.flatMap((s) => children(s, 'testcase'));
  const byId = (id: string): XmlElement => cases.find((c) => attr(c, 'name')?.startsWith(`${id}: `) === true) ?? assert.fail(`no testcase ${id}`);
  const failure = children(byId('R45-no-schema-location'), 'failure')[0];
  t.assert.equal(attr(failure ?? root, 'type'), 'R45');
  t.assert.match(failure?.text ?? '', /R45: No schemaLocation attribute in any message\.\n {2}expected: no schemaLocation attribute\n {2}actual: {3}schemaLocation="http:\/\/openadr.org/);
  t.assert.equal(attr(byId('R45-no-schema-location'), 'classname'), 'conformance.vtn.http-pull.general');
  t.assert.equal(attr(children(byId('R511-host-case'), 'skipped')[0] ?? root, 'message'), 'the VTN URL names an IP address: there is no host name whose case could change');
  t.assert.match(attr(children(byId('R52-cancel-resend'), 'skipped')[0] ?? root, 'message') ?? '', /^expected failure \(documented deviation\): known deviation/);
  t.assert.equal(attr(children(byId('R309-metadata-first'), 'failure')[0] ?? root, 'type'), 'unexpected-pass');
  t.assert.deepStrictEqual(byId('R402+R403-pull-registration').children, [], 'a pass is an empty testcase');
});

test('JUnit: text that is not XML-safe is escaped', async (t: TestContext) => {
  const markup = 'a < b & "c" \u0001 ]]> <failure>';
  const nasty: RunResult = { ...run, cases: run.cases.map((c) => (c.outcome === 'failed' ? { ...c, title: markup, findings: c.findings.map((f) => ({ ...f, actual: markup, message: markup })) } : c)) };
  t.assert.equal((await validateXsd(renderJunit(nasty), JUNIT_XSD)).valid, true);
});

test('HTML: one self-contained file that shows the totals, filters cases, and shows a failure\'s finding and messages when expanded', async (t: TestContext) => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'oadr-conformance-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A title with markup must be shown as text, never run.
  const withMarkup: RunResult = { ...run, cases: run.cases.map((c) => (c.id === 'R500-poll-empty-queue' ? { ...c, title: 'oadrPoll <script>window.pwned = 1</script> on an empty queue' } : c)) };
  const paths = { html: join(dir, 'out', 'report.html'), junit: join(dir, 'out', 'junit.xml'), json: join(dir, 'out', 'run.json') };
  t.assert.deepStrictEqual(await writeReports(withMarkup, paths), [paths.junit, paths.html, paths.json]);
  t.assert.deepStrictEqual(JSON.parse(readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(withMarkup)));
  t.assert.equal(readFileSync(paths.junit, 'utf8'), renderJunit(withMarkup));
  const html = readFileSync(paths.html, 'utf8');
  t.assert.equal(html, renderHtml(withMarkup));
  t.assert.doesNotMatch(html, /<(?:link|img|iframe)\b|\bsrc=|https?:\/\/[^"<\s]*\.(?:css|js)\b/, 'no external assets');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(paths.html).href;
  await page.goto(url);
  t.assert.deepStrictEqual(requests, [url], 'the page loads nothing else');

  // The header and the totals, as read on the screen.
  const header = await page.locator('header').innerText();
  t.assert.match(header, /peer\s+https:\/\/vtn\.example\.com:8443 \(VTN, http-pull\)/);
  t.assert.match(header, /tool\s+oadr-ledger 0\.1\.0/);
  t.assert.match(header, /date\s+2026-12-07T16:00:00\.000Z/);
  t.assert.match(header, /8 cases, exit code 1/);
  const totals = await page.locator('.totals').innerText();
  t.assert.deepStrictEqual(totals.split('\n').map((s) => s.trim()).filter((s) => s !== ''), ['3passed', '2failed', '1skipped', '1expected-fail', '1unexpected-pass']);
  t.assert.equal(await page.locator('#shown').innerText(), '8 of 8 cases shown');
  t.assert.equal(await page.locator('tr.case', { hasText: 'R500-poll-empty-queue' }).locator('td').nth(1).innerText(), 'oadrPoll <script>window.pwned = 1</script> on an empty queue');
  t.assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
  await page.screenshot({ path: join(dir, 'overview.png'), fullPage: true });

  // A failure: collapsed at first; expanded, its rule, finding (expected against actual) and messages.
  const finding = page.locator('.finding', { hasText: 'R45: the peer sent a schemaLocation attribute on oadr:oadrPayload' });
  t.assert.equal(await finding.isVisible(), false);
  await page.getByRole('button', { name: '▸ R45-no-schema-location' }).click();
  await finding.waitFor({ state: 'visible' });
  const detail = page.locator('tr.detail:visible');
  t.assert.equal(await detail.count(), 1);
  const text = await detail.innerText();
  t.assert.match(text, /R45 No schemaLocation attribute in any message\./);
  t.assert.match(text, /expected\s+no schemaLocation attribute\s+actual\s+schemaLocation="http:\/\/openadr\.org\/oadr-2\.0b\/2012\/07 oadr_20b\.xsd"\s+message\s+#2/);
  t.assert.match(text, /#1 16:00:01\.050 suite → peer POST https:\/\/vtn\.example\.com:8443\/OpenADR2\/Simple\/2\.0b\/EiEvent — oadrRequestEvent/);
  t.assert.match(text, /#2 16:00:01\.090 peer → suite HTTP 200 — oadrDistributeEvent \(13671 bytes\)/);
  const body = detail.locator('details.msg').nth(1).locator('pre.body');
  t.assert.equal(await body.isVisible(), false, 'messages are collapsed');
  await detail.locator('details.msg').nth(1).locator('summary').click();
  await body.waitFor({ state: 'visible' });
  const shown = await body.innerText();
  t.assert.match(shown, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<oadr:oadrPayload xmlns:xsi=.* xsi:schemaLocation=/);
  t.assert.match(shown, /\n {2}<oadr:oadrSignedObject>\n {4}<oadr:oadrDistributeEvent ei:schemaVersion="2\.0b">/, 'pretty-printed');
  t.assert.ok(await page.getByRole('button', { name: '▾ R45-no-schema-location' }).isVisible(), 'the toggle shows the case is open');
  t.assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'a wide message scrolls in its box, the page does not widen');
  await page.screenshot({ path: join(dir, 'failure-expanded.png'), fullPage: true });

  // The 1.5 MB message: shown in part, the rest announced.
  await page.getByRole('button', { name: '▸ R50-all-events' }).click();
  const big = page.locator('tr.detail:visible', { hasText: 'oadrDistributeEvent (1538324 bytes)' });
  await big.locator('details.msg').nth(1).locator('summary').click();
  await big.getByText(/more characters not shown \(the JSON report has the whole message\)/).waitFor({ state: 'visible' });

  // Filters: without passes and skips, five rows less; the open failure stays open.
  await page.getByLabel('passed').uncheck();
  await page.getByLabel('skipped', { exact: true }).uncheck();
  t.assert.equal(await page.locator('#shown').innerText(), '4 of 8 cases shown');
  t.assert.equal(await page.locator('tr.case:visible').count(), 4);
  t.assert.equal(await finding.isVisible(), true);
  await page.getByLabel('general').uncheck();
  t.assert.equal(await page.locator('#shown').innerText(), '3 of 8 cases shown');
  t.assert.equal(await finding.isVisible(), false, 'a filtered case hides its details too');
  const shot = join(dir, 'filtered.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.assert.ok(statSync(shot).size > 10_000);
  t.assert.deepStrictEqual(errors, []);
});
