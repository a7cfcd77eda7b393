/**
 * A real Mosquitto broker for tests: a free loopback port, a config file in a temp dir
 * (`listener PORT 127.0.0.1`, `allow_anonymous true`, no persistence), `mosquitto -c FILE` spawned,
 * resolved once it accepts TCP connections. `stop()` kills it and waits for the exit; `restart()`
 * starts a fresh broker on the same port (retained messages are gone, as after a real crash without
 * persistence). Use with `t.after(() => broker.stop())`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDaemon } from '../../../xmpp/index.ts';

export { freePort };

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

export async function startMosquitto(options: Readonly<MosquittoOptions> = {}): Promise<MosquittoBroker> {
  const binary = options.binary ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto');
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'oadr-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const daemon = await startDaemon({ command: binary, args: ['-c', conf], port, install: "Debian's mosquitto", ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }) });
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => daemon.log(),
    async stop() {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
    restart: () => daemon.restart(),
  };
}
