/**
 * Our VTN as a child process for the benchmarks (the real `oadr-ledger vtn` command) and the HTTP
 * client pieces they drive it with: registering pull VENs, polling, reading answers, /proc figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

const CLI = fileURLToPath(new URL('../../cli/oadr-ledger.js', import.meta.url));
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const SERVICE_PATH = '/OpenADR2/Simple/2.0b';
/** The poll interval the benchmarks' VTNs announce (10 s). */
export const POLL_INTERVAL_MS = 10_000;

export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

// ---- HTTP with one keep-alive agent -------------------------------------------------------

export const agent = new Agent({ keepAlive: true, maxSockets: 32 });

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NS = 'xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads"';
export const pollXml = (venId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrPayload ${NS}><oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>${venId}</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>`;
export const registerXml = (venName: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrPayload ${NS}><oadr:oadrSignedObject><oadr:oadrCreatePartyRegistration ei:schemaVersion="2.0b">` +
  `<pyld:requestID>reg-${venName}</pyld:requestID><oadr:oadrProfileName>2.0b</oadr:oadrProfileName><oadr:oadrTransportName>simpleHttp</oadr:oadrTransportName>` +
  `<oadr:oadrReportOnly>false</oadr:oadrReportOnly><oadr:oadrXmlSignature>false</oadr:oadrXmlSignature><oadr:oadrVenName>${venName}</oadr:oadrVenName>` +
  '<oadr:oadrHttpPullModel>true</oadr:oadrHttpPullModel></oadr:oadrCreatePartyRegistration></oadr:oadrSignedObject></oadr:oadrPayload>';

/** The text of the first element with this local name, whatever its prefix. */
export function elementText(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</`).exec(xml);
  return m?.[1];
}
export const isPayload = (xml: string, local: string): boolean => new RegExp(`<(?:[\\w.-]+:)?${local}[\\s>]`).test(xml);

/** Registers `n` pull VENs by oadrCreatePartyRegistration, `concurrency` at a time; returns their venIDs in order. */
export async function registerVens(base: string, n: number, namePrefix: string, concurrency = 16): Promise<string[]> {
  const ids = new Array<string>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await post(`${base}${SERVICE_PATH}/EiRegisterParty`, registerXml(`${namePrefix}${i + 1}`));
      const venId = elementText(r.body, 'venID');
      const code = elementText(r.body, 'responseCode');
      if (r.status !== 200 || code !== '200' || venId === undefined) {
        throw new Error(`registration of ${namePrefix}${i + 1} failed: HTTP ${r.status}, responseCode ${code ?? '?'}; is the VTN's registration policy open?`);
      }
      ids[i] = venId;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return ids;
}

/**
 * Polls each venID until its queue is empty (a fresh registration queues the VTN's
 * oadrRegisterReport, R301), then once more: each must get oadrResponse 200, so wrk measures the
 * empty-queue path that most polls take.
 */
