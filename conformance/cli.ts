/**
 * `oadr-ledger conformance vtn|ven`: runs the suite against a VTN or a VEN from the command line,
 * checks every message the peer sends with the payload checker, prints a progress line on stderr
 * and the summary on stdout, writes the run as JUnit XML, HTML and JSON when asked; exit code 0
 * only when cases ran and none failed (exitCodeOf).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Adapter, AdapterAction, VenAdapter, VenAdapterAction, VtnAdapter } from './adapters/adapter.ts';
import { createAdminAdapter } from './adapters/admin.ts';
import { createHookAdapter } from './adapters/hook.ts';
import { createInteractiveAdapter } from './adapters/interactive.ts';
import { exitCodeOf, type CaseResult, type RunResult, type Transport } from './case.ts';
import type { TlsMaterial } from './http-recorder.ts';
import type { ExpectedFail } from './runner.ts';
import { progressLine } from './progress.ts';
import { payloadChecks } from './checker.ts';
import { writeReports, writeSummary } from './report/index.ts';
import { startVenSuite } from './ven-suite.ts';
import { runVtnSuite } from './vtn-suite.ts';
import { createXmppClient, SASL_EXTERNAL, SCRAM_SHA_1, splitJid, XmppError, type XmppClient } from '../xmpp/index.ts';

export const CONFORMANCE_USAGE = `Usage: oadr-ledger conformance <vtn|ven> [options]
  oadr-ledger conformance vtn --url URL [options]          the suite plays VENs against the VTN at URL
  oadr-ledger conformance ven --listen HOST:PORT [options] the suite plays the VTN; point the VEN under test at it

Each case is named by the rule ids it checks (the checklist of the OpenADR 2.0b rules digest); a
case whose prerequisite cannot be arranged is skipped with the reason, never passed. Over HTTP
pull, HTTP push or XMPP.

Common options:
  --transport T        http-pull (default), http-push or xmpp
  --cert FILE --key FILE --ca FILE
                       the suite's certificate chain and key (PEM), and the CAs it trusts for the peer:
                       TLS with client certificates (give all three, with an https URL)
  --xmpp-url URL       (xmpp) the XMPP server the peer uses, xmpp://HOST[:5222] (STARTTLS); then
                       --ca is the CAs the suite trusts for the server's certificate, and --cert
                       --key the suite's client certificate for SASL EXTERNAL (CN = the JID's local
                       part); without them the suite logs in with SCRAM-SHA-1 and the password in
                       OADR_XMPP_PASSWORD (or the file named by OADR_XMPP_PASSWORD_FILE)
  --only ID            run only this case, the cases of this rule id (R402), or ids starting with it;
                       repeat it or separate ids with commas
  --junit FILE         write the run as JUnit XML (a testsuite per family, a testcase per case), for CI systems
  --html FILE          write a self-contained HTML report: each case, the rule it checks, its findings
                       (expected and actual) and every message exchanged, pretty-printed
  --json FILE          write the whole run (cases, findings, every exchanged message) as JSON
  --expected-fail FILE known deviations of the peer: a JSON list of {"id": CASE-ID, "reason": "…"};
                       such a case that fails is expected-fail, one that passes is unexpected-pass
  --case-timeout MS    time-out of one case (default 20000)

VTN side (conformance vtn):
  --url URL            the VTN's base URL, without /OpenADR2/Simple/2.0b/… (a prefix may be part of it)
  --ven-name NAME      prefix of the names of the VENs the suite registers (default conformance)
  --listen HOST:PORT   where the suite's push VENs listen (http-push; default 127.0.0.1, any port)
  --push-url URL       the base URL the VTN must push to, when it is not where the suite listens
  --xml-signature      sign every payload the suite sends with --cert/--key and check that every
                       payload of the VTN is validly signed; the R514 cases (unsigned, changed and
                       replayed payloads must be ignored) run only with it
  --expired-cert FILE --expired-key FILE
                       a client certificate from the CA the VTN trusts whose validity has ended, and
                       its key (PEM): the VTN must refuse it (R516; with https and --cert/--key/--ca)
  --ven-jid JID        (xmpp) the suite's VEN account, local@domain[/resource] (resource default
                       conformance): the JID it registers as oadrTransportAddress; one VEN at a time
  --vtn-jid JID        (xmpp) the VTN's full JID, where the suite sends its IQ sets
  --delivery-timeout MS
                       how long to wait for the VTN to deliver what a case expects (default 8000)
  Adapters: cases that need the VTN to act (issue, modify or cancel an event, request a report,
  cancel a registration, ask for a re-registration) use one of these; without one they are skipped.
  --admin-url URL --admin-token TOKEN
                       oadr-ledger's admin REST API (e.g. https://vtn:8080/api/v1); the token may
                       also come from OADR_ADMIN_TOKEN
  --admin-cert FILE --admin-key FILE
                       the admin client certificate chain and key (PEM), for a VTN that serves its
                       admin API over mutual TLS (our VTN's default: <pki>/openadr/ven/admin/); the
                       VTN's certificate is checked against --ca
  --hook 'CMD'         a shell command run for each action. {action}, {venId} and {eventId} in it
                       are replaced (quoted). The action is one of issue-event, modify-event,
                       cancel-event, request-report, cancel-registration, request-reregistration.
                       The order is also given as JSON on stdin and in the environment:
                         OADR_ACTION, OADR_VEN_ID, OADR_EVENT_ID (the ID the suite would like for
                         a new event; the VTN may choose another), OADR_START (ISO 8601 UTC),
                         OADR_DURATION_MINUTES, OADR_VALUES (comma-separated, one per interval),
                         OADR_PRIORITY, OADR_RESPONSE_REQUIRED (always|never), OADR_START_AFTER_MS
                       Exit code 0 means done; any other fails the case with the command's stderr.
                       Example: --hook './my-vtn-ctl {action} {venId}'
  --interactive        print what the operator must make the VTN do and wait for Enter (2 minutes)

VEN side (conformance ven):
  --listen HOST:PORT   where the suite listens as the VTN (required over HTTP); start the VEN under
                       test with this URL as its VTN URL once the suite prints it
  --vtn-jid JID        (xmpp, instead of --listen) the suite's VTN account, local@domain[/resource]
                       (resource default vtn): give the VEN under test this JID as its VTN's
  --push-url URL       push to this base instead of the VEN's registered transport address
  --market-context URL the market context the VEN serves (events carry it; the cases about a
                       foreign market context need it)
  --wait MS            how long to wait for the VEN's first registration (default 120000)
  Adapters: the opt cases need the VEN to send an availability schedule or an event opt
  (oadrCreateOpt), or to cancel an opt (oadrCancelOpt); without an adapter they are skipped.
  --hook 'CMD'         as on the VTN side; the action is one of opt-schedule, opt-event, cancel-opt,
                       {optId} is replaced too, and the environment adds OADR_OPT_TYPE (optIn|optOut),
                       OADR_OPT_ID (the optID to cancel, or the one the suite would like),
                       OADR_RESOURCE_ID (a schedule for this resource only); OADR_START and
                       OADR_DURATION_MINUTES give the window (0 minutes: open-ended)
  --interactive        print what the operator must make the VEN do and wait for Enter

Exit codes: 0 every case that ran passed (or failed as expected), 1 a case failed or none ran,
2 a usage error.
`;

export interface ConformanceIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  /** The environment (hook commands inherit it; OADR_ADMIN_TOKEN). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `oadr-ledger <version>`. */
  readonly tool: string;
}

