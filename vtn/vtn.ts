/**
 * `createVtn(options)`: the VTN assembled from its parts — configuration, store, protocol
 * services, transports (HTTP pull and push, XMPP) and the fastify server — with the public API the
 * admin REST API and the IEC 104 bridge call (`vtn.events`, `vtn.vens`, `vtn.customers`).
 */
import type { FastifyInstance } from 'fastify';
import { OadrProtocolError, ResponseCode, type Payload } from '../oadr/index.ts';
import { checkPushAddress, guardedLookup, normalizeTransportAddress } from './transports/push-target.ts';
import { resolveVtnConfig, type VtnConfig, type VtnConfigInput } from './cli/config.ts';
import { startCancelResend } from './services/cancel-resend.ts';
import { startPeriodic } from './services/periodic.ts';
import { defaultIds, type CrashPointName, type VtnContext } from './services/context.ts';
import { dispatch, errorAnswer, payloadVenId, type DispatchResult } from './services/dispatch.ts';
import { VtnError } from './errors.ts';
import { createEventsApi, type EventsApi } from './services/event-service.ts';
import { createHttpPushTransport, createPushSignature, type HttpPushTransport } from './transports/http-push.ts';
import { createOadrHttpServer, type HandleMeta, type ServerTimeouts } from './transports/http-server.ts';
import { createNonceCache } from '../oadr/index.ts';
import { createPushFetch, vtnHttpsOptions, type PushTlsOptions, type VtnTlsOptions } from './tls/tls.ts';
import { bindRegistration, checkCertificateBinding, SECURITY_EVENT } from './tls/binding.ts';
import { checkJidBinding } from './tls/jid-binding.ts';
import { createXmppSignature, createXmppTransport, type XmppTransport } from './transports/xmpp.ts';
import type { XmppClient } from '../xmpp/index.ts';
import { watchHandshakeFailures } from './tls/handshake-failures.ts';
import type { LedgerPort } from './ledger/port.ts';
import { createLedgerOutbox } from './ledger/outbox.ts';
import { LEDGER_LEASE } from './ledger/scheduler.ts';
import { componentLogger, LOG_COMPONENT, silentLogger, type Logger } from './operations/logger.ts';
import { materialize } from './services/poll.ts';
import { cancelRegistration, requestReregistration } from './services/registration.ts';
import { checkProfile, enrolVen20a } from './services/ven-20a.ts';
import { openVtnStore } from './store/open-store.ts';
import { createVtnMetrics, instrumentFetch, instrumentLedger, type VtnMetrics } from './operations/metrics.ts';
import { attachOperations } from './operations/operations.ts';
import { startLedgerProbe } from './operations/ledger-probe.ts';
import { createPrograms, type ProgramsApi } from './services/programs.ts';
import { createOptApi, type OptApi } from './services/opt-service.ts';
import { createReportsApi, startReportResend, type ReportsApi } from './services/report-service.ts';
import type { CustomerRecord, QueueItem, VenRegistration, VtnStore } from './store/store.ts';
import { createHttpPullTransport, transportKindOf, type TransportKind, type VenTransport } from './transports/ven-transport.ts';
import type { CustomersApi, ListenOptions, VensApi, VenView, Vtn } from './vtn-api.ts';

/** How often the VTN asks whether the ledger answers (`oadr_vtn_ledger_up`). */
export const LEDGER_PROBE_MS = 15_000;

