/**
 * The XMPP client against a real Prosody: STARTTLS with our CA and client certificate, SASL
 * EXTERNAL with the certificate's CN as the account (and refused for another account or another
 * CA's certificate), SCRAM-SHA-1 for development, IQs both ways, XMPP Ping (XEP-0199), presence,
 * and reconnection after Prosody restarts.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { xml } from '@xmpp/xml';
import { createXmppClient, NS_PING, XmppError, XmppStanzaError, type XmppClient, type XmppClientOptions } from './index.ts';
import { startTcpProxy } from './testing/tcp-proxy.ts';
import { until } from '../test/support/until.ts';
import { createXmppTestPki, startProsody, type Prosody, type XmppTestPki } from './testing/prosody.ts';

const NS_TEST = 'urn:example:echo';

function client(t: TestContext, o: XmppClientOptions): XmppClient {
  const c = createXmppClient(o);
  t.after(() => c.stop());
  return c;
}

async function certificateClient(t: TestContext, prosody: Prosody, pki: XmppTestPki, local: string, certCn = local): Promise<XmppClient> {
  const cred = await pki.client(certCn);
  return client(t, { url: prosody.url, jid: `${local}@${prosody.domain}`, resource: 'r', tls: { ca: pki.caPem, cert: cred.certificatePem, key: cred.privateKeyPem }, auth: { mechanism: 'EXTERNAL' } });
}

test('SASL EXTERNAL: the certificate CN is the account; another account or another CA is refused', async (t) => {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'certificate', pki });
  t.after(() => prosody.stop());

  const ven = await certificateClient(t, prosody, pki, 'ven1');
  t.assert.equal(await ven.start(), 'ven1@localhost/r');

  // A certificate for ven2 cannot log in as ven1.
  const impostor = await certificateClient(t, prosody, pki, 'ven1', 'ven2');
  await t.assert.rejects(impostor.start(), /not-authorized/);

  // A certificate from a CA the server does not trust.
  const other = await createXmppTestPki();
  const stranger = await certificateClient(t, prosody, other, 'ven3');
  await t.assert.rejects(stranger.start());
  await stranger.stop();
  await impostor.stop();
});

test('the server certificate must chain to the configured CA', async (t) => {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'password', pki });
  t.after(() => prosody.stop());
  await prosody.register('dev', 'secret');
  const other = await createXmppTestPki();
  const c = client(t, { url: prosody.url, jid: 'dev@localhost', tls: { ca: other.caPem }, auth: { mechanism: 'SCRAM-SHA-1', password: 'secret' } });
  await t.assert.rejects(c.start(), /self-signed|unable to verify|certificate/i);
});

test('SCRAM: IQ set answered with a result or an IQ error, ping, presence both ways, and reconnection after a Prosody restart', async (t) => {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'password', pki });
  t.after(() => prosody.stop());
  await prosody.register('vtn', 'pw-vtn');
  await prosody.register('ven', 'pw-ven');
  const tls = { ca: pki.caPem };
  const fast = (): number => 50;
  const a = client(t, { url: prosody.url, jid: 'vtn@localhost', resource: 'vtn', tls, auth: { mechanism: 'SCRAM-SHA-1', password: 'pw-vtn' }, reconnectDelayMs: fast });
  const b = client(t, { url: prosody.url, jid: 'ven@localhost', resource: 'ven', tls, auth: { mechanism: 'SCRAM-SHA-1', password: 'pw-ven' }, reconnectDelayMs: fast });
  const seen: string[] = [];
  a.onIq('set', NS_TEST, 'echo', ({ from, child }) => {
    seen.push(from);
    if (child.text() === 'fail') throw new XmppStanzaError('bad-request', 'told to fail');
    if (child.text() === 'crash') throw new Error('a bug in the handler');
    // An answer as XML text (as the codec writes a document) is the result's child as it is.
    if (child.text().startsWith('text ')) return `<?xml version="1.0" encoding="UTF-8"?>\n<echo xmlns="${NS_TEST}">${child.text().slice(5).toUpperCase()}</echo>`;
    return child.text() === '' ? undefined : xml('echo', { xmlns: NS_TEST }, child.text().toUpperCase());
  });
  const presence: string[] = [];
  a.onPresence((from, available) => presence.push(`${from} ${available ? 'available' : 'unavailable'}`));
  const aJid = await a.start();
  await b.start();

  t.assert.equal((await b.request(aJid, xml('echo', { xmlns: NS_TEST }, 'hi')))?.text(), 'HI');
  t.assert.equal(await b.request(aJid, xml('echo', { xmlns: NS_TEST })), undefined);
  await t.assert.rejects(b.request(aJid, xml('echo', { xmlns: NS_TEST }, 'fail')), (err: unknown) => err instanceof XmppStanzaError && err.condition === 'bad-request');
  await t.assert.rejects(b.request(aJid, xml('nothing', { xmlns: NS_TEST })), (err: unknown) => err instanceof XmppStanzaError && err.condition === 'service-unavailable');
  await t.assert.rejects(b.request(aJid, xml('echo', { xmlns: NS_TEST }, 'crash')), (err: unknown) => err instanceof XmppStanzaError && err.condition === 'internal-server-error');
  t.assert.deepEqual(seen, ['ven@localhost/ven', 'ven@localhost/ven', 'ven@localhost/ven', 'ven@localhost/ven']);
  // Answers given as text, several in one turn (one socket write): each to its own request.
  const answers = await Promise.all(['text x', 'text y'].map((w) => b.request(aJid, xml('echo', { xmlns: NS_TEST }, w))));
  t.assert.deepEqual(
    answers.map((e) => [e?.name, e?.getNS(), e?.text()]),
    [['echo', NS_TEST, 'X'], ['echo', NS_TEST, 'Y']],
  );
  // A child given as XML text (a document as the codec writes it, declaration included) goes as it
  // is; the requests of one turn share a socket write and each gets its own answer.
  const texts = await Promise.all(['one', 'two', 'three'].map((w) => b.request(aJid, `<?xml version="1.0" encoding="UTF-8"?>\n<echo xmlns="${NS_TEST}">${w}</echo>`, { timeoutMs: 10_000 })));
  t.assert.deepEqual(
    texts.map((e) => e?.text()),
    ['ONE', 'TWO', 'THREE'],
  );
  // XEP-0199: both sides answer a ping with an empty result.
  t.assert.equal(await b.request(aJid, xml('ping', { xmlns: NS_PING }), { type: 'get' }), undefined);
  t.assert.equal(await a.request('ven@localhost/ven', xml('ping', { xmlns: NS_PING }), { type: 'get' }), undefined);

  // Directed presence reaches the other side; so does unavailable on stop.
  await b.send(xml('presence', { to: aJid }));
  await until('the presence', () => presence.includes('ven@localhost/ven available'));

  const online: string[] = [];
  b.onOnline((j) => online.push(j));
  const t0 = performance.now();
  await prosody.restart();
  t.diagnostic(`restart ${Math.round(performance.now() - t0)} ms`);
  await until('both online again', () => a.online() && b.online() && online.length === 1, 20_000);
  t.assert.equal((await b.request(aJid, xml('echo', { xmlns: NS_TEST }, 'again')))?.text(), 'AGAIN');

  await b.send(xml('presence', { to: aJid }));
  await b.stop();
  await until('the unavailable presence', () => presence.at(-1) === 'ven@localhost/ven unavailable');
});

test('a request waiting for its answer fails at once (OFFLINE) when the connection drops, not at its timeout', async (t) => {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'password', pki });
  t.after(() => prosody.stop());
  await prosody.register('slow', 'pw');
  await prosody.register('asker', 'pw');
  const proxy = await startTcpProxy(prosody.port);
  t.after(() => proxy.close());
  const slow = client(t, { url: prosody.url, jid: 'slow@localhost', resource: 'r', tls: { ca: pki.caPem }, auth: { mechanism: 'SCRAM-SHA-1', password: 'pw' } });
  slow.onIq('set', NS_TEST, 'echo', () => new Promise<undefined>(() => {})); // never answers
  const asker = client(t, { url: proxy.url, jid: 'asker@localhost', resource: 'r', tls: { ca: pki.caPem }, auth: { mechanism: 'SCRAM-SHA-1', password: 'pw' }, reconnectDelayMs: () => 60_000 });
  const to = await slow.start();
  await asker.start();
  const pending = asker.request(to, xml('echo', { xmlns: NS_TEST }, 'wait'), { timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 100));
  proxy.dropAll();
  await t.assert.rejects(pending, (err: unknown) => err instanceof XmppError && err.code === 'OFFLINE');
});

test('a server that accepts the connection and never answers: start() fails after the time-out with an XmppError naming the account and the server', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const c = client(t, { url: `xmpp://127.0.0.1:${port}`, jid: 'ven1@localhost', tls: {}, auth: { mechanism: 'SCRAM-SHA-1', password: 'x' }, timeoutMs: 300 });
  const err = await c.start().then(() => undefined, (e: unknown) => e);
  if (!(err instanceof XmppError)) throw new Error(`an XmppError expected, got ${String(err)}`);
  t.assert.equal(err.code, 'OFFLINE');
  t.assert.match(err.message, new RegExp(`ven1@localhost at xmpp://127\\.0\\.0\\.1:${port}: \\S`));
});