class UsageError extends Error {}

const OPTIONS = {
  url: { type: 'string' },
  'ven-name': { type: 'string' },
  cert: { type: 'string' },
  'expired-cert': { type: 'string' },
  'xml-signature': { type: 'boolean' },
  'expired-key': { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  transport: { type: 'string' },
  listen: { type: 'string' },
  'push-url': { type: 'string' },
  'admin-url': { type: 'string' },
  'admin-token': { type: 'string' },
  'admin-cert': { type: 'string' },
  'admin-key': { type: 'string' },
  hook: { type: 'string' },
  interactive: { type: 'boolean' },
  only: { type: 'string', multiple: true },
  json: { type: 'string' },
  junit: { type: 'string' },
  html: { type: 'string' },
  'case-timeout': { type: 'string' },
  'expected-fail': { type: 'string' },
  'delivery-timeout': { type: 'string' },
  'market-context': { type: 'string' },
  'xmpp-url': { type: 'string' },
  'ven-jid': { type: 'string' },
  'vtn-jid': { type: 'string' },
  wait: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function runConformanceCommand(argv: readonly string[], io: Readonly<ConformanceIo>): Promise<number> {
  const [side, ...rest] = argv;
  if (side === undefined || side === '--help' || side === '-h' || side === 'help') {
    io.stdout.write(CONFORMANCE_USAGE);
    return 0;
  }
  try {
    if (side !== 'vtn' && side !== 'ven') throw new UsageError(`unknown side '${side}': give vtn (test a VTN) or ven (test a VEN)`);
    let values: Values;
    try {
      ({ values } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help === true) {
      io.stdout.write(CONFORMANCE_USAGE);
      return 0;
    }
    const run = side === 'vtn' ? await runVtn(values, io) : await runVen(values, io);
    writeSummary(run, io.stdout);
    await writeReports(run, { junit: values.junit, html: values.html, json: values.json });
    return exitCodeOf(run);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`oadr-ledger conformance: ${err.message}\n\n${CONFORMANCE_USAGE}`);
      return 2;
    }
    throw err;
  }
}

function transportOf(v: Values): Transport {
  const t = v.transport ?? 'http-pull';
  if (t !== 'http-pull' && t !== 'http-push' && t !== 'xmpp') throw new UsageError(`--transport ${t}: give http-pull, http-push or xmpp`);
  return t;
}

function xmppUrlOf(v: Values): string {
  if (v['xmpp-url'] === undefined) throw new UsageError('--transport xmpp needs --xmpp-url xmpp://HOST:5222 (the XMPP server the peer uses)');
  return v['xmpp-url'];
}

/** The suite's XMPP connection (not started): SASL EXTERNAL with --cert/--key, else SCRAM with OADR_XMPP_PASSWORD. */
function xmppClientOf(v: Values, io: Readonly<ConformanceIo>, jidFlag: '--ven-jid' | '--vtn-jid', defaultResource: string): XmppClient {
  const url = xmppUrlOf(v);
  const jid = jidFlag === '--ven-jid' ? v['ven-jid'] : v['vtn-jid'];
  if (jid === undefined) throw new UsageError(`--transport xmpp needs ${jidFlag} local@domain[/resource]: the suite's XMPP account`);
  if ((v.cert === undefined) !== (v.key === undefined)) throw new UsageError('give both --cert and --key (the client certificate for SASL EXTERNAL), or neither (SCRAM with OADR_XMPP_PASSWORD)');
  const password = secretOf(io.env, 'OADR_XMPP_PASSWORD');
  if (v.cert === undefined && password === undefined) throw new UsageError("the suite's XMPP account needs --cert and --key (SASL EXTERNAL) or a password in OADR_XMPP_PASSWORD (SCRAM-SHA-1)");
  const { resource } = splitJid(jid);
  const tls = { ...(v.ca === undefined ? {} : { ca: readPem('--ca', v.ca) }), ...(v.cert === undefined || v.key === undefined ? {} : { cert: readPem('--cert', v.cert), key: readPem('--key', v.key) }) };
  try {
    return createXmppClient({ url, jid: resource === undefined ? jid : jid.slice(0, jid.length - resource.length - 1), resource: resource ?? defaultResource, tls, auth: v.cert === undefined ? { mechanism: SCRAM_SHA_1, password: password ?? '' } : { mechanism: SASL_EXTERNAL } });
  } catch (err) {
    if (err instanceof XmppError) throw new UsageError(err.message);
    throw err;
  }
}

/** Whether the suite can log in is its own set-up, not the peer's conduct: a usage error, said as such. */
async function loggedIn(v: Values, client: XmppClient): Promise<XmppClient> {
  await client.start().catch((err: unknown) => {
    throw new UsageError(`the suite cannot log in to ${v['xmpp-url'] ?? ''}: ${(err as Error).message}`);
  });
  return client;
}

/** A secret from NAME, or from the file NAME_FILE names. */
function secretOf(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file !== undefined && file !== '') return readPem(`${name}_FILE`, file).replace(/\r?\n$/, '');
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Options that have no meaning over XMPP. */
function notOverXmpp(v: Values): void {
  const http = (['xml-signature', 'expired-cert', 'expired-key', 'listen', 'push-url', 'url'] as const).filter((k) => v[k] !== undefined);
  if (http.length > 0) throw new UsageError(`--${http.join(', --')}: not with --transport xmpp (the suite signs and checks TLS over HTTP only; over XMPP the peers have JIDs, not URLs)`);
}

function tlsOf(v: Values): TlsMaterial | undefined {
  const given = [v.cert, v.key, v.ca].filter((x) => x !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new UsageError('TLS needs all of --cert, --key and --ca');
  return { cert: readPem('--cert', v.cert as string), key: readPem('--key', v.key as string), ca: readPem('--ca', v.ca as string) };
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

function expiredOf(v: Values): { cert: string; key: string } | undefined {
  if (v['expired-cert'] === undefined && v['expired-key'] === undefined) return undefined;
  if (v['expired-cert'] === undefined || v['expired-key'] === undefined) throw new UsageError('give both --expired-cert and --expired-key');
  return { cert: readPem('--expired-cert', v['expired-cert']), key: readPem('--expired-key', v['expired-key']) };
}

function signingOf(v: Values): boolean {
  if (v['xml-signature'] !== true) return false;
  if (v.cert === undefined || v.key === undefined) throw new UsageError('--xml-signature signs with --cert and --key: give them (and --ca)');
  return true;
}

function hostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || !Number.isInteger(port) || port > 65_535) throw new UsageError(`${flag} ${value}: give HOST:PORT, e.g. 127.0.0.1:8081`);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

function positiveMs(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${value}: give a whole number of milliseconds`);
  return n;
}

function expectedFailOf(v: Values): ExpectedFail[] | undefined {
  const file = v['expected-fail'];
  if (file === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--expected-fail ${file}: ${(err as Error).message}`);
  }
  const ok = Array.isArray(list) && list.every((x: unknown) => typeof x === 'object' && x !== null && typeof (x as ExpectedFail).id === 'string' && typeof (x as ExpectedFail).reason === 'string' && (x as ExpectedFail).reason !== '');
  if (!ok) throw new UsageError(`--expected-fail ${file}: give a JSON list of {"id": "R…", "reason": "why the peer deviates"}`);
  return list as ExpectedFail[];
}

