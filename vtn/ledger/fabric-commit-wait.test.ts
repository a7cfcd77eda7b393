/**
 * `--fabric-wait-for-commit`: with a profile naming a peer of the other organisation, a submission
 * resolves only once that peer reports the transaction's block (its gateway's qscc GetChainInfo), so
 * the next, dependent step is endorsed on a peer that has it. The second organisation's peer here is a
 * second Gateway service over the same ledger, behind a proxy that holds its answers.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startGatewayServer } from '../../ledger-bridge/index.ts';
import { startGatewayProxy } from '../../ledger-bridge/testing/gateway-proxy.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { connectionProfile, startFabricVtnRig } from '../testing/fabric-vtn.ts';
import { until } from '../../test/support/until.ts';
import { openFabricVtnLedger } from './fabric.ts';

test('wait for the commit on every organisation\'s peer: submit resolves once the Org2 peer of the profile has the block', async (t) => {
  const dir = tempDataDir('oadr-vtn-commit-wait-');
  const rig = await startFabricVtnRig(t, dir, Date.now);
  const org2Peer = await startGatewayServer({ ledger: rig.gateway.embedded.ledger, port: 0, plaintext: true });
  t.after(() => org2Peer.close());
  const proxy = await startGatewayProxy({ target: org2Peer.address });
  t.after(() => proxy.close());
  const profile = connectionProfile(rig.gateway.server.address, { pem: rig.gateway.tlsCaPem }, rig.gateway.embedded.ledger.channel) as {
    organizations: Record<string, unknown>;
    peers: Record<string, unknown>;
  };
  profile.organizations.Org2 = { mspid: 'Org2MSP', peers: ['peer0.org2.example.com'] };
  profile.peers['peer0.org2.example.com'] = { url: `grpc://${proxy.address}` };
  const file = join(dir, 'fabric', 'connection-two-orgs.json');
  writeFileSync(file, JSON.stringify(profile));
  const vl = await openFabricVtnLedger({ dataDir: join(dir, 'data'), profile: file, identity: rig.identity, retailers: rig.retailers, waitForCommit: true });
  t.after(() => vl.close());
  const { operator } = vl.identities;

  const release = proxy.holdEvaluate();
  let resolved = false;
  const submitted = vl.ledger.submit(operator, 'enableRetailer', ['utility:5555']).then((r) => ((resolved = true), r));
  // Committed on the gateway peer, and the Org2 peer has been asked for its height…
  await until('the transaction committed on the gateway peer', async () => (JSON.parse(await rig.gateway.embedded.ledger.evaluate(operator, 'queryRetailer', ['utility:5555'])) as { enabled?: boolean }).enabled === true);
  await until('the Org2 peer asked for its height', () => (proxy.calls.get('Evaluate') ?? 0) > 0);
  // …and while its answer is held, the submission has not resolved.
  assert.equal(resolved, false, 'submit waits for the Org2 peer');
  release();
  const r = await submitted;
  assert.ok(r.blockNumber < (await rig.gateway.embedded.ledger.height()));
});