export interface VtnOptions {
  /** Merged configuration (file < OADR_* env < flags, merged by the CLI); validated here once. */
  readonly config?: VtnConfigInput;
  /** Default: the store `config.store` names (node:sqlite in `config.dataDir`, or PostgreSQL). A store passed in is not closed by `close()`. */
  readonly store?: VtnStore;
  /** The PostgreSQL store's password (OADR_STORE_PASSWORD_FILE, read by the CLI), when not in the URL. */
  readonly storePassword?: string;
  readonly logger?: Logger;
  /** Clock in ms since the epoch (tests move it). */
  readonly now?: () => number;
  readonly newId?: (prefix: string) => string;
  readonly ledger?: LedgerPort;
  /** For push (tests inject failures). */
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** OADR_ADMIN_TOKEN, passed in by the CLI (nothing in vtn/ reads the environment). */
  readonly adminToken?: string;
  /** Receives the admin token generated at first start, to print it once (default: logged once). */
  readonly onAdminTokenGenerated?: (token: string) => void;
  /** Mutual TLS (R67, §9.2; tls/tls.ts). Absent: plain HTTP — `oadr-ledger vtn` only allows that with --insecure-http on loopback. */
  readonly tls?: VtnTlsOptions;
  /** The VTN's client certificate for pushes to VENs over https (§9.2.1.1). */
  readonly pushTls?: PushTlsOptions;
  /** Slow-client limits of the OpenADR server (defaults 30 s request, 10 s headers). */
  readonly timeouts?: ServerTimeouts;
  /** High security (R514): verify inbound XML signatures (the TLS peer must be the signer), sign answers and pushed payloads. */
  readonly xmlSignature?: { readonly certificatePem: string; readonly privateKeyPem: string; readonly windowMs?: number };
  /** Test hook called at named points of report ingestion and the ledger outbox (crash tests exit there). */
  readonly crashPoint?: (name: CrashPointName) => void;
  /** The VTN's XMPP connection (R38, R507; created by the CLI from `--xmpp-url`/`--xmpp-jid`): started by `listen()`, stopped by `close()`. */
  readonly xmpp?: XmppClient;
  /** How often the VTN asks whether the ledger answers (default LEDGER_PROBE_MS); `probeLedger()` asks at once. */
  readonly ledgerProbeMs?: number;
  /** XMPP pushes sent and not yet answered, at most (default 256; see createXmppTransport). */
  readonly xmppMaxPushesInFlight?: number;
}

