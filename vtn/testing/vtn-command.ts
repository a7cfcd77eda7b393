/**
 * For tests: `oadr-ledger vtn` (`runVtnCommand`) started in the process until it listens, with a
 * recording logger, its stderr kept, and a stop that resolves to its exit code.
 */
import { runVtnCommand, type VtnCommandIo } from '../cli/cli.ts';
import { listeningLogger, type recordingLogger } from './fake-ven.ts';

export interface RunningVtnCommand {
  /** Where it listens (the OpenADR URL the command logs). */
  readonly url: string;
  readonly log: ReturnType<typeof recordingLogger>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Sends the stop signal; resolves to the exit code. */
  stop(): Promise<number>;
}

/** Runs the command; rejects with its stderr when it exits before it listens. */
export async function startVtnCommand(argv: string[], io: Omit<VtnCommandIo, 'logger' | 'stopSignal' | 'stderr'> = {}): Promise<RunningVtnCommand> {
  const { logger, listening: started } = listeningLogger();
  const log = logger;
  let err = '';
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  const done = runVtnCommand(argv, { ...io, logger, stopSignal, stderr: (s) => void (err += s) });
  const url = await Promise.race([started, done.then((code) => Promise.reject(new Error(`oadr-ledger vtn exited with ${code} before it listened: ${err}`)))]);
  return {
    url,
    log,
    stderr: () => err,
    stop: () => {
      stop();
      return done;
    },
  };
}
