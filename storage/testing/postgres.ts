/**
 * A real PostgreSQL (Debian `postgresql`) for tests: `initdb` into a temporary directory, `postgres`
 * on a free loopback port with its socket in that directory, trust authentication for the one
 * role `oadr`. PostgreSQL refuses to run as root: when the tests run as root, the server and initdb
 * run as the `postgres` user the Debian package creates (spawn's `uid`/`gid`), the data directory
 * owned by it. `stop()` ends the server and removes its files; `restart()` stops and starts it on
 * the same port (clients see their connections drop and must reconnect). Missing binaries fail with
 * the install hint: nothing is skipped. Use with `t.after(() => pg.stop())`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startDaemon, type Daemon } from '../../xmpp/index.ts';

const INSTALL = "Debian's postgresql (apt-get install postgresql; .ci/run installs it)";

export interface TestPostgres {
  readonly port: number;
  /** `postgres://oadr@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): string;
  /** psql's output of one SQL command (as the superuser `oadr`). */
  sql(command: string, database?: string): string;
  /** The server's process id. */
  pid(): number | undefined;
  log(): string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The directory of PostgreSQL's programs (the newest installed major version). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error(`PostgreSQL is not installed (no ${root}/*/bin/initdb): install ${INSTALL}`);
  return join(root, versions[0]!, 'bin');
}

let databases = 0;

export interface TestPostgresOptions {
  /** More server settings (`-c name=value`), e.g. `shared_buffers=256MB` for a benchmark. */
  readonly settings?: readonly string[];
  /** Run the server under `taskset -c CPUS` (benchmarks). */
  readonly cpus?: string;
}

export async function startTestPostgres(options: Readonly<TestPostgresOptions> = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'oadr-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL will not run as root: as root, it runs as the postgres user, which owns its directory.
  let ids: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    try {
      ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
    } catch (err) {
      throw new Error(`the tests run as root and there is no postgres user to run PostgreSQL as: install ${INSTALL}`, { cause: err });
    }
    chownSync(dir, ids.uid, ids.gid);
  }
  const asUser = ids === undefined ? {} : ids;
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'oadr', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], { ...asUser, stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`, { cause: err });
  }
  const port = await freePort();
  const serverArgs = ['-D', data, '-p', String(port), '-k', dir, '-h', '127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  // SIGINT: fast shutdown (SIGTERM would wait for every client to disconnect).
  for (const s of options.settings ?? []) serverArgs.push('-c', s);
  const command = options.cpus === undefined ? join(bin, 'postgres') : 'taskset';
  const args = options.cpus === undefined ? serverArgs : ['-c', options.cpus, join(bin, 'postgres'), ...serverArgs];
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ command, args, port, install: INSTALL, startTimeoutMs: 20_000, stopSignal: 'SIGINT', ...(ids === undefined ? {} : { spawnIds: ids }) });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `postgres://oadr@127.0.0.1:${port}/postgres`;
  // The port accepts connections before the server takes sessions ("the database system is starting up").
  const ready = async (): Promise<void> => {
    const deadline = performance.now() + 20_000;
    while (spawnSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]).status !== 0) {
      if (performance.now() > deadline) throw new Error(`PostgreSQL on port ${port} did not become ready: ${daemon.log()}`);
      await sleep(50);
    }
  };
  await ready();
  const sql = (command: string, database = 'postgres'): string =>
    execFileSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'oadr', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atqc', command], { stdio: 'pipe' }).toString();
  return {
    port,
    url,
    createDatabase(name = `db${process.pid}_${++databases}`) {
      sql(`CREATE DATABASE ${name}`);
      return `postgres://oadr@127.0.0.1:${port}/${name}`;
    },
    sql,
    pid: () => daemon.pid(),
    log: () => daemon.log(),
    async restart() {
      await daemon.restart();
      await ready();
    },
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
