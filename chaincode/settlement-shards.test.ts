/**
 * Settlement across settlement shards (`shards.ts`: runs of SHARD_SIZE customers in id order):
 * batches that span shard boundaries, shards settled in several batches, the event totals after
 * each batch; the operator's batch queries over the shards. 2,005 customers make three shards
 * (1,000, 1,000 and 5); their meters and baselines
 * are loaded straight into the world state, as the contract benchmark does, and every measured
 * step is a real transaction.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';
import { DrContract } from './dr-contract.ts';
import { EVENT_AVAILABILITY_EVALUATED, EVENT_DR_TOKENS_MINTED } from './events.ts';
import { createKeys, SHARD_SIZE } from './keys.ts';
import { computeReward } from './math/index.ts';
import { contractMetadata } from './metadata.ts';
import { addDaysUtc, at, createScenarioIdentities, EVENT_DAY, RETAILER_ID, S, type ScenarioIdentities } from './testing/reference-scenario.ts';
import { createTestLedger, type TestLedger } from './testing/index.ts';

const N = 2 * SHARD_SIZE + 5;
const EVENT = 'dr-shards';
const WINDOW = Array.from({ length: 48 }, (_, k) => 28 + k); // 07:00–19:00
const eve = addDaysUtc(EVENT_DAY, -1);
const after = addDaysUtc(EVENT_DAY, 1);
const keys = createKeys({ createCompositeKey: (type, attrs) => `\u0000${type}\u0000${attrs.map((a) => a + '\u0000').join('')}` });
const meterId = (i: number): string => `sm:${String(i).padStart(7, '0')}`;
/** Baseline of customer i, W per slot. */
const baselineOf = (i: number): number[] => Array.from({ length: S }, (_, s) => 200 + ((i * 37 + s * 11) % 300));
/** Measured on the event day: customers shed 0, 60 or 120 W in the window (i % 3), some more than they were asked. */
const measuredOf = (i: number): number[] => baselineOf(i).map((w, s) => (s >= 28 && s < 76 ? Math.max(0, w - (i % 3) * 60) : w));

let id: ScenarioIdentities;
before(async () => { id = await createScenarioIdentities(); });

function preload(ledger: TestLedger, entries: [string, unknown][], txId: string): void {
  const writes = entries.map(([key, value]) => ({ key, isDelete: false, value: Buffer.from(canonicalJson(value)) }));
  ledger.worldState.apply({ txId, timestamp: { seconds: 0, nanos: 0 }, writeSet: { writes, metadataWrites: [] } }, { blockNum: 0, txNum: 0 });
}

/** N customers with a baseline, one event over all of them, the event day measured: ready to settle. */
async function notified(): Promise<{ ledger: TestLedger; contract: DrContract }> {
  const ledger = createTestLedger({ contractMetadata: contractMetadata() });
  const contract = new DrContract();
  await ledger.invoke(contract, id.operator, 'enableRetailer', [RETAILER_ID], at(addDaysUtc(EVENT_DAY, -40)));
  const entries: [string, unknown][] = [];
  for (let i = 0; i < N; i++) {
    const m = meterId(i);
    entries.push([keys.meter(m), { meterId: m, retailerId: RETAILER_ID, enabled: true, enrolledTxId: 'preload' }]);
    entries.push([keys.baseline(EVENT_DAY, m), { meterId: m, day: EVENT_DAY, mode: 'high', X: 21, Y: 35, values: baselineOf(i), daysUsed: [], excludedDays: [], txId: 'preload' }]);
  }
  preload(ledger, entries, 'preload-customers');
  await ledger.invoke(contract, id.operator, 'notifyDRevent', [EVENT, EVENT_DAY, '07:00-19:00', String(N * 50), ''], at(eve, '18:05:00'));
  const energy: [string, unknown][] = [];
  for (let i = 0; i < N; i++) {
    energy.push([keys.energy(meterId(i), EVENT_DAY), { meterId: meterId(i), day: EVENT_DAY, values: measuredOf(i), complete: true, records: 1, correctedSlots: [], correctsTxId: null, retailerId: RETAILER_ID, txId: 'preload', timestampMs: 0 }]);
  }
  preload(ledger, energy, 'preload-energy');
  return { ledger, contract };
}

