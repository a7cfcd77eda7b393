/**
 * The mapping's durable working state, in `node:sqlite` beside the VTN's own store (not on the
 * ledger): the partial-slot accumulator (every telemetry sample once, and per meter-slot the
 * energy and time it covers, what was recorded on the ledger) and the events notified through the
 * mapping (day, window, each customer's OPR, settlement).
 *
 * Why not on the ledger: a sample every few seconds would be a transaction each, shared with every
 * org of the channel, for data that is only the VTN's raw material; the business fact is the slot
 * average, which `recordEnergy` certifies once the slot is complete or its day closed. A sample is
 * stored and added to its slots in one SQLite transaction (WAL, synchronous FULL), so a VTN restart
 * loses nothing and never counts a sample twice; a slot not yet marked recorded is recorded again
 * after a restart with the same value (the contract merges it: no correction).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTransaction } from '../../storage/index.ts';
import { affectedSpan, DEFAULT_POINT_GAP_MS, integratePoints, type PointKind, type SeriesPoint } from './points.ts';

export const MAPPING_STORE_FILE = 'ledger-mapping.sqlite';

export interface SampleInput {
  readonly meterId: string;
  /** Series the sample belongs to (the report's rID): a series repeats no start time. */
  readonly seriesId: string;
  readonly startMs: number;
  readonly durationMs: number;
  /** Average real power over the sample, W. */
  readonly watts: number;
}

/** One point of a point series (a reading without duration): instantaneous W or an energy register in Wh. */
export interface PointInput {
  readonly meterId: string;
  readonly seriesId: string;
  readonly t: number;
  readonly kind: PointKind;
  readonly value: number;
}

/** The share of a sample in one slot of the contract's grid. */
export interface SlotPart {
  readonly day: string;
  readonly slot: number;
  readonly slotStartMs: number;
  readonly slotEndMs: number;
  readonly overlapMs: number;
}

/**
 * `corrected`: the same interval (series, start, duration) again with another value — an OpenADR
 * correction (R346: an extra update replaces the earlier values); its slots are recorded again.
 * `conflict`: the same series and start with another duration: not the same interval, the first stays.
 */
export type SampleOutcome = 'added' | 'duplicate' | 'corrected' | 'conflict';

export interface SlotAccumulator {
  readonly meterId: string;
  readonly day: string;
  readonly slot: number;
  readonly slotStartMs: number;
  readonly slotEndMs: number;
  /** Σ W·ms of the samples in the slot. */
  readonly energyWms: number;
  /** Σ ms covered by samples. */
  readonly coveredMs: number;
  /** The W last recorded on the ledger, if any. */
  readonly recordedW: number | undefined;
  /** Recorded once complete: later samples no longer change it (a correction of one of its samples does). */
  readonly final: boolean;
  readonly closed: boolean;
}

/** An event notified through the mapping. */
/** What the contract recorded of an event's version: its window of slots and the request. */
export interface EventWindow {
  readonly eventId: string;
  /** Contract version = OpenADR modificationNumber of the event as the VTN creates it. */
  readonly version: number;
  readonly day: string;
  readonly window: readonly number[];
  readonly startMs: number;
  readonly slotMs: number;
  /** Time the event covers of each window slot; absent: every slot whole. */
  readonly coveredMs?: readonly number[];
  /** The reduction asked for while the event runs, W per window slot (the contract gets a partly covered slot's average). */
  readonly requestW: readonly number[];
  /** Customers in the contract's cluster: the targeted customers with a baseline for the day. */
  readonly clusterSize: number;
  /** The transaction that recorded this version. */
  readonly txId: string;
}

