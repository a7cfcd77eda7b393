/**
 * A local Prosody (Debian `prosody`): the demo's XMPP server and the tests'. A generated
 * configuration in a folder the caller gives, one VirtualHost, the client port on 127.0.0.1 only,
 * STARTTLS required with the server certificate the caller gives, and either password accounts
 * (SCRAM, `register`) or certificate authentication (SASL EXTERNAL through our
 * `mod_auth_oadr_cert`, the CN naming the account). `prosody -F` is spawned and resolved once it
 * accepts TCP connections; `stop()` ends it; `restart()` stops and starts it on the same port with
 * the same accounts. A production XMPP server is configured by its operator (docs/xmpp.md).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startDaemon } from './server-process.ts';

const run = promisify(execFile);
const PLUGINS = join(import.meta.dirname, 'prosody');

export interface LocalProsodyOptions {
  /** Where the configuration, the certificate files and the accounts live (created if missing). */
  readonly dir: string;
  /** The XMPP domain (one VirtualHost), which the server certificate must name; default `localhost`. */
  readonly domain?: string;
  /** The client port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** `password`: SCRAM-SHA-1 accounts made with `register`; `certificate`: SASL EXTERNAL only, CN = account. */
  readonly auth: 'password' | 'certificate';
  /** The server's certificate chain and key (PEM), and the CA its clients' certificates chain to. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
  /** Longest wait for Prosody to accept connections, ms; default 10,000. */
  readonly startTimeoutMs?: number;
  /** Items of the domain's disco#items (`disco_items`), e.g. the VTN's full JID for the VENs' discovery. */
  readonly discoItems?: readonly { readonly jid: string; readonly name: string }[];
  /** Lowest level Prosody logs (to its standard output, kept by `log()`); default `info`. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * mod_limits as docs/xmpp.md recommends for production: every client connection is read at
   * `rate` (default `10kb/s`, 2 s burst) except these JIDs' (the VTN's, which carries every push).
   */
  readonly limits?: { readonly unlimitedJids: readonly string[]; readonly rate?: string };
  /**
   * PBKDF2 iterations of the SCRAM accounts `register` makes (Prosody's default 10,000): fewer for
   * thousands of logins in a benchmark, where the login is set-up, not what is measured.
   */
  readonly scramIterations?: number;
}

export interface LocalProsody {
  readonly domain: string;
  readonly port: number;
  /** `xmpp://127.0.0.1:PORT` */
  readonly url: string;
  /** Creates a password account (`prosodyctl register`). */
  register(local: string, password: string): Promise<void>;
  /**
   * Creates many password accounts with one password at once: the first with `prosodyctl register`,
   * the others as copies of its account file (the same salted SCRAM keys), for thousands of accounts.
   */
  registerMany(locals: readonly string[], password: string): Promise<void>;
  /** Prosody's process id (for /proc figures). */
  pid(): number | undefined;
  /** Everything Prosody logged (for failure messages). */
  log(): string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

const lua = (s: string): string => JSON.stringify(s);

/** A name as Prosody's file store spells it on disk (util.datamanager: every non-alphanumeric byte as %xx). */
const storeName = (s: string): string => s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

function configuration(o: LocalProsodyOptions & { readonly port: number; readonly domain: string }): string {
  const certificate = join(o.dir, 'server.crt');
  const key = join(o.dir, 'server.key');
  const ca = join(o.dir, 'ca.crt');
  return [
    `pidfile = ${lua(join(o.dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(o.dir, 'data'))}`,
    `plugin_paths = { ${lua(PLUGINS)} }`,
    ...(process.getuid?.() === 0 ? ['run_as_root = true'] : []),
    `log = { { levels = { min = "${o.logLevel ?? 'info'}" }, to = "console" } }`,
    `modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; ${o.limits === undefined ? '' : '"limits"; '}}`,
    'modules_disabled = { "s2s"; "offline"; }',
    'network_backend = "epoll"',
    'c2s_stanza_size_limit = 1024 * 1024',
    ...(o.limits === undefined
      ? []
      : [`limits = { c2s = { rate = ${lua(o.limits.rate ?? '10kb/s')}; burst = "2s"; }; }`, `unlimited_jids = { ${o.limits.unlimitedJids.map(lua).join('; ')} }`]),
    `c2s_ports = { ${o.port} }`,
    'c2s_interfaces = { "127.0.0.1" }',
    'c2s_direct_tls_ports = {}',
    's2s_ports = {}',
    'c2s_require_encryption = true',
    'allow_unencrypted_plain_auth = false',
    `certificates = ${lua(join(o.dir, 'certs'))}`,
    `authentication = ${lua(o.auth === 'password' ? 'internal_hashed' : 'oadr_cert')}`,
    `ssl = { certificate = ${lua(certificate)}; key = ${lua(key)}; protocol = "tlsv1_2+"; }`,
    // Ask for a client certificate, verify it against our CA only and as a client certificate (mod_auth_oadr_cert checks the result).
    `c2s_ssl = { certificate = ${lua(certificate)}; key = ${lua(key)}; cafile = ${lua(ca)}; capath = false; verify = { "peer"; "client_once" }; verifyext = { lsec_ignore_purpose = false }; }`,
    ...(o.scramIterations === undefined ? [] : [`default_iteration_count = ${o.scramIterations}`]),
    `disco_items = { ${(o.discoItems ?? []).map((i) => `{ ${lua(i.jid)}, ${lua(i.name)} }`).join('; ')} }`,
    `VirtualHost ${lua(o.domain)}`,
    '',
  ].join('\n');
}

export async function startLocalProsody(options: Readonly<LocalProsodyOptions>): Promise<LocalProsody> {
  const domain = options.domain ?? 'localhost';
  const port = options.port ?? (await freePort());
  const { dir } = options;
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'certs'), { recursive: true });
  await writeFile(join(dir, 'server.crt'), options.certificatePem);
  await writeFile(join(dir, 'server.key'), options.privateKeyPem, { mode: 0o600 });
  await writeFile(join(dir, 'ca.crt'), options.caPem);
  const config = join(dir, 'prosody.cfg.lua');
  await writeFile(config, configuration({ ...options, port, domain }));
  const daemon = await startDaemon({ command: 'prosody', args: ['--config', config, '-F'], port, install: "Debian's prosody (apt-get install prosody)", startTimeoutMs: options.startTimeoutMs ?? 10_000 });
  return {
    domain,
    port,
    url: `xmpp://127.0.0.1:${port}`,
    async register(local, password) {
      await run('prosodyctl', ['--config', config, 'register', local, domain, password]);
    },
    async registerMany(locals, password) {
      const [first, ...rest] = locals;
      if (first === undefined) return;
      await run('prosodyctl', ['--config', config, 'register', first, domain, password]);
      const accounts = join(dir, 'data', storeName(domain), 'accounts');
      const record = await readFile(join(accounts, `${storeName(first)}.dat`));
      for (const local of rest) await writeFile(join(accounts, `${storeName(local)}.dat`), record);
    },
    pid: () => daemon.pid(),
    log: () => daemon.log(),
    stop: () => daemon.stop(),
    restart: () => daemon.restart(),
  };
}