const json = (ledger: TestLedger, key: string) => JSON.parse(ledger.get(key)!.toString('utf8'));
const expectedTotal = (i: number): number => computeReward({ baseline: baselineOf(i), measured: measuredOf(i), window: WINDOW, tokenRateMilli: 1000 }).total;

test('batches across shard boundaries: each customer settled once, in its own shard, with its own reward; the event totals add up', async () => {
  const { ledger, contract } = await notified();
  const event0 = json(ledger, keys.event(EVENT));
  assert.equal(event0.customers, N);
  assert.deepEqual(event0.shardFirstIds, [meterId(0), meterId(SHARD_SIZE), meterId(2 * SHARD_SIZE)]);

  // A first batch reaching into every shard, its last customers at the shard edges.
  const first = [1, 3, SHARD_SIZE - 2, SHARD_SIZE - 1, SHARD_SIZE, SHARD_SIZE + 1, 2 * SHARD_SIZE - 1, 2 * SHARD_SIZE, N - 1];
  const a = JSON.parse((await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT, JSON.stringify(first.map(meterId))], at(after, '02:00:00'))).result);
  const firstMinted = first.reduce((s, i) => s + expectedTotal(i), 0);
  assert.deepEqual([a.settled, a.alreadySettled, a.mintedMilli], [first.length, 0, firstMinted]);
  assert.deepEqual(a.rewards, first.map((i) => ({ meterId: meterId(i), totalMilli: expectedTotal(i) })));
  const mid = json(ledger, keys.event(EVENT));
  assert.deepEqual([mid.settledCustomers, mid.mintedMilli, mid.status], [first.length, firstMinted, 'notified'], 'partly settled: not settled yet');
  assert.deepEqual(json(ledger, keys.reward(EVENT, 1)).meterIds, [SHARD_SIZE, SHARD_SIZE + 1, 2 * SHARD_SIZE - 1].map(meterId));
  assert.deepEqual(json(ledger, keys.reward(EVENT, 2)).meterIds, [2 * SHARD_SIZE, N - 1].map(meterId));

  // Then everyone, by the operator (no retailer check), in two batches split inside shard 1.
  const all = Array.from({ length: N }, (_, i) => i);
  const cut = SHARD_SIZE + 500;
  const b = JSON.parse((await ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, JSON.stringify(all.slice(0, cut).map(meterId))], at(after, '02:10:00'))).result);
  const c = JSON.parse((await ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, JSON.stringify(all.slice(cut).map(meterId))], at(after, '02:20:00'))).result);
  const inFirst = (i: number) => first.includes(i);
  assert.equal(b.settled + c.settled, N - first.length);
  assert.equal(b.alreadySettled + c.alreadySettled, first.length);
  const total = all.reduce((s, i) => s + expectedTotal(i), 0);
  assert.equal(a.mintedMilli + b.mintedMilli + c.mintedMilli, total);

  // Each shard's reward record: its customers in id order, each with its reward and settling transaction.
  for (let shard = 0; shard < 3; shard++) {
    const members = all.filter((i) => Math.floor(i / SHARD_SIZE) === shard);
    const r = json(ledger, keys.reward(EVENT, shard));
    assert.deepEqual(r.meterIds, members.map(meterId), `shard ${shard}: members`);
    assert.deepEqual(r.totalMilli, members.map(expectedTotal), `shard ${shard}: totals`);
    assert.deepEqual(r.slots, WINDOW);
    members.forEach((i, k) => {
      const perSlot = computeReward({ baseline: baselineOf(i), measured: measuredOf(i), window: WINDOW, tokenRateMilli: 1000 }).perSlot;
      assert.deepEqual(r.perSlotMilli.slice(k * WINDOW.length, (k + 1) * WINDOW.length), WINDOW.map((h) => perSlot[h]), `${meterId(i)}: per slot`);
    });
    const settledBy = new Set<string>(r.txIds.filter((_: string, k: number) => inFirst(members[k] as number)));
    const laterBy = new Set<string>(r.txIds.filter((_: string, k: number) => !inFirst(members[k] as number)));
    for (const tx of settledBy) assert.ok(!laterBy.has(tx), `shard ${shard}: the first batch's customers keep its transaction id`);
  }
  for (const i of [0, 1, SHARD_SIZE - 1, SHARD_SIZE, cut - 1, cut, N - 1]) {
    const account = json(ledger, keys.account(meterId(i)));
    assert.deepEqual([account.balanceMilli, account.mintedMilli, account.applied], [expectedTotal(i), expectedTotal(i), [EVENT]], meterId(i));
  }
  const done = json(ledger, keys.event(EVENT));
  assert.deepEqual([done.settledCustomers, done.mintedMilli, done.status], [N, total, 'settled']);
  assert.deepEqual(json(ledger, keys.supply()), { mintedMilli: total, redeemedMilli: 0 });

  // Settling again mints nothing and leaves the event as it is.
  const again = JSON.parse((await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT, JSON.stringify([0, SHARD_SIZE, N - 1].map(meterId))], at(after, '03:00:00'))).result);
  assert.deepEqual([again.settled, again.alreadySettled, again.mintedMilli], [0, 3, 0]);
  assert.deepEqual(json(ledger, keys.event(EVENT)), done);
});

