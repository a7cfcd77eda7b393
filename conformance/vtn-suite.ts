/**
 * A run against a VTN: the suite's recording client, its push server (for http-push), the
 * adapter, the VTN-side cases, and the runner.
 */
import type { RunResult } from './case.ts';
import type { VtnAdapter } from './adapters/adapter.ts';
import { createPushInbox, releaseCertificate, type AsVen, type RegisteredVen } from './as-ven.ts';
import { vtnCases } from './cases/vtn-cases.ts';
import { createRecordingClient, createTape, startRecordingServer, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
import { runSuite, type SuiteOptions } from './runner.ts';
import { createSigner, signatureCheck } from './signature.ts';

export interface VtnSuiteOptions extends SuiteOptions<AsVen> {
  /** The VTN's base URL (without `/OpenADR2/…`). */
  readonly url: string;
  /** Prefix of the names of the VENs the suite registers (default `conformance`). */
  readonly venName?: string | undefined;
  readonly tls?: TlsMaterial | undefined;
  /** An expired client certificate and key from the CA the VTN trusts (R516). */
  readonly expiredClient?: { readonly cert: string; readonly key: string } | undefined;
  readonly adapter?: VtnAdapter | undefined;
  /** Sign what the suite sends with `tls` cert and key, and check the VTN's signatures (R514). */
  readonly xmlSignature?: boolean | undefined;
  /** Where the suite listens for pushes (http-push), default 127.0.0.1:0. */
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  /** The base URL the VTN pushes to, when it differs from where the suite listens (NAT, proxy). */
  readonly pushUrl?: string | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly deliveryTimeoutMs?: number | undefined;
  readonly pollGapMs?: number | undefined;
  readonly eventLeadMinutes?: number | undefined;
}

export async function runVtnSuite(options: Readonly<VtnSuiteOptions>): Promise<RunResult> {
  const slot: TapeSlot = { current: createTape() };
  const client = createRecordingClient({ slot, tls: options.tls, timeoutMs: options.requestTimeoutMs ?? 10_000 });
  const signer = options.xmlSignature === true && options.tls !== undefined ? createSigner(options.tls) : undefined;
  const inbox = createPushInbox(signer);
  const server =
    options.transport === 'http-push'
      ? await startRecordingServer({ slot, host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? 0, handler: inbox.handler, tls: options.tls })
      : undefined;
  const venName = options.venName ?? 'conformance';
  let serial = 0;
  const run = Date.now().toString(36);
  const ctx: AsVen = {
    vtnUrl: options.url.replace(/\/+$/, ''),
    transport: options.transport,
    venName,
    client,
    clientCertificate: options.tls !== undefined && options.url.startsWith('https:'),
    tls: options.tls,
    expiredClient: options.expiredClient,
    adapter: options.adapter,
    signer,
    pushBase: options.pushUrl ?? server?.url,
    inbox,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 8_000,
    pollGapMs: options.pollGapMs ?? 200,
    eventLeadMinutes: options.eventLeadMinutes ?? 30,
    vens: new Map<string, RegisteredVen>(),
    issued: new Map<string, string>(),
    nextName: (tag) => `${venName}-${run}-${tag}-${++serial}`,
  };
  try {
    const checks = signer === undefined ? options.checks : [...(options.checks ?? []), signatureCheck()];
    return await runSuite({ ...options, checks }, {
      side: 'vtn',
      peer: options.url,
      cases: vtnCases,
      context: ctx,
      slot,
      beforeEach: async (c) => {
        if (c.clientCertificate) await releaseCertificate(c);
      },
    });
  } finally {
    await server?.close();
  }
}
