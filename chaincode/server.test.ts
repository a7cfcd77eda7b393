import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { test } from 'node:test';
import { startChaincodeServer } from './server.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('the chaincode server listens on CHAINCODE_SERVER_ADDRESS for the peer to dial', async (t) => {
  const port = await freePort();
  const running = await startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: 'oadr-dr_1.0:0123abcd' });
  t.after(() => running.close());
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(); });
    socket.on('error', reject);
  });
});

test('a taken address is reported', async (t) => {
  const port = await freePort();
  const first = await startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: 'a:1' });
  t.after(() => first.close());
  await assert.rejects(startChaincodeServer({ address: `127.0.0.1:${port}`, ccid: 'a:1' }));
});
