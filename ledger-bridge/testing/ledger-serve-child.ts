/**
 * For tests: `oadr-ledger ledger serve` as a child process (the real command, TLS with its development
 * CA), which a test can kill (SIGKILL: a crash, nothing flushed beyond what the ledger made durable)
 * and start again on the same port over the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateOrgs, type DevOrg } from '../embedded/orgs.ts';
import { LEDGER_SUBDIR } from '../embedded/command.ts';

const CLI = fileURLToPath(new URL('../../cli/run.ts', import.meta.url));

export interface LedgerServeChild {
  /** host:port of the Gateway service. */
  readonly address: string;
  /** The TLS CA clients trust (`DIR/tls/ca-cert.pem`). */
  readonly tlsCaPath: string;
  /** The name in the server's TLS certificate. */
  readonly hostname: string;
  /** The served ledger's organisations (their CAs issue client identities). */
  orgs(): Promise<DevOrg[]>;
  /** Kills the process (default SIGKILL) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

function launch(dataDir: string, port: number): Promise<{ child: ChildProcess; address: string; tlsCaPath: string }> {
  const child = spawn(process.execPath, [CLI, 'ledger', 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const address = /Fabric Gateway on (\S+)/.exec(out)?.[1];
      const ca = /TLS CA for clients: (\S+)/.exec(out)?.[1];
      if (address !== undefined && ca !== undefined && /MSPs: .*\n/.test(out)) resolve({ child, address, tlsCaPath: ca });
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => void (err += s));
    child.once('exit', (code) => reject(new Error(`ledger serve exited with ${code} before listening: ${err}${out}`)));
  });
}

export async function startLedgerServeChild(t: { after(fn: () => unknown): void }, dataDir: string): Promise<LedgerServeChild> {
  let running = await launch(dataDir, 0);
  const port = Number(running.address.split(':').pop());
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const { child } = running;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };
  t.after(() => stop('SIGTERM'));
  return {
    address: running.address,
    tlsCaPath: running.tlsCaPath,
    hostname: 'localhost',
    orgs: () => loadOrCreateOrgs(join(dataDir, LEDGER_SUBDIR, 'certs')),
    stop,
    async restart() {
      await stop();
      running = await launch(dataDir, port);
    },
  };
}
