/**
 * A local server process (the demo's and the tests' Prosody; Mosquitto and PostgreSQL in tests):
 * spawned, resolved once it accepts TCP connections on 127.0.0.1:port, stopped with SIGTERM (SIGKILL
 * after 3 s) and waited for. Its stdout and stderr are kept for failure messages. `freePort()` finds
 * a loopback port to give it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  /** What to install when the command is missing, for the error message (e.g. "Debian's prosody"). */
  readonly install: string;
  /** Longest wait for the port to accept connections, ms; default 5,000. */
  readonly startTimeoutMs?: number;
  /** Run it as this user (a server that refuses to run as root, e.g. PostgreSQL). */
  readonly spawnIds?: { readonly uid: number; readonly gid: number };
  /** The signal that stops it; default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /** Variables added to the environment it inherits. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Daemon {
  /** Everything the process wrote, over all its starts. */
  log(): string;
  /** The running process's id (for /proc figures); undefined while stopped. */
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Stops it and starts it again with the same command. */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export async function startDaemon(o: Readonly<DaemonOptions>): Promise<Daemon> {
  let output = '';
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const c = spawn(o.command, [...o.args], { stdio: ['ignore', 'pipe', 'pipe'], ...(o.env === undefined ? {} : { env: { ...process.env, ...o.env } }), ...(o.spawnIds === undefined ? {} : { uid: o.spawnIds.uid, gid: o.spawnIds.gid }) });
    child = c;
    c.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    let exited = false;
    c.once('exit', () => (exited = true));
    const spawnError = new Promise<never>((_, reject) => c.once('error', (err) => reject(new Error(`cannot run ${o.command}: install ${o.install}`, { cause: err }))));
    spawnError.catch(() => {});
    const deadline = performance.now() + (o.startTimeoutMs ?? 5000);
    while (!(await Promise.race([accepts(o.port), spawnError]))) {
      if (exited || performance.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`${o.command} did not start on 127.0.0.1:${o.port}: ${output.trim() || '(no output)'}`);
      }
      await sleep(25);
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(o.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  };
  await launch();
  return {
    log: () => output,
    pid: () => child?.pid,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}
