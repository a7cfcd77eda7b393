/**
 * A deliberately broken VTN at the TLS layer (R516): it asks for a client certificate but takes
 * any, expired ones included, and answers every OpenADR request with oadrCreatedPartyRegistration
 * 200; its own certificate may be an expired one. The suite's R516 cases must fail it.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { encodeOadr } from '../../oadr/index.ts';

export interface CarelessTlsVtn {
  readonly url: string;
  close(): Promise<void>;
}

export async function startCarelessTlsVtn(o: { readonly cert: string; readonly key: string; readonly ca: string }): Promise<CarelessTlsVtn> {
  const body = encodeOadr({ type: 'CreatedPartyRegistration', schemaVersion: '2.0b', response: { code: 200, requestId: '' }, vtnId: 'careless-vtn', profiles: [{ profileName: '2.0b', transports: ['simpleHttp'] }] });
  const server = createServer({ cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