const onlyOf = (v: Values): string[] | undefined => v.only?.flatMap((o) => o.split(',')).map((o) => o.trim()).filter((o) => o !== '');

function url(flag: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new UsageError(`${flag} ${value}: give an http:// or https:// URL`);
  }
}

function adapterOf(v: Values, io: Readonly<ConformanceIo>): VtnAdapter | undefined {
  const chosen = [v['admin-url'] !== undefined, v.hook !== undefined, v.interactive === true].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('give one adapter: --admin-url (with --admin-token), --hook or --interactive');
  if (v['admin-url'] !== undefined) {
    const token = v['admin-token'] ?? io.env.OADR_ADMIN_TOKEN;
    if (token === undefined || token === '') throw new UsageError('--admin-url needs --admin-token TOKEN (or OADR_ADMIN_TOKEN)');
    const given = [v['admin-cert'], v['admin-key']].filter((x) => x !== undefined).length;
    if (given === 1) throw new UsageError('give both --admin-cert and --admin-key (the admin client certificate)');
    const tls = given === 2 ? { cert: readPem('--admin-cert', v['admin-cert'] as string), key: readPem('--admin-key', v['admin-key'] as string), ca: v.ca === undefined ? undefined : readPem('--ca', v.ca) } : undefined;
    return createAdminAdapter({ url: url('--admin-url', v['admin-url']), token, tls });
  }
  if (v['admin-cert'] !== undefined || v['admin-key'] !== undefined) throw new UsageError('--admin-cert and --admin-key go with --admin-url');
  return operatorAdapter<AdapterAction>(v, io);
}