export function createVtn(options: Readonly<VtnOptions> = {}): Vtn {
  const config = resolveVtnConfig(options.config ?? {});
  // One `component` key per line (componentLogger): every component's logger is a child of the root.
  const log = componentLogger(options.logger ?? silentLogger, 'vtn', { vtnId: config.vtnId });
  const ownStore = options.store === undefined;
  const store = options.store ?? openVtnStore(config, { password: options.storePassword });
  const now = options.now ?? Date.now;
  const lastContact = new Map<string, number>();
  const transports = new Map<TransportKind, VenTransport>();
  let closed = false;
  let draining = false;
  let closing: Promise<void> | undefined;

  const wake = (venId: string): void => {
    const reg = store.getRegistration(venId);
    if (reg === undefined) return;
    transports.get(transportKindOf(reg))?.wake(reg);
  };
  const metrics = createVtnMetrics();
  const ledger = options.ledger === undefined ? undefined : instrumentLedger(options.ledger, metrics);
  // What the VTN acknowledges and the ledger has not taken yet: in the store, drained to the ledger.
  // Opt answers of one customer for one event within optCoalesceMs reach the ledger once, the last one.
  // In a cluster the process holding the ledger lease drains it (and settles: ledger/scheduler.ts).
  // Each pass first completes the event creations accepted while the ledger was away (and owed cancellations).
  const cluster = store.cluster;
  const leased = cluster === undefined ? undefined : () => cluster.lease(LEDGER_LEASE);
  const ledgerWork =
    ledger === undefined
      ? undefined
      : createLedgerOutbox({ store, ledger, now, log, crashPoint: options.crashPoint, optCoalesceMs: config.optCoalesceMs, catchUp: () => eventsApi.catchUp(), ...(leased === undefined ? {} : { leased }) });
  const ctx: VtnContext = {
    config,
    programs: createPrograms(config, store, now),
    store,
    now,
    newId: options.newId ?? defaultIds,
    log: log.child({ component: LOG_COMPONENT.events }),
    ledger,
    wake,
    ledgerWork,
    crashPoint: options.crashPoint,
    xmppServed: options.xmpp !== undefined,
    availabilityChanged: (venId) => eventsApi.applyAvailability(venId),
  };
  const handle = (payload: Payload, meta?: HandleMeta): DispatchResult => {
    if (closed) throw new VtnError('CLOSED', 'the VTN is closed');
    const venId = payloadVenId(payload);
    const fingerprint = meta?.peerFingerprint;
    metrics.payload('in', payload.type);
    if (fingerprint !== undefined) {
      // R517, §10.5.1: the venID must be the one bound to the certificate that carried it.
      const refused = checkCertificateBinding(ctx, payload, fingerprint);
      if (refused !== undefined) {
        log.warn({ securityEvent: SECURITY_EVENT.venIdMismatch, venId, fingerprint, payload: payload.type, responseCode: refused.responseCode }, refused.message);
        const answer = errorAnswer(ctx, payload, refused.responseCode, refused.message);
        metrics.payload('out', answer.type);
        return { answer, error: refused };
      }
    }
    // Over XMPP the venID is bound to the sender's JID; over HTTP nobody registers for XMPP.
    const jidRefused = checkJidBinding(ctx, payload, meta?.senderJid);
    if (jidRefused !== undefined) {
      log.warn({ securityEvent: SECURITY_EVENT.venIdMismatch, venId, from: meta?.senderJid, payload: payload.type, responseCode: jidRefused.responseCode }, jidRefused.message);
      const answer = errorAnswer(ctx, payload, jidRefused.responseCode, jidRefused.message);
      metrics.payload('out', answer.type);
      return { answer, error: jidRefused };
    }
    const pushHostRefused = pushHostOutsideCertificate(payload, meta?.peerCertificatePem);
    if (pushHostRefused !== undefined) {
      log.warn({ securityEvent: SECURITY_EVENT.pushTargetRefused, venId, fingerprint, responseCode: pushHostRefused.responseCode }, pushHostRefused.message);
      const answer = errorAnswer(ctx, payload, pushHostRefused.responseCode, pushHostRefused.message);
      metrics.payload('out', answer.type);
      return { answer, error: pushHostRefused };
    }
    const profileRefused = checkProfile(ctx, payload, meta?.profile ?? '2.0b');
    if (profileRefused !== undefined) {
      log.warn({ venId, payload: payload.type, responseCode: profileRefused.responseCode }, profileRefused.message);
      const answer = errorAnswer(ctx, payload, profileRefused.responseCode, profileRefused.message);
      metrics.payload('out', answer.type);
      return { answer, error: profileRefused };
    }
    if (venId !== undefined) lastContact.set(venId, now());
    const result = dispatch(ctx, payload);
    if (fingerprint !== undefined && payload.type === 'CreatePartyRegistration') bindRegistration(ctx, result.answer, fingerprint);
    metrics.payload('out', result.answer.type);
    if (payload.type === 'Poll') metrics.poll(result.answer.type !== 'Response');
    return result;
  };

  /** push.requireCertificateHost: a push registration's host must be named by the VEN's certificate. */
  function pushHostOutsideCertificate(payload: Payload, certificatePem: string | undefined): OadrProtocolError | undefined {
    if (!config.push.requireCertificateHost || certificatePem === undefined || payload.type !== 'CreatePartyRegistration' || payload.httpPullModel !== false) return undefined;
    const address = normalizeTransportAddress(payload.transportAddress);
    const refused = address === undefined ? undefined : checkPushAddress(address, config.push, certificatePem);
    return refused === undefined ? undefined : new OadrProtocolError(refused.kind === 'invalid' ? ResponseCode.INVALID_DATA : ResponseCode.NOT_ALLOWED, refused.message);
  }

  // R514: one replay cache for everything signed that reaches the VTN (requests and push answers).
  const nonces = options.xmlSignature === undefined ? undefined : createNonceCache();
  // What push transports (HTTP push, XMPP) share: the payload a queue item stands for, and the VEN's answer to a push.
  const pushed = {
    materialize: (item: QueueItem): Payload => {
      const p = materialize(ctx, item);
      metrics.payload('out', p.type);
      return p;
    },
    onAnswer: (payload: Payload, venId: string): void => {
      // The VEN's answer to a push (e.g. oadrCanceledPartyRegistration) is handled like a request.
      const { error } = dispatch(ctx, payload);
      if (error !== undefined) log.warn({ venId, payload: payload.type, responseCode: error.responseCode }, error.message);
    },
  };
  const push: HttpPushTransport = createHttpPushTransport({
    store,
    config: config.push,
    log: log.child({ component: LOG_COMPONENT.push }),
    ...pushed,
    fetch: instrumentFetch(options.fetch ?? createPushFetch({ tls: options.pushTls, lookup: guardedLookup(config.push) }), metrics),
    ...(options.random === undefined ? {} : { random: options.random }),
    // Pushed payloads are signed with the same credential as the answers (R514).
    ...(options.xmlSignature === undefined || nonces === undefined ? {} : { signature: createPushSignature({ ...options.xmlSignature, nonces, now }) }),
    target: config.push,
  });
  transports.set('http-pull', createHttpPullTransport());
  transports.set('http-push', push);
  const xmpp: XmppTransport | undefined =
    options.xmpp === undefined
      ? undefined
      : createXmppTransport({
          client: options.xmpp,
          ...(options.xmppMaxPushesInFlight === undefined ? {} : { maxPushesInFlight: options.xmppMaxPushesInFlight }),
          store,
          config: config.push,
          log: log.child({ component: LOG_COMPONENT.xmpp }),
          bodyLimitBytes: config.bodyLimitBytes,
          handle,
          ...pushed,
          ...(options.random === undefined ? {} : { random: options.random }),
          // R514 over XMPP: the same credential and replay cache as over HTTP.
          ...(options.xmlSignature === undefined || nonces === undefined ? {} : { signature: createXmppSignature({ ...options.xmlSignature, nonces, now }) }),
        });
  if (xmpp !== undefined) transports.set('xmpp', xmpp);

  // A client that never finishes its handshake is cut off after tlsHandshakeTimeoutMs (Node's default is 120 s).
  const https = options.tls === undefined ? undefined : { ...vtnHttpsOptions(options.tls), handshakeTimeout: config.tlsHandshakeTimeoutMs };
  const app = createOadrHttpServer({
    pathPrefix: config.pathPrefix,
    bodyLimitBytes: config.bodyLimitBytes,
    log: log.child({ component: LOG_COMPONENT.http }),
    handle,
    now,
    ...(https === undefined ? {} : { https }),
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    ...(options.xmlSignature === undefined || nonces === undefined ? {} : { xmlSignature: { ...options.xmlSignature, nonces } }),
  });

  if (https !== undefined) watchHandshakeFailures(app.server, { log: componentLogger(options.logger ?? silentLogger, LOG_COMPONENT.tls, { vtnId: config.vtnId }), metrics });

  // R52: unacknowledged cancellations go to pull VENs again after a poll interval.
  const cancelResend = startCancelResend(ctx);
  // Report requests a VEN never answered go to it again.
  const reportResend = startReportResend(ctx);

  // Reconciliation (by the lease holder in a cluster), then what waited in the outbox before a restart goes to the ledger.
  if (ledgerWork !== undefined) {
    void Promise.resolve()
      .then(() => (leased?.() === false ? 0 : ledgerWork.reconcile()))
      .catch((err: unknown) => log.error({ err }, 'reconciling the VTN store with the ledger failed; the outbox is drained without it'))
      .then(() => ledgerWork.kick());
  }

  // The ledger's state for /readyz and /metrics (oadr_vtn_ledger_up), asked now and every
  // LEDGER_PROBE_MS; when it answers again the outbox goes at once (pending events, queued
  // telemetry) instead of at its backoff.
  const ping = ledger?.ping;
  const ledgerProbe =
    ledger === undefined || ping === undefined
      ? undefined
      : startLedgerProbe({ ping: () => ping.call(ledger), intervalMs: options.ledgerProbeMs ?? LEDGER_PROBE_MS, log: log.child({ component: 'vtn.ledger' }), onAnswersAgain: () => ledgerWork?.kick() });

  // Payloads queued for push VENs before a restart go out now.
  for (const venId of store.vensWithQueuedItems()) wake(venId);
  // In a cluster a wake reaches this process's push workers only, and a VEN's worker runs in one
  // process at a time: once per poll interval the lease holder wakes every VEN with queued
  // payloads, so one queued by a process while another was pushing to that VEN still goes.
  const pushSweep =
    store.cluster === undefined
      ? undefined
      : startPeriodic(ctx, {
          intervalMs: config.pollFrequencyMs,
          what: 'push sweep',
          pass: () => {
            const vens = store.vensWithQueuedItems();
            for (const venId of vens) wake(venId);
            return vens.length;
          },
        });

  // In a cluster the lease holder drains the outbox once per poll interval too: the work other
  // processes queued, and all of it in the process the lease moved to when its holder died.
  const ledgerSweep =
    ledgerWork === undefined || cluster === undefined
      ? undefined
      : startPeriodic(ctx, {
          intervalMs: config.pollFrequencyMs,
          what: LEDGER_LEASE,
          pass: () => {
            ledgerWork.kick();
            return 0;
          },
        });

  // Settlement counts what the VTN acknowledged: the outbox is drained first (a failing ledger then fails the settlement too).
  // The event's flexibility claims follow once it is settled (its day has closed); one not possible
  // now is logged and left to the ledger pass.
  const eventsApi = createEventsApi(ctx);
  const settle: EventsApi['settle'] = async (eventId) => {
    await ledgerWork?.drain();
    const settled = await eventsApi.settle(eventId);
    try {
      await ledger?.submitClaims?.(eventId);
    } catch (err) {
      log.warn({ err, eventId }, 'flexibility claims not submitted with the settlement; the ledger pass submits them later');
    }
    return settled;
  };
  const events: EventsApi = ledgerWork === undefined ? eventsApi : { ...eventsApi, settle };

  // Online: heard from within three poll intervals (a pull VEN polls once per interval).
  const venView = (r: VenRegistration): VenView => {
    const lastContactAt = lastContact.get(r.venId);
    const online = lastContactAt !== undefined && now() - lastContactAt <= 3 * config.pollFrequencyMs;
    return { ...r, queueDepth: store.queueDepth(r.venId), lastContactAt, transport: transportKindOf(r), online };
  };

  // Health, metrics, admin API and its docs (operations.ts); they read the facade `self` per request.
  let self: Vtn | undefined;
  const ops = attachOperations({
    app, config, store, ledger, ledgerProbe, metrics, now, newId: ctx.newId, log, open: () => !draining, vtn: () => self as Vtn,
    adminToken: options.adminToken, onAdminTokenGenerated: options.onAdminTokenGenerated,
    // The separate admin port is HTTPS with the VTN's certificates; clients authenticate with bearer tokens, not certificates.
    https: https === undefined ? undefined : { ...https, requestCert: false, rejectUnauthorized: false },
  });

  self = {
    config,
    store,
    app,
    reports: createReportsApi(ctx),
    opt: createOptApi(ctx),
    programs: ctx.programs,
    metrics,
    adminUrl: () => ops.url(),
    events,
    vens: {
      list: () => store.listRegistrations().map(venView),
      get: (venId) => {
        const r = store.getRegistration(venId);
        return r === undefined ? undefined : venView(r);
      },
      cancelRegistration: (venId) => cancelRegistration(ctx, venId),
      requestReregistration: (venId) => requestReregistration(ctx, venId),
      enrol20a: (input) => venView(enrolVen20a(ctx, input)),
    },
    customers: {
      enrol(input) {
        if (typeof input.customerId !== 'string' || input.customerId === '') throw new VtnError('INVALID_ARGUMENT', 'customerId must be a non-empty string');
        const byName = input.venName === undefined ? undefined : store.findCustomerByVenName(input.venName);
        if (byName !== undefined && byName.customerId !== input.customerId) {
          throw new VtnError('INVALID_ARGUMENT', `VEN name '${input.venName ?? ''}' already belongs to customer ${byName.customerId}; one VEN name links to one customer`);
        }
        if (input.venId !== undefined) {
          // A venID is never reused: not one another customer holds, nor one ever issued to another customer.
          const holder = store.findCustomerByVenId(input.venId)?.customerId ?? store.venIdOwner(input.venId);
          if (holder !== undefined && holder !== input.customerId) {
            throw new VtnError('INVALID_ARGUMENT', `venID '${input.venId}' cannot be used for customer ${input.customerId}; a venID is issued once: enrol without a venID (the VTN issues one) or choose another`);
          }
        }
        const c: CustomerRecord = {
          customerId: input.customerId,
          venName: input.venName,
          venId: input.venId,
          fingerprint: input.fingerprint,
          enrolledAt: store.getCustomer(input.customerId)?.enrolledAt ?? now(),
        };
        store.putCustomer(c);
        return c;
      },
      get: (id) => store.getCustomer(id),
      list: () => store.listCustomers(),
    },
    handle,
    resendCancellations: () => cancelResend.tick(),
    resendReportRequests: () => reportResend.tick(),
    probeLedger: async () => ledgerProbe?.probe(),
    ledgerOutbox: ledgerWork,
    async listen(o = {}) {
      const host = o.host ?? config.host;
      const port = o.port ?? config.port;
      await app.listen({ host, port });
      await ops.listen(host);
      if (xmpp !== undefined) log.info({ jid: await xmpp.start() }, 'XMPP connection online');
      const addr = app.server.address();
      const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return `${options.tls === undefined ? 'http' : 'https'}://${shownHost}:${actual}`;
    },
    close() {
      closing ??= (async () => {
        // Draining: /readyz fails while everything else still serves, so a load balancer stops
        // sending requests before the VTN stops answering them.
        draining = true;
        if (config.shutdownGraceMs > 0) {
          log.info({ shutdownGraceMs: config.shutdownGraceMs }, 'stopping: /readyz fails while the VTN drains');
          await new Promise((resolve) => setTimeout(resolve, config.shutdownGraceMs));
        }
        await stop();
      })();
      return closing;
    },
  };
  return self;

  /** Stops the timers, the ledger work, the transports and the servers, then the store. */
  async function stop(): Promise<void> {
    closed = true;
    cancelResend.stop();
    reportResend.stop();
    ledgerProbe?.stop();
    pushSweep?.stop();
    ledgerSweep?.stop();
    await ledgerWork?.stop();
    for (const t of transports.values()) await t.close();
    await ops.close();
    await app.close();
    if (ownStore) store.close();
  }
}
