/**
 * The demo's XMPP server: Debian's Prosody, started by the demo on a free loopback port (the local
 * Prosody of `xmpp/`), in DIR/xmpp, made again on every start: a new CA and server certificate for
 * `localhost` (certs/), password accounts (SCRAM) for the gateway and the VENs that speak XMPP,
 * with one password made for this start. The gateway and those VENs connect with STARTTLS, trusting
 * that CA. A production XMPP server is the operator's (docs/xmpp.md); this one lives and dies with
 * the demo.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainPem, createRootCa, issueServerCertificate } from '../certs/index.ts';
import { startLocalProsody, type LocalProsody } from '../xmpp/index.ts';

export const DEMO_XMPP_DOMAIN = 'localhost';
/** The gateway's account; its full JID is `vtn@localhost/vtn` (the VTN command's default resource). */
export const DEMO_VTN_JID = `vtn@${DEMO_XMPP_DOMAIN}`;

export interface DemoXmppServer {
  /** `xmpp://127.0.0.1:PORT` */
  readonly url: string;
  /** The CA file the gateway and the VENs trust the server's certificate through. */
  readonly caFile: string;
  readonly caPem: string;
  /** The password of every account of this start. */
  readonly password: string;
  /** The gateway's full JID, which the VENs send their requests to. */
  readonly vtnFullJid: string;
  /** The account's JID of a VEN (its VEN name as the local part). */
  jidOf(venName: string): string;
  stop(): Promise<void>;
}

/** Whether Debian's `prosody` is on the PATH. */
export const prosodyInstalled = (): boolean => spawnSync('sh', ['-c', 'command -v prosody'], { stdio: 'ignore' }).status === 0;

/** Starts the demo's Prosody with accounts for the gateway and `venNames`. */
export async function startDemoXmpp(dataDir: string, venNames: readonly string[]): Promise<DemoXmppServer> {
  const dir = join(dataDir, 'xmpp');
  rmSync(dir, { recursive: true, force: true });
  const ca = await createRootCa({ commonName: 'oadr-ledger demo XMPP CA', pathLength: 0 });
  const server = await issueServerCertificate({ commonName: DEMO_XMPP_DOMAIN, issuer: ca, dnsNames: [DEMO_XMPP_DOMAIN] });
  const prosody: LocalProsody = await startLocalProsody({
    dir,
    domain: DEMO_XMPP_DOMAIN,
    auth: 'password',
    certificatePem: chainPem(server),
    privateKeyPem: server.privateKeyPem,
    caPem: ca.certificatePem,
    logLevel: 'warn',
    // No mod_limits (docs/xmpp.md): its per-connection rate is sized for real time, and the demo's
    // households send an hour of telemetry in a fraction of a second when the demo clock runs fast.
  });
  const password = randomBytes(18).toString('base64url');
  try {
    await prosody.registerMany(['vtn', ...venNames], password);
  } catch (e) {
    await prosody.stop();
    throw e;
  }
  const caFile = join(dir, 'demo-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  return {
    url: prosody.url,
    caFile,
    caPem: ca.certificatePem,
    password,
    vtnFullJid: `${DEMO_VTN_JID}/vtn`,
    jidOf: (venName) => `${venName}@${DEMO_XMPP_DOMAIN}`,
    stop: () => prosody.stop(),
  };
}