test('a meter without an allocation in the event is NOT_FOUND, wherever it sorts among the shards', async () => {
  const { ledger, contract } = await notified();
  for (const stranger of ['sm:', meterId(SHARD_SIZE - 1) + 'x', 'sm:9999999']) {
    const batch = [meterId(0), stranger, meterId(N - 1)].sort();
    await assert.rejects(ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, JSON.stringify(batch)], at(after, '02:00:00')), (err: Error) => {
      assert.ok(err.message.startsWith(`NOT_FOUND: meter ${stranger} has no allocation in event ${EVENT}`), err.message);
      return true;
    });
  }
});

test("queryLoadReductions gives the operator each meter's queryLoadReduction over every shard, and names those it would refuse; queryMissingBaselines the meters without a baseline", async () => {
  const { ledger, contract } = await notified();
  const now = at(eve, '18:30:00');
  // A meter enrolled after the event (no baseline, no allocation) sorting inside shard 1, and one never enrolled.
  const late = meterId(SHARD_SIZE + 1) + 'x';
  await ledger.invoke(contract, id.retailer, 'enrolMeter', [late], now);
  const stranger = 'sm:9999999';
  const picked = [0, SHARD_SIZE - 1, SHARD_SIZE, SHARD_SIZE + 1, 2 * SHARD_SIZE - 1, 2 * SHARD_SIZE, N - 1].map(meterId);
  const asked = [stranger, ...picked, late];
  const r = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryLoadReductions', [EVENT, JSON.stringify(asked)], now)).result);
  assert.deepEqual([r.eventId, r.version, r.day, r.window, r.status], [EVENT, 0, EVENT_DAY, WINDOW, 'notified']);
  for (const m of picked) {
    const { day: _d, window: _w, status: _s, ...one } = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryLoadReduction', [EVENT, m], now)).result);
    assert.deepEqual(r.allocations.find((a: { meterId: string }) => a.meterId === m), one, `${m}: as queryLoadReduction gives it`);
  }
  assert.deepEqual(r.allocations.map((a: { meterId: string }) => a.meterId), picked, 'in id order');
  const refusal = async (m: string): Promise<string> => {
    const err = await ledger.evaluate(contract, id.operator, 'queryLoadReduction', [EVENT, m], now).then(() => undefined, (e: Error) => e);
    assert.ok(err !== undefined, `${m} is refused one by one`);
    return err.message;
  };
  assert.deepEqual(r.missing, [{ meterId: late, reason: await refusal(late) }, { meterId: stranger, reason: `NOT_FOUND: meter ${stranger} has no allocation in event ${EVENT} version 0 (it had no baseline for ${EVENT_DAY})` }]);
  assert.match(r.missing[0].reason, /^NOT_FOUND: .* has no allocation/);
  const all = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryLoadReductions', [EVENT, JSON.stringify(Array.from({ length: N }, (_, i) => meterId(i)))], now)).result);
  assert.deepEqual([all.allocations.length, all.missing.length], [N, 0]);

  const baselines = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryMissingBaselines', [EVENT_DAY, JSON.stringify([late, ...picked])], now)).result);
  assert.deepEqual(baselines, { day: EVENT_DAY, missing: [late] });
  assert.deepEqual(JSON.parse((await ledger.evaluate(contract, id.operator, 'queryMissingBaselines', [eve, JSON.stringify(picked)], now)).result).missing, picked, 'none for another day');
  assert.deepEqual(JSON.parse((await ledger.evaluate(contract, id.operator, 'queryMissingBaselines', [EVENT_DAY, JSON.stringify([stranger, picked[0]!])], now)).result).missing, [stranger], 'a meter the ledger does not know has none');
  for (const [fn, args] of [['queryLoadReductions', [EVENT, JSON.stringify(picked)]], ['queryMissingBaselines', [EVENT_DAY, JSON.stringify(picked)]]] as const) {
    for (const who of [id.retailer, id.customer1]) await assert.rejects(ledger.evaluate(contract, who, fn, [...args], now), /ACCESS_DENIED: .* reserved to the system operator/, `${fn}: the operator only (it names many customers)`);
  }
});

