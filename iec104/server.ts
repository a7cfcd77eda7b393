/**
 * The socket adapter: a TCP server (default port 2404) whose connections each run the link state
 * machine (link.ts) and a station session (station.ts). It only translates I/O: bytes in through the
 * stream splitter and the codec, `write` actions out, a timer at the link's next deadline. It does
 * not own its sockets: `handle(stream)` takes any duplex stream, so tests can drive it directly.
 *
 * Redundancy (IEC 60870-5-104 §10): several controlling stations may connect (a main and a backup);
 * periodic and spontaneous data go only to the one that sent STARTDT act last and is still started.
 * Commands are answered on the connection they came on.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Iec104Error } from './errors.ts';
import { parseApdu, splitApdus } from './codec/apdu.ts';
import { createLink, nextDeadline, resolveLinkConfig, step, type LinkAction, type LinkConfig, type LinkEvent, type LinkState } from './link.ts';
import { createStationSession, type StationHandler, type StationSession } from './station.ts';

export const DEFAULT_PORT = 2404;

/** What the server logs through (pino's shape; the part depends on nothing but node). */
export interface Iec104Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface Iec104ServerOptions {
  readonly commonAddress: number;
  readonly handler: StationHandler;
  readonly link?: Partial<LinkConfig>;
  readonly selectTimeoutMs?: number;
  /** Addresses of the controlling stations allowed to connect; undefined or empty: any. */
  readonly allow?: readonly string[];
  readonly log?: Iec104Logger;
  /** The clock (default Date.now). */
  readonly now?: () => number;
}

export interface Iec104Server {
  /** Serve one connection on any duplex stream (a socket from `listen`, or a test's stream). */
  handle(stream: Duplex, remoteAddress?: string): void;
  listen(options?: { readonly port?: number; readonly host?: string }): Promise<AddressInfo>;
  /** Periodic or spontaneous data: to the started connection; false when none is. */
  publish(asdu: Uint8Array): boolean;
  /** Open connections, and whether one is started. */
  status(): { readonly connections: number; readonly started: boolean };
  close(): Promise<void>;
}

const silent: Iec104Logger = { info() {}, warn() {}, debug() {} };

/** An IPv4 address as a dual-stack socket reports it (::ffff:127.0.0.1) compares as 127.0.0.1. */
const plainAddress = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : a);

interface Connection {
  link: LinkState;
  carry: Uint8Array;
  timer: NodeJS.Timeout | undefined;
  readonly stream: Duplex;
  readonly remote: string;
  readonly session: StationSession;
}

export function createIec104Server(options: Readonly<Iec104ServerOptions>): Iec104Server {
  const config = resolveLinkConfig(options.link);
  if (!Number.isInteger(options.commonAddress) || options.commonAddress < 1 || options.commonAddress > 0xfffe) {
    throw new Iec104Error('INVALID_CONFIG', `the common address is an integer 1–65534 (65535 is the broadcast address), got ${options.commonAddress}`);
  }
  const now = options.now ?? Date.now;
  const log = options.log ?? silent;
  const allow = new Set((options.allow ?? []).map(plainAddress));
  const connections = new Set<Connection>();
  let active: Connection | undefined;
  let server: Server | undefined;
  let closing = false;

  const drop = (c: Connection, reason: string, err?: Iec104Error): void => {
    if (!connections.delete(c)) return;
    clearTimeout(c.timer);
    if (active === c) active = undefined;
    log.info({ remote: c.remote, reason, ...(err === undefined ? {} : { code: err.code }) }, 'IEC 104 connection closed');
    c.stream.destroy();
  };

  const apply = (c: Connection, event: LinkEvent): void => {
    if (!connections.has(c)) return;
    const r = step(c.link, event, now());
    c.link = r.state;
    for (const a of r.actions) act(c, a);
    schedule(c);
  };

  const act = (c: Connection, a: LinkAction): void => {
    switch (a.type) {
      case 'write':
        if (!c.stream.destroyed) c.stream.write(a.bytes);
        break;
      case 'deliver':
        try {
          c.session.receive(a.asdu, now());
        } catch (e) {
          // Only an ASDU shorter than its data unit identifier gets here: nothing to mirror.
          drop(c, (e as Error).message, e instanceof Iec104Error ? e : undefined);
        }
        break;
      case 'started':
        if (active !== undefined && active !== c) log.info({ remote: c.remote, previous: active.remote }, 'IEC 104 STARTDT: data now go to this controlling station');
        active = c;
        log.info({ remote: c.remote }, 'IEC 104 data transfer started');
        break;
      case 'stopped':
        if (active === c) active = undefined;
        log.info({ remote: c.remote }, 'IEC 104 data transfer stopped');
        break;
      case 'close':
        log.warn({ remote: c.remote, code: a.error.code, err: a.error.message }, 'IEC 104 link closes the connection');
        drop(c, a.error.message, a.error);
        break;
    }
  };

  const schedule = (c: Connection): void => {
    clearTimeout(c.timer);
    c.timer = undefined;
    const at = nextDeadline(c.link);
    if (at === undefined || !connections.has(c)) return;
    c.timer = setTimeout(() => apply(c, { type: 'tick' }), Math.max(0, at - now()));
    c.timer.unref();
  };

  const handle = (stream: Duplex, remoteAddress?: string): void => {
    const remote = plainAddress(remoteAddress ?? (stream as Socket).remoteAddress ?? 'stream');
    if (closing) {
      stream.destroy();
      return;
    }
    if (allow.size > 0 && !allow.has(remote)) {
      log.warn({ remote }, 'IEC 104 connection refused: the address is not in the allow-list (iec104.allow)');
      stream.destroy();
      return;
    }
    const c: Connection = {
      link: createLink(config, now()),
      carry: new Uint8Array(0),
      timer: undefined,
      stream,
      remote,
      session: createStationSession({ commonAddress: options.commonAddress, handler: options.handler, ...(options.selectTimeoutMs === undefined ? {} : { selectTimeoutMs: options.selectTimeoutMs }) }, (asdu) => apply(c, { type: 'send', asdu })),
    };
    connections.add(c);
    log.info({ remote }, 'IEC 104 connection');
    stream.on('data', (chunk: Buffer) => {
      try {
        const split = splitApdus(chunk, c.carry);
        c.carry = split.carry;
        for (const frame of split.frames) apply(c, { type: 'frame', apdu: parseApdu(frame) });
      } catch (e) {
        // Framing cannot be resynchronised: the connection closes (the peer reconnects).
        log.warn({ remote, err: (e as Error).message }, 'IEC 104 frame not understood; closing the connection');
        drop(c, (e as Error).message, e instanceof Iec104Error ? e : undefined);
      }
    });
    stream.on('error', (e) => log.debug({ remote, err: e.message }, 'IEC 104 socket error'));
    stream.on('close', () => drop(c, 'closed by the peer'));
    schedule(c);
  };

  return {
    handle,
    listen(o = {}) {
      return new Promise((resolve, reject) => {
        const s = createServer((socket) => {
          socket.setNoDelay(true);
          handle(socket);
        });
        s.once('error', reject);
        s.listen(o.port ?? DEFAULT_PORT, o.host ?? '127.0.0.1', () => {
          s.off('error', reject);
          server = s;
          resolve(s.address() as AddressInfo);
        });
      });
    },
    publish(asdu) {
      if (active === undefined) return false;
      apply(active, { type: 'send', asdu });
      return true;
    },
    status: () => ({ connections: connections.size, started: active !== undefined }),
    async close() {
      closing = true;
      for (const c of [...connections]) drop(c, 'the station stops');
      if (server !== undefined) await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    },
  };
}
