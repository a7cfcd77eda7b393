/**
 * `createXmppClient(options)`: one XMPP client connection (RFC 6120) built from xmpp.js's parts —
 * TCP, stream features, SASL, resource binding, IQ caller and callee — with ours where xmpp.js falls
 * short: STARTTLS with our TLS options (starttls.ts), SASL EXTERNAL (sasl-external.ts), no SASL in
 * clear text, XMPP Ping (XEP-0199) answered, and reconnection with back-off after the connection
 * drops. What travels over it (OpenADR payloads, discovery) is the caller's: `onIq`, `onPresence`,
 * `request`, `send`.
 */
import { Client, type XmppJid } from '@xmpp/client-core';
import tcp from '@xmpp/tcp';
import middlewareOf from '@xmpp/middleware';
import streamFeaturesOf from '@xmpp/stream-features';
import iqCallerOf from '@xmpp/iq/caller.js';
import iqCalleeOf from '@xmpp/iq/callee.js';
import sasl from '@xmpp/sasl';
import scramSha1 from '@xmpp/sasl-scram-sha-1';
import resourceBinding from '@xmpp/resource-binding';
import SaslFactory from 'saslmechanisms';
import { escapeXML, xml, type Element } from '@xmpp/xml';
import { XmppError, XmppStanzaError } from './errors.ts';
import { SASL_EXTERNAL, SaslExternal } from './sasl-external.ts';
import { useStartTls, type XmppTlsOptions } from './starttls.ts';

export const NS_PING = 'urn:xmpp:ping';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const SCRAM_SHA_1 = 'SCRAM-SHA-1';

export type XmppAuth = { readonly mechanism: typeof SASL_EXTERNAL } | { readonly mechanism: typeof SCRAM_SHA_1; readonly password: string };

/** pino-compatible subset. */
export interface XmppLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface XmppClientOptions {
  /** `xmpp://host[:port]` (port 5222 when absent). */
  readonly url: string;
  /** The account, a bare JID `local@domain`; the domain is the stream's `to`. */
  readonly jid: string;
  /** Resource to bind; absent: the server picks one. */
  readonly resource?: string | undefined;
  readonly tls: XmppTlsOptions;
  /** SASL EXTERNAL with `tls.cert` (production), or SCRAM-SHA-1 with a password (development). */
  readonly auth: XmppAuth;
  /** Wait before reconnection attempt number `failures` (1 = first), ms; default 1 s doubling to 30 s. */
  readonly reconnectDelayMs?: ((failures: number) => number) | undefined;
  /** Longest wait for each step of opening or closing a stream, ms; default 10,000. */
  readonly timeoutMs?: number | undefined;
  readonly log?: XmppLogger | undefined;
}

/** An IQ the client received; `from` is the sender's full JID as the server stamped it. */
export interface IqRequest {
  readonly from: string;
  readonly child: Element;
}

/**
 * What an IQ handler returns: the result's child — an element, or the XML text of one (e.g. an
 * oadrPayload document as the codec wrote it, XML declaration allowed), written as it is —, nothing
 * for an empty result. Throw `XmppStanzaError` for an IQ error.
 */
export type IqHandler = (request: IqRequest) => IqAnswer | Promise<IqAnswer>;
export type IqAnswer = Element | string | undefined;

export interface XmppClient {
  /** Connects, authenticates and binds; resolves with the full JID. Later drops are reconnected. */
  start(): Promise<string>;
  /** Sends unavailable presence, closes the stream; no reconnection. */
  stop(): Promise<void>;
  /** The full JID while bound. */
  jid(): string | undefined;
  online(): boolean;
  onIq(type: 'get' | 'set', ns: string, name: string, handler: IqHandler): void;
  /** Presence from another entity: `available` false for `unavailable`. */
  onPresence(handler: (from: string, available: boolean) => void): void;
  /** Called each time the session is online, the first time and after every reconnection. */
  onOnline(handler: (jid: string) => void): void;
  /**
   * IQ set (or get) to `to`; resolves with the result's child (undefined when empty), rejects with
   * `XmppStanzaError` on an IQ error. The child is an element or the XML text of one (e.g. an
   * oadrPayload document as the codec wrote it, XML declaration allowed), written as it is.
   */
  request(to: string, child: Element | string, options?: { readonly type?: 'get' | 'set'; readonly timeoutMs?: number }): Promise<Element | undefined>;
  send(stanza: Element): Promise<void>;
}

