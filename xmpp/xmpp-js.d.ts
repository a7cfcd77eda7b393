/**
 * The parts of xmpp.js (and of ltx, its XML tree, and saslmechanisms) that xmpp/ uses, typed: the
 * packages ship JavaScript only.
 */
declare module '@xmpp/xml' {
  export class Element {
    constructor(name: string, attrs?: Record<string, string | undefined>);
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    append(...children: (Element | string)[]): Element;
    toString(): string;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string | undefined | false | null)[]): Element;
  /** Escapes `&`, `<`, `>`, `"` and `'` for an attribute value. */
  export function escapeXML(s: string): string;
  export default xml;
}

declare module 'ltx/lib/parse.js' {
  import type { Element } from '@xmpp/xml';
  export default function parse(xml: string): Element;
}

declare module '@xmpp/events' {
  import { EventEmitter } from 'node:events';
  export { EventEmitter };
  export function promise<T = unknown>(emitter: NodeJS.EventEmitter | { on: Function }, event: string, rejectEvent?: string, timeout?: number): Promise<T>;
}

declare module '@xmpp/client-core' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from '@xmpp/xml';
  export interface XmppJid {
    local: string;
    domain: string;
    resource: string;
    bare(): XmppJid;
    toString(): string;
  }
  export class Client extends EventEmitter {
    constructor(options: { readonly service: string; readonly domain: string; readonly timeout?: number });
    options: { service: string; domain: string; lang?: string };
    jid: XmppJid | null;
    status: string;
    timeout: number;
    socket: ({ secure?: boolean; end(): void; destroy?(): void; socket?: import('node:net').Socket | null } & NodeJS.EventEmitter) | null;
    transports: unknown[];
    isSecure(): boolean;
    start(): Promise<XmppJid>;
    stop(): Promise<unknown>;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<void>;
    restart(): Promise<void>;
    disconnect(): Promise<unknown>;
    send(element: Element): Promise<void>;
    /** Writes XML text to the stream as it is (what `send` does after serialising). */
    write(text: string): Promise<void>;
    sendReceive(element: Element, timeout?: number): Promise<Element>;
    _attachSocket(socket: unknown): void;
    _jid(jid: string): void;
  }
  export function jid(local: string, domain?: string, resource?: string): XmppJid;
}

declare module '@xmpp/tcp' {
  export default function tcp(deps: { entity: unknown }): void;
}

declare module '@xmpp/tls/lib/Socket.js' {
  import type { EventEmitter } from 'node:events';
  export default class Socket extends EventEmitter {
    connect(options: import('node:tls').ConnectionOptions): void;
    socket: import('node:tls').TLSSocket | null;
    secure: boolean;
  }
}

declare module '@xmpp/middleware' {
  import type { Element } from '@xmpp/xml';
  import type { Client } from '@xmpp/client-core';
  export interface IncomingContext {
    readonly stanza: Element;
    readonly entity: Client;
    readonly name: string;
    readonly type: string;
    readonly id: string;
    /** The `from` attribute (the server's stamp for c2s stanzas), as a JID. */
    readonly from: { toString(): string } | null;
    element?: Element;
  }
  export type Next = () => Promise<unknown>;
  export type Middleware = (ctx: IncomingContext, next: Next) => unknown;
  export interface MiddlewareApi {
    use(fn: Middleware): Middleware;
  }
  export default function middleware(deps: { entity: Client }): MiddlewareApi;
}

declare module '@xmpp/stream-features' {
  import type { Element } from '@xmpp/xml';
  import type { IncomingContext, MiddlewareApi, Next } from '@xmpp/middleware';
  export interface StreamFeatures {
    use(name: string, xmlns: string, handler: (ctx: IncomingContext, next: Next, feature: Element) => unknown): void;
  }
  export default function streamFeatures(deps: { middleware: MiddlewareApi }): StreamFeatures;
}

declare module '@xmpp/iq/caller.js' {
  import type { Element } from '@xmpp/xml';
  export interface IqCaller {
    request(stanza: Element, timeoutMs?: number): Promise<Element>;
    set(element: Element, to?: string, timeoutMs?: number): Promise<Element | undefined>;
  }
  export default function iqCaller(deps: { middleware: unknown; entity: unknown }): IqCaller;
}

declare module '@xmpp/iq/callee.js' {
  import type { Element } from '@xmpp/xml';
  import type { IncomingContext, Next } from '@xmpp/middleware';
  export type IqHandler = (ctx: IncomingContext & { element: Element }, next: Next) => Element | object | undefined | Promise<Element | object | undefined>;
  export interface IqCallee {
    get(ns: string, name: string, handler: IqHandler): void;
    set(ns: string, name: string, handler: IqHandler): void;
  }
  export default function iqCallee(deps: { middleware: unknown; entity: unknown }): IqCallee;
}

declare module '@xmpp/sasl' {
  import type { StreamFeatures } from '@xmpp/stream-features';
  import type { SaslFactory } from 'saslmechanisms';
  import type { Client } from '@xmpp/client-core';
  export type Authenticate = (credentials: Record<string, string>, mechanism: string) => Promise<void>;
  export default function sasl(
    deps: { streamFeatures: StreamFeatures; saslFactory: SaslFactory },
    onAuthenticate: (authenticate: Authenticate, mechanisms: string[], fast: null, entity: Client) => Promise<void>,
  ): void;
}

declare module '@xmpp/sasl-scram-sha-1' {
  import type { SaslFactory } from 'saslmechanisms';
  export default function scramSha1(factory: SaslFactory): void;
}

declare module '@xmpp/resource-binding' {
  export default function resourceBinding(deps: { streamFeatures: unknown; iqCaller: unknown }, resource: string): void;
}

declare module 'saslmechanisms' {
  export interface SaslMechanism {
    readonly name: string;
    readonly clientFirst: boolean;
    response(credentials: Record<string, unknown>): string;
    challenge(challenge: string): unknown;
  }
  export interface SaslFactory {
    use(mechanism: new () => SaslMechanism): SaslFactory;
    create(names: readonly string[]): SaslMechanism | null;
  }
  const Factory: new () => SaslFactory;
  export default Factory;
}
