/**
 * A real ejabberd (Debian `ejabberd`) for tests, as `prosody.ts` is a Prosody: a generated
 * configuration (`ejabberdConfiguration`, the one docs/xmpp.md shows) on free loopback ports with
 * its own spool directory, STARTTLS (TLS 1.2 or later) with a server certificate from our `certs`
 * PKI, SCRAM accounts created through ejabberd's HTTP API on a loopback port. The Erlang VM runs
 * without distribution (no node name, no cookie, no epmd): nothing is shared with another ejabberd
 * on the host, and it runs as root as well as any user. `stop()` ends it (SIGTERM: a clean Erlang
 * shutdown) and removes its files.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDaemon } from '../index.ts';
import { chainPem } from '../../certs/index.ts';
import type { XmppTestPki } from './prosody.ts';

export interface EjabberdOptions {
  /** The XMPP domain (one host); default `localhost`, which the test PKI's server certificate names. */
  readonly domain?: string;
  readonly pki: XmppTestPki;
  /** Longest wait for ejabberd to accept connections, ms; default 60,000 (the Erlang VM starts slowly). */
  readonly startTimeoutMs?: number;
}

export interface Ejabberd {
  readonly domain: string;
  readonly port: number;
  /** `xmpp://127.0.0.1:PORT` */
  readonly url: string;
  /** Creates a SCRAM account (ejabberd's `register` command, over its HTTP API). */
  register(local: string, password: string): Promise<void>;
  pid(): number | undefined;
  /** Everything ejabberd wrote (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface EjabberdConfigurationOptions {
  readonly domain: string;
  /** The server's certificate chain and key in one PEM file. */
  readonly certfile: string;
  /** The c2s port and the address it listens on. */
  readonly port: number;
  readonly ip: string;
  /** Loopback port of the HTTP API that creates accounts. */
  readonly apiPort: number;
  /** The VTN's account: its connection carries every push, so no c2s shaper slows it. */
  readonly vtnJid: string;
  readonly logLevel?: string;
}

/** The ejabberd configuration (YAML) the tests run and docs/xmpp.md recommends. */
export function ejabberdConfiguration(o: Readonly<EjabberdConfigurationOptions>): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    `hosts: [${q(o.domain)}]`,
    `loglevel: ${o.logLevel ?? 'warning'}`,
    `certfiles: [${q(o.certfile)}]`,
    'acl:',
    '  vtn:',
    `    user: [${q(o.vtnJid)}]`,
    'shaper:',
    '  venrate: 100000                   # bytes per second per VEN connection',
    'shaper_rules:',
    '  c2s_shaper:',
    '    none: vtn                       # the VTN connection carries every push',
    '    venrate: all',
    'listen:',
    `  - port: ${o.port}`,
    `    ip: ${q(o.ip)}`,
    '    module: ejabberd_c2s',
    '    starttls_required: true',
    '    protocol_options: ["no_sslv3", "no_tlsv1", "no_tlsv1_1"]   # TLS 1.2 or later (R38)',
    '    max_stanza_size: 1048576          # at least the VTN bodyLimitBytes',
    '    shaper: c2s_shaper',
    `  - port: ${o.apiPort}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_http',
    '    request_handlers:',
    '      /api: mod_http_api',
    'auth_method: [internal]',
    'auth_password_format: scram',
    'disable_sasl_mechanisms: ["PLAIN", "X-OAUTH2", "DIGEST-MD5"]',
    's2s_access: none                     # no federation',
    'api_permissions:',
    '  "accounts from loopback":',
    '    from: [mod_http_api]',
    '    who:',
    '      ip: 127.0.0.1/8',
    '    what: [register]',
    'modules:',
    '  mod_disco: {}',
    '  mod_ping: {}',
    '  mod_roster: {}',
    '',
  ].join('\n');
}

/** Where Debian keeps ejabberd's Erlang applications (ejabberdctl's ERL_LIBS). */
function erlLibs(): string {
  try {
    const m = /^ERL_LIBS='([^']+)'/m.exec(readFileSync('/usr/sbin/ejabberdctl', 'utf8'));
    if (m?.[1] !== undefined) return m[1];
  } catch {
    // Not installed: the spawn below says what to install.
  }
  return '/usr/lib/x86_64-linux-gnu';
}

function post(port: number, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startEjabberd(options: Readonly<EjabberdOptions>): Promise<Ejabberd> {
  const domain = options.domain ?? 'localhost';
  const port = await freePort();
  const apiPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'oadr-ejabberd-'));
  await mkdir(join(dir, 'spool'));
  const certfile = join(dir, 'server.pem');
  await writeFile(certfile, `${chainPem(options.pki.server)}\n${options.pki.server.privateKeyPem}`, { mode: 0o600 });
  const config = join(dir, 'ejabberd.yml');
  await writeFile(config, ejabberdConfiguration({ domain, certfile, port, ip: '127.0.0.1', apiPort, vtnJid: `vtn@${domain}` }));
  const env = { EJABBERD_CONFIG_PATH: config, EJABBERD_LOG_PATH: join(dir, 'ejabberd.log'), ERL_LIBS: erlLibs(), ERL_CRASH_DUMP: join(dir, 'erl_crash.dump') };
  const daemon = await startDaemon({
    command: 'erl',
    args: ['-noinput', '-mnesia', 'dir', JSON.stringify(join(dir, 'spool')), '-s', 'ejabberd'],
    env,
    port,
    install: "Debian's ejabberd (.ci/run does)",
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  return {
    domain,
    port,
    url: `xmpp://127.0.0.1:${port}`,
    async register(local, password) {
      const r = await post(apiPort, '/api/register', JSON.stringify({ user: local, host: domain, password }));
      if (r.status !== 200) throw new Error(`ejabberd did not create the account ${local}@${domain}: HTTP ${r.status} ${r.body}`);
    },
    pid: () => daemon.pid(),
    log: () => daemon.log(),
    async stop() {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