/** On the VEN side: a hook command or the operator makes the VEN send its opts. */
function venAdapterOf(v: Values, io: Readonly<ConformanceIo>): VenAdapter | undefined {
  if (v['admin-url'] !== undefined) throw new UsageError('--admin-url drives a VTN; on the VEN side give --hook or --interactive');
  if (v.hook !== undefined && v.interactive === true) throw new UsageError('give one adapter: --hook or --interactive');
  return operatorAdapter<VenAdapterAction>(v, io);
}

function operatorAdapter<A extends AdapterAction | VenAdapterAction>(v: Values, io: Readonly<ConformanceIo>): Adapter<A> | undefined {
  if (v.hook !== undefined) return createHookAdapter<A>({ template: v.hook, env: io.env });
  if (v.interactive === true) return createInteractiveAdapter<A>({ input: io.stdin, output: io.stderr });
  return undefined;
}

/** The progress line: rewritten in place on a terminal, one line per finished case otherwise. */
function progress(io: Readonly<ConformanceIo>): (done: number, total: number, running: string | undefined, last: CaseResult | undefined) => void {
  let failed = 0;
  let counted = 0;
  return (done, total, running, last) => {
    if (last !== undefined && done > counted) {
      counted = done;
      if (last.outcome === 'failed' || last.outcome === 'unexpected-pass') failed += 1;
    }
    const line = progressLine(done, total, running, failed);
    if (io.stderr.isTTY === true) io.stderr.write(`\r\x1b[2K${line}${running === undefined ? '\n' : ''}`);
    else if (running === undefined || done > 0) io.stderr.write(`${line}\n`);
  };
}