const XML_DECLARATION = /^\s*<\?xml[^?]*\?>/;
const SILENT: XmppLogger = { info() {}, warn() {}, debug() {} };
const defaultDelay = (failures: number): number => Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));

export function splitJid(jid: string): { local: string; domain: string; resource: string | undefined } {
  const slash = jid.indexOf('/');
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const at = bare.indexOf('@');
  return { local: at < 0 ? '' : bare.slice(0, at), domain: at < 0 ? bare : bare.slice(at + 1), resource: slash < 0 ? undefined : jid.slice(slash + 1) };
}

/** The bare JID (`local@domain`) of a JID, lower-cased in its local and domain parts as servers compare them. */
export function bareJid(jid: string): string {
  const { local, domain } = splitJid(jid);
  return `${local === '' ? '' : `${local.toLowerCase()}@`}${domain.toLowerCase()}`;
}

export function stanzaError(condition: string, text: string, type = 'modify'): Element {
  return xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }), xml('text', { xmlns: NS_STANZAS }, text));
}

export function createXmppClient(options: Readonly<XmppClientOptions>): XmppClient {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (err) {
    throw new XmppError('INVALID_OPTIONS', `XMPP URL '${options.url}' is not a URL; write xmpp://host:5222`, { cause: err });
  }
  if (url.protocol !== 'xmpp:') throw new XmppError('INVALID_OPTIONS', `XMPP URL '${options.url}' must start with xmpp:// (STARTTLS on the client port)`);
  const { local, domain } = splitJid(options.jid);
  if (local === '' || domain === '') throw new XmppError('INVALID_OPTIONS', `JID '${options.jid}' must be local@domain`);
  if (options.auth.mechanism === SASL_EXTERNAL && (options.tls.cert === undefined || options.tls.key === undefined)) {
    throw new XmppError('INVALID_OPTIONS', 'SASL EXTERNAL needs a client certificate and key (tls.cert, tls.key)');
  }
  const log = options.log ?? SILENT;
  const delay = options.reconnectDelayMs ?? defaultDelay;
  const entity = new Client({ service: `xmpp://${url.host}`, domain, timeout: options.timeoutMs ?? 10_000 });
  tcp({ entity });
  const middleware = middlewareOf({ entity });
  // The callers' IQ handlers (`onIq`) come before xmpp.js's IQ callee, which answers the rest
  // (ping; service-unavailable for an IQ nobody handles, bad-request for one without one child).
  const iqRoutes: { readonly type: string; readonly ns: string; readonly name: string; readonly handler: IqHandler }[] = [];
  middleware.use((ctx, next) => {
    if (ctx.name !== 'iq' || (ctx.type !== 'get' && ctx.type !== 'set')) return next();
    const children = ctx.stanza.getChildElements();
    const child = children[0];
    const route = children.length === 1 && child !== undefined ? iqRoutes.find((r) => r.type === ctx.type && child.is(r.name, r.ns)) : undefined;
    if (route === undefined || child === undefined) return next();
    return answerIq(ctx.stanza, child, route.handler);
  });
  const streamFeatures = streamFeaturesOf({ middleware });
  const iqCaller = iqCallerOf({ middleware, entity });
  const iqCallee = iqCalleeOf({ middleware, entity });

  // Stream features in the order of XEP-0170: TLS, SASL, resource binding.
  useStartTls(streamFeatures, entity, options.tls);
  const saslFactory = new SaslFactory();
  saslFactory.use(SaslExternal);
  scramSha1(saslFactory);
  const auth = options.auth;
  sasl({ streamFeatures, saslFactory }, async (authenticate, mechanisms) => {
    // No credentials in clear text, not even SCRAM's proof: the stream must be TLS by now.
    if (!entity.isSecure()) throw new XmppError('TLS_REQUIRED', `the XMPP server at ${options.url} offered no STARTTLS; enable TLS for client connections`);
    if (!mechanisms.includes(auth.mechanism)) {
      throw new XmppError('SASL_MECHANISM_UNAVAILABLE', `the XMPP server offers ${mechanisms.join(', ') || 'no mechanism we know'}, not ${auth.mechanism}; configure certificate authentication (EXTERNAL) or use a password (SCRAM-SHA-1)`);
    }
    await authenticate(auth.mechanism === SASL_EXTERNAL ? { authzid: `${local}@${domain}` } : { username: local, password: auth.password }, auth.mechanism);
  });
  resourceBinding({ streamFeatures, iqCaller }, options.resource ?? '');

  // Our own IQ caller for `request`: xmpp.js's rejects its promise before anyone awaits it when an
  // error answer comes back faster than the write callback (an unhandled rejection), and it does not
  // fail pending requests when the connection drops.
  const pending = new Map<string, { resolve: (e: Element) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  const settle = (id: string): { resolve: (e: Element) => void; reject: (err: Error) => void } | undefined => {
    const p = pending.get(id);
    if (p === undefined) return undefined;
    pending.delete(id);
    clearTimeout(p.timer);
    return p;
  };
  middleware.use((ctx, next) => {
    if (ctx.name !== 'iq' || (ctx.type !== 'result' && ctx.type !== 'error')) return next();
    const p = settle(ctx.id);
    if (p === undefined) return next();
    if (ctx.type === 'result') p.resolve(ctx.stanza);
    else {
      const condition = ctx.stanza.getChild('error')?.getChildElements().find((c) => c.getNS() === NS_STANZAS)?.name ?? 'undefined-condition';
      const text = ctx.stanza.getChild('error')?.getChildText('text', NS_STANZAS) ?? '';
      p.reject(new XmppStanzaError(condition, `${ctx.stanza.attrs['from'] ?? 'the server'} answered IQ error ${condition}${text === '' ? '' : `: ${text}`}`));
    }
    return undefined;
  });
  const failPending = (why: string): void => {
    for (const id of [...pending.keys()]) settle(id)?.reject(new XmppError('OFFLINE', why));
  };

  const presenceHandlers: ((from: string, available: boolean) => void)[] = [];
  const onlineHandlers: ((jid: string) => void)[] = [];
  middleware.use((ctx, next) => {
    if (ctx.name !== 'presence') return next();
    const from = ctx.stanza.attrs['from'];
    if (from !== undefined && (ctx.type === 'available' || ctx.type === 'unavailable')) for (const h of presenceHandlers) h(from, ctx.type === 'available');
    return undefined;
  });
  iqCallee.get(NS_PING, 'ping', () => ({}));

  // The stanzas written in one turn of the event loop go to the socket in one write (one TLS record
  // batch, one system call) instead of one each: a push fan-out writes thousands in a turn.
  let outgoing: { text: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  const flushOutgoing = (): void => {
    const batch = outgoing;
    outgoing = [];
    entity.write(batch.map((o) => o.text).join('')).then(
      () => batch.forEach((o) => o.resolve()),
      (err: unknown) => batch.forEach((o) => o.reject(err)),
    );
  };
  const write = (text: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (outgoing.push({ text, resolve, reject }) === 1) setImmediate(flushOutgoing);
    });

  /**
   * Runs an IQ handler and writes its result (or error) as text, with the other stanzas of this
   * turn: no element tree is built for an answer the handler already has as XML text, and a fan-out's
   * thousands of answers share socket writes. The error carries the request's child, as xmpp.js's does.
   */
  async function answerIq(stanza: Element, child: Element, handler: IqHandler): Promise<undefined> {
    const { from, to, id } = stanza.attrs as Record<string, string | undefined>;
    const attrs = `${from === undefined ? '' : ` to="${escapeXML(from)}"`}${to === undefined ? '' : ` from="${escapeXML(to)}"`} id="${escapeXML(id ?? '')}"`;
    let reply: string;
    try {
      const answer = await handler({ from: from ?? '', child });
      const body = answer === undefined ? '' : typeof answer === 'string' ? answer.replace(XML_DECLARATION, '') : answer.toString();
      reply = `<iq type="result"${attrs}>${body}</iq>`;
    } catch (err) {
      let error: Element;
      if (err instanceof XmppStanzaError) error = stanzaError(err.condition, err.message);
      else {
        entity.emit('error', err);
        error = xml('error', { type: 'cancel' }, xml('internal-server-error', { xmlns: NS_STANZAS }));
      }
      reply = `<iq type="error"${attrs}>${child.toString()}${error.toString()}</iq>`;
    }
    // A connection lost meanwhile: nobody to answer (the sender's request fails on its side).
    await write(reply).catch((err: unknown) => log.debug({ err, to: from }, 'an IQ answer could not be written: the XMPP connection dropped'));
    return undefined;
  }

  let stopping = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  // One reconnection attempt at a time: a drop seen during an attempt is that attempt's failure.
  let attempting = false;
  const jidString = (j: XmppJid | null): string | undefined => (j === null ? undefined : j.toString());

  entity.on('error', (err: unknown) => log.warn({ err, jid: options.jid }, 'XMPP connection error'));
  entity.on('online', (j: XmppJid) => {
    failures = 0;
    const full = j.toString();
    log.info({ jid: full }, 'XMPP session online');
    for (const h of onlineHandlers) h(full);
  });
  const schedule = (): void => {
    if (stopping || timer !== undefined || attempting) return;
    failures++;
    const ms = delay(failures);
    log.warn({ jid: options.jid, failures, delayMs: ms }, 'XMPP connection lost; reconnecting after back-off');
    timer = setTimeout(() => {
      timer = undefined;
      if (stopping || entity.status !== 'disconnect') return;
      attempting = true;
      entity
        .connect(entity.options.service)
        .then(() => entity.open({ domain }))
        .catch((err: unknown) => log.debug({ err }, 'XMPP reconnection attempt failed'))
        .finally(() => {
          attempting = false;
          if (entity.status !== 'online' && entity.status !== 'opening' && entity.status !== 'open') schedule();
        });
    }, ms);
    timer.unref();
  };
  entity.on('disconnect', () => {
    failPending('the XMPP connection dropped before the answer came');
    schedule();
  });

  return {
    async start() {
      stopping = false;
      try {
        const j = await entity.start();
        return j.toString();
      } catch (err) {
        if (err instanceof XmppError) throw err;
        // xmpp.js's own errors (a step's time-out, a socket error) may carry no message of their own.
        const why = err instanceof Error ? err.message || err.name : String(err);
        throw new XmppError('OFFLINE', `cannot open the XMPP session of ${options.jid} at ${options.url}: ${why}`, { cause: err });
      }
    },
    async stop() {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (entity.status === 'online') await entity.send(xml('presence', { type: 'unavailable' })).catch(() => {});
      if (entity.status !== 'offline') await entity.stop().catch((err: unknown) => log.debug({ err }, 'XMPP stream closed uncleanly'));
    },
    jid: () => (entity.status === 'online' ? jidString(entity.jid) : undefined),
    online: () => entity.status === 'online',
    onIq(type, ns, name, handler) {
      iqRoutes.push({ type, ns, name, handler });
    },
    onPresence: (h) => void presenceHandlers.push(h),
    onOnline: (h) => void onlineHandlers.push(h),
    async request(to, child, o = {}) {
      if (entity.status !== 'online') throw new XmppError('OFFLINE', `cannot send an IQ to ${to}: the XMPP session is ${entity.status}`);
      const id = `oadr-${(++nextId).toString(36)}`;
      const timeoutMs = o.timeoutMs ?? 30_000;
      const answer = new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => settle(id)?.reject(new XmppError('TIMEOUT', `no answer from ${to} within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        pending.set(id, { resolve, reject, timer });
      });
      answer.catch(() => undefined); // awaited below; an early rejection is not an unhandled one
      try {
        const body = typeof child === 'string' ? child.replace(XML_DECLARATION, '') : child.toString();
        await write(`<iq type="${o.type ?? 'set'}" to="${escapeXML(to)}" id="${id}">${body}</iq>`);
      } catch (err) {
        settle(id);
        throw new XmppError('OFFLINE', `cannot send an IQ to ${to}: the connection failed`, { cause: err });
      }
      return (await answer).getChildElements()[0];
    },
    async send(stanza) {
      if (entity.status !== 'online') throw new XmppError('OFFLINE', `cannot send: the XMPP session is ${entity.status}`);
      await entity.send(stanza);
    },
  };
}
