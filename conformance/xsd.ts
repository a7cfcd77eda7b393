// XSD validation of OpenADR 2.0b (and 2.0a) documents with Debian's xmllint (package libxml2-utils).
//
// Every inbound message is checked against the 2.0b schema (rules digest §2.4); a failure is a
// transport-level error (HTTP 406, XMPP bad-request). Loading the schema costs xmllint ~100 ms, so
// validateXsdMany checks a whole batch in one process.

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the 2.0b schema entry point (oadr/xsd/oadr_20b.xsd). */
export const OADR_XSD: string = fileURLToPath(new URL('../oadr/xsd/oadr_20b.xsd', import.meta.url));
/** Absolute path of the 2.0a schema entry point (oadr/xsd/20a/oadr_20a.xsd): what a 2.0a VEN is sent must validate against it (R506). */
export const OADR_20A_XSD: string = fileURLToPath(new URL('../oadr/xsd/20a/oadr_20a.xsd', import.meta.url));

export interface XsdResult {
  readonly valid: boolean;
  /** xmllint's lines about this document, without the file name (e.g. `3: element x: Schemas validity error : …`). */
  readonly errors: readonly string[];
}

const XMLLINT = 'xmllint';
const INSTALL_HINT =
  'xmllint was not found on PATH; install it with `apt-get install libxml2-utils` (Debian/Ubuntu) to validate OpenADR messages against the XSD';

let available: boolean | undefined;

/** True when an `xmllint` executable can be run. The answer is cached. */
export function xmllintAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync(XMLLINT, ['--version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Validates one document against OADR_XSD (or the schema given, e.g. OADR_20A_XSD). */
export async function validateXsd(xml: string, schema: string = OADR_XSD): Promise<XsdResult> {
  const [result] = await validateXsdMany([xml], schema);
  if (result === undefined) throw new Error('internal: validateXsdMany returned no result for one document');
  return result;
}

/** Validates many documents with ONE xmllint process; results come back in input order. */
export async function validateXsdMany(docs: readonly string[], schema: string = OADR_XSD): Promise<XsdResult[]> {
  if (docs.length === 0) return [];
  if (!xmllintAvailable()) throw new Error(INSTALL_HINT);
  const dir = await mkdtemp(join(tmpdir(), 'oadr-xsd-'));
  try {
    const names = docs.map((_, i) => `doc-${String(i).padStart(5, '0')}.xml`);
    await Promise.all(docs.map((xml, i) => writeFile(join(dir, names[i] as string), xml, 'utf8')));
    const stderr = await runXmllint(dir, names, schema);
    return parseXmllintOutput(stderr, names);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * validateXsdMany without leaving the event loop: for callers that must answer synchronously (the
 * conformance checks). Same single xmllint process per batch.
 */
export function validateXsdManySync(docs: readonly string[], schema: string = OADR_XSD): XsdResult[] {
  if (docs.length === 0) return [];
  if (!xmllintAvailable()) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'oadr-xsd-'));
  try {
    const names = docs.map((_, i) => `doc-${String(i).padStart(5, '0')}.xml`);
    docs.forEach((xml, i) => writeFileSync(join(dir, names[i] as string), xml, 'utf8'));
    const run = spawnSync(XMLLINT, xmllintArgs(schema, names), { cwd: dir, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    if (run.error !== undefined) throw new Error(INSTALL_HINT, { cause: run.error });
    if (run.status !== 0 && run.status !== 1 && run.status !== 3) {
      throw new Error(`xmllint could not validate against ${schema}: ${run.stderr.trim() || `exit ${String(run.status ?? run.signal)}`}; check that the schema files are intact`);
    }
    return parseXmllintOutput(run.stderr, names);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const xmllintArgs = (schema: string, names: readonly string[]): string[] => ['--noout', '--nonet', '--schema', schema, ...names];

function runXmllint(cwd: string, names: readonly string[], schema: string): Promise<string> {
  const args = xmllintArgs(schema, names);
  return new Promise((resolve, reject) => {
    execFile(XMLLINT, args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error !== null) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          available = false;
          reject(new Error(INSTALL_HINT, { cause: error }));
          return;
        }
        // Exit codes 1 (parse error) and 3 (validation error) are per-document outcomes; anything
        // else (4/5: the schema itself failed to load or compile, a signal) is a setup problem.
        if (typeof error.code !== 'number' || (error.code !== 1 && error.code !== 3)) {
          reject(new Error(`xmllint could not validate against ${schema}: ${stderr.trim() || error.message}; check that the schema files are intact`, { cause: error }));
          return;
        }
      }
      resolve(stderr);
    });
  });
}

/**
 * Splits xmllint's stderr into per-document results. Lines `name validates` and
 * `name fails to validate` give the verdict; `name:LINE: …` lines are errors; other lines (the
 * source excerpt and caret of a parser error) belong to the document named last.
 */
function parseXmllintOutput(stderr: string, names: readonly string[]): XsdResult[] {
  const index = new Map(names.map((name, i) => [name, i]));
  const verdicts: (boolean | undefined)[] = names.map(() => undefined);
  const errors: string[][] = names.map(() => []);
  let current: number | undefined;
  for (const line of stderr.split('\n')) {
    if (line === '') continue;
    const match = /^(doc-\d+\.xml)(:| validates$| fails to validate$)(.*)$/.exec(line);
    const i = match === null ? undefined : index.get(match[1] as string);
    if (match === null || i === undefined) {
      if (current !== undefined) errors[current]?.push(line);
      continue;
    }
    current = i;
    if (match[2] === ':') errors[i]?.push(match[3] as string);
    else verdicts[i] = match[2] === ' validates';
  }
  return names.map((_, i) => {
    const errs = errors[i] ?? [];
    // A document that did not parse gets no verdict line at all.
    const valid = verdicts[i] === true;
    if (!valid && errs.length === 0) errs.push('xmllint gave no verdict for this document');
    return { valid, errors: errs };
  });
}