async function runVtn(v: Values, io: Readonly<ConformanceIo>): Promise<RunResult> {
  const transport = transportOf(v);
  const overXmpp = transport === 'xmpp';
  if (overXmpp) {
    notOverXmpp(v);
    xmppUrlOf(v);
    if (v['vtn-jid'] === undefined) throw new UsageError("--transport xmpp needs --vtn-jid JID: the VTN's full JID");
  } else if (v.url === undefined) throw new UsageError('conformance vtn needs --url URL (the VTN under test)');
  const peer = overXmpp
    ? { url: xmppUrlOf(v) }
    : {
        url: url('--url', v.url ?? ''),
        tls: tlsOf(v),
        expiredClient: expiredOf(v),
        xmlSignature: signingOf(v),
        listen: v.listen === undefined ? undefined : hostPort('--listen', v.listen),
        pushUrl: v['push-url'] === undefined ? undefined : url('--push-url', v['push-url']),
      };
  const adapter = adapterOf(v, io);
  // Over XMPP: the suite's VEN on --ven-jid, the VTN at --vtn-jid.
  const xmpp = overXmpp ? { client: await loggedIn(v, xmppClientOf(v, io, '--ven-jid', 'conformance')), vtnJid: v['vtn-jid'] ?? '' } : undefined;
  return runVtnSuite({
    ...peer,
    transport,
    xmpp,
    venName: v['ven-name'],
    adapter,
    only: onlyOf(v),
    expectedFail: expectedFailOf(v),
    caseTimeoutMs: positiveMs('--case-timeout', v['case-timeout'], 20_000),
    deliveryTimeoutMs: positiveMs('--delivery-timeout', v['delivery-timeout'], 8_000),
    tool: io.tool,
    progress: progress(io),
    checks: payloadChecks,
  });
}

async function runVen(v: Values, io: Readonly<ConformanceIo>): Promise<RunResult> {
  const transport = transportOf(v);
  const overXmpp = transport === 'xmpp';
  if (overXmpp) notOverXmpp(v);
  if (!overXmpp && v.listen === undefined) throw new UsageError('conformance ven needs --listen HOST:PORT (where the suite listens as the VTN)');
  const listen = v.listen === undefined ? undefined : hostPort('--listen', v.listen);
  const waitMs = positiveMs('--wait', v.wait, 120_000);
  const xmpp = overXmpp ? await loggedIn(v, xmppClientOf(v, io, '--vtn-jid', 'vtn')) : undefined;
  const suite = await startVenSuite({
    listen,
    transport,
    xmpp: xmpp === undefined ? undefined : { client: xmpp },
    tls: overXmpp ? undefined : tlsOf(v),
    pushUrl: v['push-url'] === undefined ? undefined : url('--push-url', v['push-url']),
    marketContext: v['market-context'],
    adapter: venAdapterOf(v, io),
    only: onlyOf(v),
    expectedFail: expectedFailOf(v),
    caseTimeoutMs: positiveMs('--case-timeout', v['case-timeout'], 20_000),
    tool: io.tool,
    progress: progress(io),
    checks: payloadChecks,
    onListening: (u) =>
      void io.stderr.write(
        overXmpp
          ? `The suite is the VTN at ${u.replace(/^xmpp:/, '')}: start the VEN under test with this VTN JID; waiting up to ${Math.round(waitMs / 1000)} s for its registration.\n`
          : `The suite listens as the VTN at ${u}: start the VEN under test with this VTN URL; waiting up to ${Math.round(waitMs / 1000)} s for its registration.\n`,
      ),
  });
  try {
    const deadline = Date.now() + waitMs;
    while (suite.sim.registration === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (suite.sim.registration === undefined) io.stderr.write('The VEN did not register: every case that needs it fails.\n');
    return await suite.run();
  } finally {
    await suite.close();
  }
}
