/**
 * A real Prosody for tests: the local Prosody of `xmpp/local-prosody.ts` in a temporary folder, with
 * a server certificate from our `certs` PKI for `localhost`; `stop()` also removes its files. Use
 * with `t.after(() => prosody.stop())`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainPem, createRootCa, issueClientCertificate, issueServerCertificate, type Credential } from '../../certs/index.ts';
import { startLocalProsody, type LocalProsody, type LocalProsodyOptions } from '../index.ts';

export interface ProsodyOptions extends Omit<LocalProsodyOptions, 'dir' | 'port' | 'certificatePem' | 'privateKeyPem' | 'caPem' | 'logLevel'> {
  /** The server's certificate and the CA its clients' certificates chain to. */
  readonly pki: XmppTestPki;
}

export type Prosody = LocalProsody;

/** A CA, Prosody's server certificate for `localhost`, and client certificates issued on demand (CN = the JID's local part). */
export interface XmppTestPki {
  readonly ca: Credential;
  readonly caPem: string;
  readonly server: Credential;
  client(commonName: string): Promise<Credential>;
}

export async function createXmppTestPki(domain = 'localhost'): Promise<XmppTestPki> {
  const ca = await createRootCa({ commonName: 'XMPP test CA', pathLength: 0 });
  const server = await issueServerCertificate({ commonName: domain, issuer: ca, dnsNames: [domain] });
  return { ca, caPem: ca.certificatePem, server, client: (commonName) => issueClientCertificate({ commonName, issuer: ca }) };
}

export async function startProsody(options: Readonly<ProsodyOptions>): Promise<Prosody> {
  const { pki, ...rest } = options;
  const dir = await mkdtemp(join(tmpdir(), 'oadr-prosody-'));
  const level = process.env['PROSODY_LOG'];
  const prosody = await startLocalProsody({
    ...rest,
    dir,
    certificatePem: chainPem(pki.server),
    privateKeyPem: pki.server.privateKeyPem,
    caPem: pki.caPem,
    ...(level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? { logLevel: level } : {}),
  }).catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    ...prosody,
    async stop() {
      await prosody.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