/** An event as the mapping keeps it (JSON in its store). */
export interface MappedEvent extends EventWindow {
  /** OPR per window slot of each customer (meter) that has an allocation. */
  readonly oprByMeter: Readonly<Record<string, readonly number[]>>;
  /** The window baseline, W per slot, the contract froze with each allocation (absent in a store from before it was kept). */
  readonly baselineByMeter?: Readonly<Record<string, readonly number[]>>;
  /** Targeted meters left out, with the reason (no baseline…). */
  readonly excluded: Readonly<Record<string, string>>;
  readonly status: 'notified' | 'cancelled' | 'settled';
  /** Milli-tokens per meter, once settled. */
  readonly rewardsMilli?: Readonly<Record<string, number>>;
  /** Every window slot's flexibility claim is on the ledger (claims.ts). */
  readonly claimsSubmitted?: boolean;
}

export interface MappingStore {
  /** Adds a sample and its slot parts in one transaction; a sample already present is not counted again. */
  addSample(sample: SampleInput, parts: readonly SlotPart[]): SampleOutcome;
  /**
   * Adds a point of a point series (the same instant again: `duplicate`, or with another value
   * `corrected`; another kind `conflict`) and re-integrates the slots between its neighbours
   * (points.ts), in one transaction. `slotsOf` gives the slot parts of a span on the contract's grid.
   */
  addPoint(point: PointInput, slotsOf: (fromMs: number, toMs: number) => SlotPart[]): SampleOutcome;
  /** Runs `fn` in one transaction: the adds it makes commit together (one fsync) or not at all. */
  batch<T>(fn: () => T): T;
  /**
   * Whether a reading is held: a sample (durationMs > 0) or a point (durationMs 0) of that meter,
   * series and start — with this value (W of a sample, the point's value) when `value` is given, so
   * a correction the accumulator lacks counts as not held.
   */
  holds(meterId: string, seriesId: string, startMs: number, durationMs: number, value?: number): boolean;
  /** Slots to record: changed and complete, or changed on a closed day and covered at least `minCoverage`; never `final` ones. */
  slotsToRecord(): SlotAccumulator[];
  /** Marks slots recorded by `txId`; `blockNumber`, the block that holds it, raises `recordedHeight()` in the same transaction. */
  markRecorded(meterId: string, day: string, slots: ReadonlyArray<{ readonly slot: number; readonly watts: number; readonly final: boolean }>, txId: string, blockNumber?: number): void;
  /** The highest ledger block a slot was recorded in (0: none): the ledger's height must be above it (start-up checks). */
  recordedHeight(): number;
  /** A committed write (readiness: a full disk or a read-only file still answers reads). */
  probeWrite(): void;
  /** Closes a day (for the given meters, or all): its partial slots become recordable. */
  closeDay(day: string, meterIds?: readonly string[]): void;
  /** Days with slots not closed yet. */
  openDays(): string[];
  slots(meterId: string, day: string): SlotAccumulator[];
  putEvent(e: MappedEvent): void;
  getEvent(eventId: string): MappedEvent | undefined;
  listEvents(): MappedEvent[];
  close(): void;
}

export interface MappingStoreOptions {
  /** SQLite file path, or `:memory:`. */
  readonly path: string;
  /** Longest gap between two points of a series that still covers the time between them. Default 5 min. */
  readonly pointGapMs?: number;
  /** Share of a slot its readings must cover for the slot to count as measured when its day closes. Default 0.8. */
  readonly minCoverage?: number;
}

/** Default share of a slot that must be covered for a partial slot to be recorded at day close. */
export const DEFAULT_MIN_COVERAGE = 0.8;

interface SlotRow {
  meter: string;
  day: string;
  slot: number;
  start_ms: number;
  end_ms: number;
  energy: number;
  covered: number;
  recorded_w: number | null;
  final: number;
  closed: number;
}

const toSlot = (r: SlotRow): SlotAccumulator => ({
  meterId: r.meter,
  day: r.day,
  slot: r.slot,
  slotStartMs: r.start_ms,
  slotEndMs: r.end_ms,
  energyWms: r.energy,
  coveredMs: r.covered,
  recordedW: r.recorded_w ?? undefined,
  final: r.final === 1,
  closed: r.closed === 1,
});

const EVENT_CACHE_SIZE = 32;

