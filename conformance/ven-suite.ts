/**
 * A run against a VEN: the suite listens as its VTN (the VEN under test is pointed at it and
 * registers, pull or push), pushes through its recording client, and runs the VEN-side cases.
 */
import type { ExchangeCheck, RunResult, Transport } from './case.ts';
import { createSimVtn, type AsVtn, type SimVtn } from './as-vtn.ts';
import { venCases } from './cases/ven-cases.ts';
import { createRecordingClient, createTape, startRecordingServer, type RecordingServer, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
import { runCases, type CaseSpec, type ExpectedFail, type RunOptions } from './runner.ts';

export interface VenSuiteOptions {
  /** Where the suite listens as the VTN. */
  readonly listen: { readonly host: string; readonly port: number };
  /** http-pull (the VEN polls) or http-push (the suite pushes to the VEN's transport address). */
  readonly transport: Transport;
  readonly tls?: TlsMaterial | undefined;
  /** Overrides the transport address the VEN registers. */
  readonly pushUrl?: string | undefined;
  /** The market context the VEN serves (default http://MarketContext1, not known to the suite). */
  readonly marketContext?: string | undefined;
  readonly pollFreq?: string | undefined;
  readonly checks?: readonly ExchangeCheck[] | undefined;
  readonly only?: readonly string[] | undefined;
  readonly expectedFail?: readonly ExpectedFail[] | undefined;
  readonly caseTimeoutMs?: number | undefined;
  readonly waitMs?: number | undefined;
  readonly tool?: string | undefined;
  readonly progress?: RunOptions<AsVtn>['progress'];
  readonly cases?: readonly CaseSpec<AsVtn>[] | undefined;
  /** Called once the suite listens (with its URL): start the VEN under test here, or tell the operator to. */
  readonly onListening?: ((url: string) => void | Promise<void>) | undefined;
}

/** The suite's VTN, listening; `run` runs the cases (the VEN may register before or during the first case). */
export interface VenSuite {
  readonly url: string;
  readonly sim: SimVtn;
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

export async function startVenSuite(options: Readonly<VenSuiteOptions>): Promise<VenSuite> {
  const slot: TapeSlot = { current: createTape() };
  const sim = createSimVtn({ pollFreq: options.pollFreq });
  const server: RecordingServer = await startRecordingServer({ slot, host: options.listen.host, port: options.listen.port, handler: sim.handle, tls: options.tls });
  const client = createRecordingClient({ slot, tls: options.tls, timeoutMs: 10_000 });
  const ctx: AsVtn = {
    transport: options.transport,
    sim,
    client,
    url: server.url,
    pushUrl: options.pushUrl,
    marketContext: options.marketContext ?? 'http://MarketContext1',
    marketContextKnown: options.marketContext !== undefined,
    waitMs: options.waitMs ?? 8_000,
  };
  await options.onListening?.(server.url);
  return {
    url: server.url,
    sim,
    run: () =>
      runCases({
        side: 'ven',
        transport: options.transport,
        peer: server.url,
        tool: options.tool ?? 'oadr-ledger',
        cases: options.cases ?? venCases,
        context: ctx,
        slot,
        checks: options.checks,
        only: options.only,
        expectedFail: options.expectedFail,
        caseTimeoutMs: options.caseTimeoutMs,
        progress: options.progress,
      }),
    close: () => server.close(),
  };
}