test('a retailer settles only its own enabled meters; the operator any (evaluateAvailability and getDRToken alike)', async () => {
  const { ledger, contract } = await notified();
  await ledger.invoke(contract, id.operator, 'disableMeter', [meterId(SHARD_SIZE + 7)], at(after, '01:00:00'));
  await ledger.invoke(contract, id.operator, 'enableRetailer', ['utility:9999'], at(after, '01:00:00'));
  for (const fn of ['evaluateAvailability', 'getDRToken']) {
    const before = ledger.snapshot();
    await assert.rejects(ledger.invoke(contract, id.retailer, fn, [EVENT, JSON.stringify([meterId(2), meterId(SHARD_SIZE + 7)])], at(after, '02:00:00')), (err: Error) => {
      assert.ok(err.message.startsWith(`ACCESS_DENIED: ${fn}: meter ${meterId(SHARD_SIZE + 7)} is disabled`), err.message);
      return true;
    });
    await assert.rejects(ledger.invoke(contract, id.otherRetailer, fn, [EVENT, JSON.stringify([meterId(2)])], at(after, '02:00:00')), (err: Error) => {
      assert.ok(err.message.startsWith(`ACCESS_DENIED: ${fn}: meter ${meterId(2)} belongs to another retailer`), err.message);
      return true;
    });
    assert.deepEqual(ledger.snapshot(), before, `${fn}: nothing written`);
  }
  // The operator may: availability first (once per customer), then the tokens.
  const batch = JSON.stringify([meterId(2), meterId(SHARD_SIZE + 7)]);
  const events = () => ledger.events.map((e) => [e.name, JSON.parse(e.payload.toString('utf8'))]);
  const seen = events().length;
  const first = await ledger.invoke(contract, id.operator, 'evaluateAvailability', [EVENT, batch], at(after, '02:00:00'));
  assert.deepEqual(JSON.parse(first.result), { eventId: EVENT, requested: 2, updated: 2, txId: first.txId });
  const again = await ledger.invoke(contract, id.operator, 'evaluateAvailability', [EVENT, batch], at(after, '02:01:00'));
  assert.deepEqual(JSON.parse(again.result), { eventId: EVENT, requested: 2, updated: 0, txId: again.txId });
  const r = await ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, batch], at(after, '02:02:00'));
  const minted = expectedTotal(2) + expectedTotal(SHARD_SIZE + 7);
  assert.equal(JSON.parse(r.result).settled, 2);
  assert.deepEqual(events().slice(seen), [
    [EVENT_AVAILABILITY_EVALUATED, { eventId: EVENT, requested: 2, updated: 2, txId: first.txId }],
    [EVENT_DR_TOKENS_MINTED, { eventId: EVENT, settled: 2, mintedMilli: minted, settledCustomers: 2, customers: N, txId: r.txId }],
  ], 'one event per transaction that changed something');
});

test('a shard partly settled over the window is not finished over the whole day: CONFLICT, nothing written', async () => {
  const { ledger, contract } = await notified();
  await ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, JSON.stringify([meterId(0)])], at(after, '02:00:00'));
  await ledger.invoke(contract, id.operator, 'setProgramParams', [JSON.stringify({ rewardScope: 'day' })], at(after, '02:05:00'));
  const before = ledger.snapshot();
  await assert.rejects(ledger.invoke(contract, id.operator, 'getDRToken', [EVENT, JSON.stringify([meterId(1)])], at(after, '02:10:00')), (err: Error) => {
    assert.ok(err.message.startsWith(`CONFLICT: event ${EVENT} was partly settled with other reward slots`), err.message);
    return true;
  });
  assert.deepEqual(ledger.snapshot(), before);
});