export function createMappingStore(options: Readonly<MappingStoreOptions>): MappingStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    CREATE TABLE IF NOT EXISTS samples (
      meter TEXT NOT NULL, series TEXT NOT NULL, start_ms INTEGER NOT NULL,
      duration_ms INTEGER NOT NULL, watts REAL NOT NULL,
      PRIMARY KEY (meter, series, start_ms)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS slots (
      meter TEXT NOT NULL, day TEXT NOT NULL, slot INTEGER NOT NULL,
      start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
      energy REAL NOT NULL DEFAULT 0, covered INTEGER NOT NULL DEFAULT 0,
      dirty INTEGER NOT NULL DEFAULT 0, recorded_w INTEGER, final INTEGER NOT NULL DEFAULT 0,
      closed INTEGER NOT NULL DEFAULT 0, tx TEXT,
      PRIMARY KEY (meter, day, slot)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS slots_dirty ON slots (dirty) WHERE dirty = 1;
    CREATE TABLE IF NOT EXISTS closed_days (meter TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (meter, day)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS points (
      meter TEXT NOT NULL, series TEXT NOT NULL, t_ms INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL,
      PRIMARY KEY (meter, series, t_ms)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS point_slots (
      meter TEXT NOT NULL, series TEXT NOT NULL, day TEXT NOT NULL, slot INTEGER NOT NULL,
      energy REAL NOT NULL, covered INTEGER NOT NULL,
      PRIMARY KEY (meter, series, day, slot)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  `);
  const gapMs = options.pointGapMs ?? DEFAULT_POINT_GAP_MS;
  const minCoverage = options.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const insertSample = db.prepare('INSERT OR IGNORE INTO samples (meter, series, start_ms, duration_ms, watts) VALUES (?, ?, ?, ?, ?)');
  const getSample = db.prepare('SELECT duration_ms, watts FROM samples WHERE meter = ? AND series = ? AND start_ms = ?');
  const correctSample = db.prepare('UPDATE samples SET watts = ? WHERE meter = ? AND series = ? AND start_ms = ?');
  const correctSlot = db.prepare('UPDATE slots SET energy = energy + ?, dirty = 1, final = 0 WHERE meter = ? AND day = ? AND slot = ?');
  const isClosed = db.prepare('SELECT 1 AS c FROM closed_days WHERE meter = ? AND day = ?');
  const upsertSlot = db.prepare(`
    INSERT INTO slots (meter, day, slot, start_ms, end_ms, energy, covered, dirty, closed) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (meter, day, slot) DO UPDATE SET energy = energy + excluded.energy, covered = covered + excluded.covered, dirty = 1`);
  const dirtySlots = db.prepare('SELECT * FROM slots WHERE dirty = 1 AND final = 0 AND (covered >= end_ms - start_ms OR (closed = 1 AND covered >= ? * (end_ms - start_ms))) ORDER BY meter, day, slot');
  const getPoint = db.prepare('SELECT kind, value FROM points WHERE meter = ? AND series = ? AND t_ms = ?');
  const putPoint = db.prepare('INSERT INTO points (meter, series, t_ms, kind, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (meter, series, t_ms) DO UPDATE SET value = excluded.value');
  const prevPoint = db.prepare('SELECT t_ms FROM points WHERE meter = ? AND series = ? AND t_ms < ? ORDER BY t_ms DESC LIMIT 1');
  const nextPoint = db.prepare('SELECT t_ms FROM points WHERE meter = ? AND series = ? AND t_ms > ? ORDER BY t_ms LIMIT 1');
  const pointsIn = db.prepare('SELECT t_ms AS t, value FROM points WHERE meter = ? AND series = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms');
  const getPointSlot = db.prepare('SELECT energy, covered FROM point_slots WHERE meter = ? AND series = ? AND day = ? AND slot = ?');
  const putPointSlot = db.prepare('INSERT INTO point_slots (meter, series, day, slot, energy, covered) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meter, series, day, slot) DO UPDATE SET energy = excluded.energy, covered = excluded.covered');
  const changeSlot = db.prepare(`
    INSERT INTO slots (meter, day, slot, start_ms, end_ms, energy, covered, dirty, closed) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (meter, day, slot) DO UPDATE SET energy = energy + excluded.energy, covered = covered + excluded.covered, dirty = 1, final = 0`);
  const markSlot = db.prepare('UPDATE slots SET dirty = 0, recorded_w = ?, final = ?, tx = ? WHERE meter = ? AND day = ? AND slot = ?');
  const closeAll = db.prepare('UPDATE slots SET closed = 1 WHERE day = ?');
  const closeMeter = db.prepare('UPDATE slots SET closed = 1 WHERE day = ? AND meter = ?');
  const insertClosed = db.prepare('INSERT OR IGNORE INTO closed_days (meter, day) VALUES (?, ?)');
  const metersOfDay = db.prepare('SELECT DISTINCT meter FROM slots WHERE day = ?');
  const openDays = db.prepare('SELECT DISTINCT day FROM slots WHERE closed = 0 ORDER BY day');
  const slotsOf = db.prepare('SELECT * FROM slots WHERE meter = ? AND day = ? ORDER BY slot');
  const putEvent = db.prepare('INSERT INTO events (event_id, json) VALUES (?, ?) ON CONFLICT (event_id) DO UPDATE SET json = excluded.json');
  const getEvent = db.prepare('SELECT json FROM events WHERE event_id = ?');
  const listEvents = db.prepare('SELECT json FROM events ORDER BY event_id');
  const raiseHeight = db.prepare("INSERT INTO meta (key, value) VALUES ('recordedHeight', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)");
  const recordedHeight = db.prepare("SELECT value FROM meta WHERE key = 'recordedHeight'");
  const putProbe = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('writeProbe', hex(randomblob(2048)))");
  const dropProbe = db.prepare("DELETE FROM meta WHERE key = 'writeProbe'");

  // The parsed events last used: an event's record holds every customer's OPR (10,000 customers ×
  // 48 slots parse in ~9 ms), and it is read for every opt answer and every scheduler pass. This
  // store is the events' only writer, so the cache never goes stale.
  const eventCache = new Map<string, MappedEvent>();
  const remember = (e: MappedEvent): MappedEvent => {
    eventCache.delete(e.eventId);
    if (eventCache.size >= EVENT_CACHE_SIZE) eventCache.delete(eventCache.keys().next().value as string);
    eventCache.set(e.eventId, e);
    return e;
  };

  const transaction = createTransaction(db);

  return {
    addSample(s, parts) {
      return transaction((): SampleOutcome => {
        const r = insertSample.run(s.meterId, s.seriesId, s.startMs, s.durationMs, s.watts);
        if (Number(r.changes) === 0) {
          const prev = getSample.get(s.meterId, s.seriesId, s.startMs) as { duration_ms: number; watts: number } | undefined;
          if (prev === undefined || prev.duration_ms !== s.durationMs) return 'conflict';
          if (prev.watts === s.watts) return 'duplicate';
          correctSample.run(s.watts, s.meterId, s.seriesId, s.startMs);
          for (const p of parts) correctSlot.run((s.watts - prev.watts) * p.overlapMs, s.meterId, p.day, p.slot);
          return 'corrected';
        }
        for (const p of parts) {
          const closed = isClosed.get(s.meterId, p.day) === undefined ? 0 : 1;
          upsertSlot.run(s.meterId, p.day, p.slot, p.slotStartMs, p.slotEndMs, s.watts * p.overlapMs, p.overlapMs, closed);
        }
        return 'added';
      });
    },
    addPoint(p, slotsOf) {
      return transaction((): SampleOutcome => {
        const prev = getPoint.get(p.meterId, p.seriesId, p.t) as { kind: string; value: number } | undefined;
        if (prev !== undefined) {
          if (prev.kind !== p.kind) return 'conflict';
          if (prev.value === p.value) return 'duplicate';
        }
        putPoint.run(p.meterId, p.seriesId, p.t, p.kind, p.value);
        const before = (prevPoint.get(p.meterId, p.seriesId, p.t) as { t_ms: number } | undefined)?.t_ms;
        const after = (nextPoint.get(p.meterId, p.seriesId, p.t) as { t_ms: number } | undefined)?.t_ms;
        const span = affectedSpan(p.t, before, after, gapMs);
        if (span.toMs > span.fromMs) {
          for (const part of slotsOf(span.fromMs, span.toMs)) {
            // The slot's share of this series, integrated again from its points (and one gap either side).
            const pts = pointsIn.all(p.meterId, p.seriesId, part.slotStartMs - gapMs, part.slotEndMs + gapMs) as unknown as SeriesPoint[];
            const c = integratePoints(pts, p.kind, part.slotStartMs, part.slotEndMs, gapMs);
            const old = getPointSlot.get(p.meterId, p.seriesId, part.day, part.slot) as { energy: number; covered: number } | undefined;
            const dE = c.energyWms - (old?.energy ?? 0);
            const dC = c.coveredMs - (old?.covered ?? 0);
            if (dE === 0 && dC === 0) continue;
            putPointSlot.run(p.meterId, p.seriesId, part.day, part.slot, c.energyWms, c.coveredMs);
            const closed = isClosed.get(p.meterId, part.day) === undefined ? 0 : 1;
            changeSlot.run(p.meterId, part.day, part.slot, part.slotStartMs, part.slotEndMs, dE, dC, closed);
          }
        }
        return prev === undefined ? 'added' : 'corrected';
      });
    },
    batch: (fn) => transaction(fn),
    holds(meterId, seriesId, startMs, durationMs, value) {
      if (durationMs === 0) {
        const p = getPoint.get(meterId, seriesId, startMs) as { value: number } | undefined;
        return p !== undefined && (value === undefined || p.value === value);
      }
      const s = getSample.get(meterId, seriesId, startMs) as { duration_ms: number; watts: number } | undefined;
      return s?.duration_ms === durationMs && (value === undefined || s.watts === value);
    },
    slotsToRecord: () => (dirtySlots.all(minCoverage) as unknown as SlotRow[]).map(toSlot),
    markRecorded(meterId, day, slots, txId, blockNumber) {
      transaction(() => {
        for (const s of slots) markSlot.run(s.watts, s.final ? 1 : 0, txId, meterId, day, s.slot);
        if (blockNumber !== undefined) raiseHeight.run(blockNumber);
      });
    },
    recordedHeight: () => Number((recordedHeight.get() as { value: number } | undefined)?.value ?? 0),
    probeWrite() {
      // A page's worth, committed (a full disk fails the WAL append at COMMIT), then removed.
      transaction(() => putProbe.run());
      dropProbe.run();
    },
    closeDay(day, meterIds) {
      transaction(() => {
        const meters = meterIds ?? (metersOfDay.all(day) as Array<{ meter: string }>).map((r) => r.meter);
        for (const m of meters) insertClosed.run(m, day);
        if (meterIds === undefined) closeAll.run(day);
        else for (const m of meterIds) closeMeter.run(day, m);
      });
    },
    openDays: () => (openDays.all() as Array<{ day: string }>).map((r) => r.day),
    slots: (meterId, day) => (slotsOf.all(meterId, day) as unknown as SlotRow[]).map(toSlot),
    putEvent(e) {
      putEvent.run(e.eventId, JSON.stringify(e));
      remember(e);
    },
    getEvent(eventId) {
      const cached = eventCache.get(eventId);
      if (cached !== undefined) return remember(cached);
      const r = getEvent.get(eventId) as { json: string } | undefined;
      return r === undefined ? undefined : remember(JSON.parse(r.json) as MappedEvent);
    },
    listEvents: () => (listEvents.all() as Array<{ json: string }>).map((r) => JSON.parse(r.json) as MappedEvent),
    close: () => db.close(),
  };
}
