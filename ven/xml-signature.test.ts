/**
 * The VEN's XML signature hooks in its HTTP client (R514, rules digest 9.6–9.7), against a small
 * loopback server: requests go out signed; an unsigned, replayed or stale answer is refused with
 * SIGNATURE_REFUSED and never decoded into a payload the session would act on.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { issueServerCertificate } from '../certs/index.ts';
import { createNonceCache, encodeOadr, signOadr, verifyOadr, type Payload } from '../oadr/index.ts';
import { VenError } from './errors.ts';
import { createHttpTransport } from './http-transport.ts';
import { createVenSignature } from './xml-signature.ts';

const RESPONSE: Payload = { type: 'Response', schemaVersion: '2.0b', response: { code: 200, requestId: '' }, venId: 'ven-1' };
const POLL: Payload = { type: 'Poll', schemaVersion: '2.0b', venId: 'ven-1' };

test('R514 VEN client: requests are signed; unsigned, replayed and stale answers are refused (SIGNATURE_REFUSED)', async (t: TestContext) => {
  const vtnCred = await issueServerCertificate({ profile: 'ecc', commonName: 'vtn-test' });
  const venCred = await issueServerCertificate({ profile: 'ecc', commonName: 'ven-test' });
  const signedAnswer = (now = Date.now()): string => signOadr(encodeOadr(RESPONSE), { certificatePem: vtnCred.certificatePem, privateKey: vtnCred.privateKeyPem, now });
  const replayed = signedAnswer();
  const answers = [encodeOadr(RESPONSE), signedAnswer(), replayed, replayed, signedAnswer(Date.now() - 10 * 60_000)];
  const received: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      const body = Buffer.from(answers.shift() ?? '', 'utf8');
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(body.length) }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const signature = createVenSignature({ certificatePem: venCred.certificatePem, privateKeyPem: venCred.privateKeyPem });
  const transport = createHttpTransport({ vtnUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, xmlSignature: signature });
  t.after(() => transport.close());
  const refused = (reason: string) => (err: unknown) => err instanceof VenError && err.code === 'SIGNATURE_REFUSED' && err.message.includes(`(${reason})`);

  await t.assert.rejects(transport.request(POLL), refused('UNSIGNED'));
  t.assert.equal((await transport.request(POLL)).type, 'Response');
  t.assert.equal((await transport.request(POLL)).type, 'Response');
  await t.assert.rejects(transport.request(POLL), refused('REPLAYED_NONCE'));
  await t.assert.rejects(transport.request(POLL), refused('STALE_TIMESTAMP'));

  t.assert.equal(received.length, 5);
  for (const body of received) {
    const v = verifyOadr(body, { now: Date.now(), seenNonce: createNonceCache().seenNonce, expectedCertificate: venCred.certificatePem });
    t.assert.equal(v.ok, true, 'every request is signed with the VEN certificate');
  }
});