export async function drainAndCheck(base: string, venIds: readonly string[], concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < venIds.length) {
      const id = venIds[next++] as string;
      for (let i = 0; ; i++) {
        const r = await post(`${base}${SERVICE_PATH}/OadrPoll`, pollXml(id));
        if (r.status === 200 && isPayload(r.body, 'oadrResponse') && elementText(r.body, 'responseCode') === '200') break;
        if (r.status !== 200 || isPayload(r.body, 'oadrResponse') || i > 20) {
          throw new Error(`an oadrPoll of ${id} did not end in oadrResponse 200 (HTTP ${r.status}): ${r.body.slice(0, 300)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, venIds.length) }, worker));
}

// ---- our VTN in a child process ------------------------------------------------------------

export interface VtnChild {
  readonly proc: ChildProcess;
  readonly base: string;
  /** With `heap: true`: the VTN's memory right after full garbage collections (through its inspector). */
  memory(): Promise<VtnMemory>;
  stop(): Promise<void>;
}

/**
 * `process.memoryUsage()` of the VTN, taken right after two forced full garbage collections, and
 * `dataUsed`: the used bytes of V8's data spaces (new, old, large-object) without its code and
 * trusted spaces — compiled code and bytecode come and go (V8 compiles a path on first use and
 * flushes bytecode it has not run for a while) by megabytes that are no VEN's.
 */
export interface VtnMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly dataUsed: number;
}

const DATA_SPACES = ['new_space', 'old_space', 'large_object_space', 'new_large_object_space'];
const MEMORY_EXPRESSION =
  `(globalThis.gc(), globalThis.gc(), { ...process.memoryUsage(), dataUsed: process.getBuiltinModule('node:v8').getHeapSpaceStatistics()` +
  `.filter((s) => ${JSON.stringify(DATA_SPACES)}.includes(s.space_name)).reduce((n, s) => n + s.space_used_size, 0) })`;


export interface VtnChildOptions {
  /** The folder the VTN's data and configuration go in (`<work>/<name>`). */
  readonly work: string;
  readonly name: string;
  /** `taskset -c N`; absent: unpinned. */
  readonly pinCore?: number | undefined;
  /** Write a V8 CPU profile of the VTN into this folder. */
  readonly cpuProfDir?: string | undefined;
  /** The configuration file's content; default registration policy `open`, poll interval 10 s. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** More `oadr-ledger vtn` flags (e.g. the XMPP ones). */
  readonly args?: readonly string[];
  /** More environment (e.g. OADR_XMPP_PASSWORD). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the VTN's log (its stdout) goes; absent: discarded. */
  readonly logFile?: string | undefined;
  /** Start the VTN with `--expose-gc` and its inspector on a loopback port, so `memory()` can force GCs and read its heap. */
  readonly heap?: boolean;
}

/** `oadr-ledger vtn --insecure-http --no-ledger` in a child process, resolved once /healthz answers; the admin token is ADMIN_TOKEN. */
export async function startVtn(o: Readonly<VtnChildOptions>): Promise<VtnChild> {
  const { work, name, pinCore } = o;
  const port = await freePort();
  const dataDir = join(work, name);
  const config = join(work, `${name}.json`);
  writeFileSync(config, JSON.stringify(o.config ?? { registrationPolicy: 'open', pollFrequencyMs: POLL_INTERVAL_MS }));
  const nodeArgs: string[] = [];
  if (o.cpuProfDir !== undefined) {
    mkdirSync(o.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', o.cpuProfDir, '--cpu-prof-name', `vtn-${name}.cpuprofile`);
  }
  if (o.heap === true) nodeArgs.push('--expose-gc', '--inspect=127.0.0.1:0');
  const cmd = [process.execPath, ...nodeArgs, CLI, 'vtn', '--insecure-http', '--no-ledger', '--config', config, '--data-dir', dataDir, '--port', String(port), ...(o.args ?? [])];
  const [file, ...rest] = pinCore === undefined ? cmd : ['taskset', '-c', String(pinCore), ...cmd];
  const proc = spawn(file as string, rest, { env: { ...process.env, OADR_ADMIN_TOKEN: ADMIN_TOKEN, ...o.env }, stdio: ['ignore', o.logFile === undefined ? 'ignore' : openSync(o.logFile, 'w'), 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString('utf8');
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000; // a start on a machine loaded by other jobs takes long
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the VTN exited with ${proc.exitCode}:\n${stderr}`);
    try {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request(`${base}/healthz`, { agent }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`the VTN did not answer /healthz within 120 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  return {
    proc,
    base,
    memory: () => {
      if (inspectorUrl === undefined) throw new Error('memory() needs a VTN started with heap: true (its inspector URL is not in its stderr)');
      return evaluateIn<VtnMemory>(inspectorUrl, MEMORY_EXPRESSION);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Evaluates an expression in a Node process through its inspector (Runtime.evaluate) and resolves with its value, as JSON. */
function evaluateIn<T>(inspectorUrl: string, expression: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ws = new WebSocket(inspectorUrl);
    ws.onerror = () => reject(new Error(`cannot reach the VTN's inspector at ${inspectorUrl}`));
    ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true, includeCommandLineAPI: true } }));
    ws.onmessage = (m: MessageEvent) => {
      const r = JSON.parse(String(m.data)) as { id?: number; result?: { result?: { value?: T }; exceptionDetails?: { text: string } } };
      if (r.id !== 1) return;
      ws.close();
      const value = r.result?.result?.value;
      if (value === undefined) reject(new Error(`the VTN's inspector did not evaluate ${expression}: ${r.result?.exceptionDetails?.text ?? JSON.stringify(r).slice(0, 200)}`));
      else resolve(value);
    };
  });
}

/** Resident set size of a process (kB → bytes), from /proc. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/** The lowest RSS over `ms` (sampled every 100 ms): less noise from garbage not yet collected. */
export async function settledRss(pid: number, ms = 2_000): Promise<number> {
  let min = rssOf(pid);
  for (let t = 0; t < ms; t += 100) {
    await new Promise((r) => setTimeout(r, 100));
    min = Math.min(min, rssOf(pid));
  }
  return min;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}


/** Creates an event through the admin API (`POST /api/v1/events`) with each VEN's own reduction; resolves with the answer. */
export function createEvent(base: string, perVenReductionW: Readonly<Record<string, number>>): Promise<HttpAnswer> {
  const body = JSON.stringify({ programId: 'default', start: new Date(Date.now() + 3_600_000).toISOString(), slots: 4, perVenReductionW });
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = request(`${base}/api/v1/events`, { method: 'POST', agent, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
