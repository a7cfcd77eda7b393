import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OADR_XSD, validateXsd, validateXsdMany, validateXsdManySync, xmllintAvailable } from './xsd.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const VALID_DIR = join(FIXTURES, 'oadr');
const INVALID_DIR = join(FIXTURES, 'oadr-invalid');

interface Fixture {
  readonly name: string;
  readonly xml: string;
}

function load(dir: string): Fixture[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.xml'))
    .sort()
    .map((name) => ({ name, xml: readFileSync(join(dir, name), 'utf8') }));
}

const valid = load(VALID_DIR);
const invalid = load(INVALID_DIR);

// The 23 payloads oadrSignedObject may hold (oadr_20b.xsd).
const PAYLOADS = [
  'oadrQueryRegistration', 'oadrCreatePartyRegistration', 'oadrCreatedPartyRegistration',
  'oadrCancelPartyRegistration', 'oadrCanceledPartyRegistration', 'oadrRequestReregistration',
  'oadrRequestEvent', 'oadrDistributeEvent', 'oadrCreatedEvent', 'oadrResponse',
  'oadrRegisterReport', 'oadrRegisteredReport', 'oadrCreateReport', 'oadrCreatedReport',
  'oadrUpdateReport', 'oadrUpdatedReport', 'oadrCancelReport', 'oadrCanceledReport',
  'oadrCreateOpt', 'oadrCreatedOpt', 'oadrCancelOpt', 'oadrCanceledOpt', 'oadrPoll',
];

test('xmllint is installed (apt-get install libxml2-utils)', () => {
  // Not skipped when missing: without xmllint no message can be checked against the XSD.
  assert.equal(xmllintAvailable(), true, 'xmllint not found: install it with `apt-get install libxml2-utils`');
});

test('OADR_XSD is the absolute path of oadr/xsd/oadr_20b.xsd', () => {
  assert.ok(isAbsolute(OADR_XSD));
  assert.ok(OADR_XSD.endsWith(join('oadr', 'xsd', 'oadr_20b.xsd')));
  assert.ok(existsSync(OADR_XSD));
});

test('corpus names every one of the 23 payloads and has 40 or more files', () => {
  assert.ok(valid.length >= 40, `only ${valid.length} valid fixtures`);
  const missing = PAYLOADS.filter((p) => !valid.some((f) => f.name === `${p}.xml` || f.name.startsWith(`${p}-`)));
  assert.deepEqual(missing, []);
  const foreign = valid.filter((f) => f.name.startsWith('foreign-'));
  assert.ok(foreign.length >= 3, 'at least three foreign-*.xml files');
  for (const f of valid.filter((v) => !v.name.startsWith('foreign-'))) {
    const payload = f.name.replace(/(-.*)?\.xml$/, '');
    assert.ok(PAYLOADS.includes(payload), `${f.name}: name does not start with a payload element name`);
    assert.match(f.xml, new RegExp(`<oadr:oadrSignedObject>\\s*<oadr:${payload}[ >]`), `${f.name}: payload is not ${payload}`);
  }
});

test('R45+R509+R1 corpus: no schemaLocation, schemaVersion 2.0b on the payload, UTC date-times with Z', () => {
  for (const f of valid) {
    assert.doesNotMatch(f.xml, /schemaLocation/, f.name);
    assert.match(f.xml, /:schemaVersion="2\.0b"/, f.name);
    const times = [...f.xml.matchAll(/<(?:[\w.-]+:)?(?:date-time|\w*DateTime)>([^<]*)<\//g)].map((m) => m[1] ?? '');
    assert.ok(times.length > 0 || !/date-time|DateTime/.test(f.xml), `${f.name}: date-times not found`);
    for (const time of times) assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, `${f.name}: ${time}`);
  }
});

test('§2.4 every valid fixture validates against the 2.0b XSD (one batch)', async () => {
  const results = await validateXsdMany(valid.map((f) => f.xml));
  assert.equal(results.length, valid.length);
  results.forEach((r, i) => {
    assert.equal(r.valid, true, `${valid[i]?.name}: ${r.errors.join('\n')}`);
  });
});

test('§2.4 every invalid fixture fails with at least one error line', async () => {
  assert.ok(invalid.length >= 8, `only ${invalid.length} invalid fixtures`);
  const results = await validateXsdMany(invalid.map((f) => f.xml));
  results.forEach((r, i) => {
    const name = invalid[i]?.name;
    assert.equal(r.valid, false, `${name} should fail`);
    assert.ok(r.errors.length > 0, `${name}: no error lines`);
    // File path stripped: each error starts with the line number.
    assert.match(r.errors[0] ?? '', /^\d+: /, `${name}: ${r.errors[0]}`);
    for (const e of r.errors) assert.doesNotMatch(e, /doc-\d+\.xml|oadr-xsd-/, `${name}: temp path left in ${e}`);
  });
});

test('every invalid fixture starts with a comment saying what is wrong', () => {
  for (const f of invalid) assert.match(f.xml, /^<!-- INVALID: .+ -->\n/, f.name);
});

test('batch results come back in input order', async () => {
  const pick = (list: Fixture[], name: string): Fixture => {
    const f = list.find((x) => x.name === name);
    if (f === undefined) throw new Error(`fixture ${name} missing`);
    return f;
  };
  const docs = [
    pick(invalid, 'modification-number-abc.xml'),
    pick(valid, 'oadrPoll.xml'),
    pick(valid, 'oadrDistributeEvent-multi.xml'),
    pick(invalid, 'transport-name-simpleHTTP.xml'),
    pick(invalid, 'not-well-formed.xml'),
    pick(valid, 'foreign-jaxb-oadrUpdateReport.xml'),
    pick(invalid, 'payload-float-decimal-comma.xml'),
  ];
  const results = await validateXsdMany(docs.map((d) => d.xml));
  assert.deepEqual(results.map((r) => r.valid), [false, true, true, false, false, true, false]);
  assert.match(results[0]?.errors.join('\n') ?? '', /'abc' is not a valid value/);
  assert.match(results[3]?.errors.join('\n') ?? '', /simpleHTTP/);
  assert.match(results[4]?.errors.join('\n') ?? '', /parser error/);
  assert.match(results[6]?.errors.join('\n') ?? '', /'1,5'/);
  assert.deepEqual(results[1]?.errors, []);
});

test('validateXsd checks a single document', async () => {
  const ok = await validateXsd(
    '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject>' +
      '<oadrPoll xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" ei:schemaVersion="2.0b">' +
      '<ei:venID>ven-1</ei:venID></oadrPoll></oadrSignedObject></oadrPayload>',
  );
  assert.deepEqual(ok, { valid: true, errors: [] });
  const bad = await validateXsd('<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"/>');
  assert.equal(bad.valid, false);
  assert.match(bad.errors[0] ?? '', /^1: element oadrPayload: Schemas validity error .*Missing child element/);
});

test('an empty batch needs no xmllint run', async () => {
  assert.deepEqual(await validateXsdMany([]), []);
});

test('validateXsdManySync gives the verdicts and errors of validateXsdMany, in input order', async () => {
  const docs = [...valid.slice(0, 3), ...invalid.slice(0, 3), ...valid.slice(3, 4)].map((f) => f.xml);
  assert.deepEqual(validateXsdManySync(docs), await validateXsdMany(docs));
  assert.deepEqual(validateXsdManySync(docs).map((r) => r.valid), [true, true, true, false, false, false, true]);
  assert.deepEqual(validateXsdManySync([]), []);
});
