/**
 * A real Mosquitto broker for tests: a free loopback port, a config file in a temp dir
 * (`listener PORT 127.0.0.1`, `allow_anonymous true`, no persistence), `mosquitto -c FILE` spawned,
 * resolved once it accepts TCP connections. `stop()` kills it and waits for the exit; `restart()`
 * starts a fresh broker on the same port (retained messages are gone, as after a real crash without
 * persistence). Use with `t.after(() => broker.stop())`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MosquittoOptions {
  /** Broker binary; default `/usr/sbin/mosquitto` (Debian), else `mosquitto` on PATH. */
  readonly binary?: string;
  /** Port to listen on; default a free one. */
  readonly port?: number;
  /** Longest wait for the broker to accept connections, ms; default 5,000. */
  readonly startTimeoutMs?: number;
}

export interface MosquittoBroker {
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string;
  /** Everything the broker wrote to stderr/stdout (for failure messages). */
  log(): string;
  stop(): Promise<void>;
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

export async function startMosquitto(options: Readonly<MosquittoOptions> = {}): Promise<MosquittoBroker> {
  const binary = options.binary ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto');
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'oadr-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  let output = '';
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    let exited = false;
    c.once('exit', () => (exited = true));
    const spawnError = new Promise<never>((_, reject) => c.once('error', (err) => reject(new Error(`cannot run ${binary}: install Debian's mosquitto`, { cause: err }))));
    spawnError.catch(() => {});
    const deadline = performance.now() + (options.startTimeoutMs ?? 5000);
    while (!(await Promise.race([accepts(port), spawnError]))) {
      if (exited || performance.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`mosquitto did not start on 127.0.0.1:${port}: ${output.trim() || '(no output)'}`);
      }
      await sleep(25);
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  };

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => output,
    async stop() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await stop();
      await launch();
    },
  };
}
