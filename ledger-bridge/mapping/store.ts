/**
 * The mapping's durable working state, in `node:sqlite` beside the VTN's own store, or in PostgreSQL
 * beside a cluster's VTN store (pg-store.ts; the same logic, `mappingStoreOver`), not on the
 * ledger: the partial-slot accumulator (every telemetry sample once, and per meter-slot the energy
 * and time it covers, what was recorded on the ledger) and the events notified through the mapping
 * (day, window, each customer's OPR, settlement).
 *
 * Why not on the ledger: a sample every few seconds would be a transaction each, shared with every
 * org of the channel, for data that is only the VTN's raw material; the business fact is the slot
 * average, which `recordEnergy` certifies once the slot is complete or its day closed. A sample is
 * stored and added to its slots in one transaction (SQLite: WAL, synchronous FULL), so a VTN restart
 * loses nothing and never counts a sample twice; a slot not yet marked recorded is recorded again
 * after a restart with the same value (the contract merges it: no correction).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { createTransaction, preparedStatements } from '../../storage/index.ts';
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
  /** Every window slot's flexibility claim is on the ledger (claims.ts); of a cancelled event, every delivered one's. */
  readonly claimsSubmitted?: boolean;
  /** A cancelled event: when its VENs were told; the metering periods that ended by then are claimed. */
  readonly deliveredUntilMs?: number;
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

type Row = Record<string, unknown>;

/**
 * What the mapping store's logic needs of a database: statements with `?` parameters, a
 * transaction, the few statements the dialects write differently. node:sqlite (this file) and
 * PostgreSQL (pg-store.ts) provide it; the logic is one.
 */
export interface MappingSql {
  get(sql: string, ...params: unknown[]): Row | undefined;
  all(sql: string, ...params: unknown[]): Row[];
  /** Rows changed. */
  run(sql: string, ...params: unknown[]): number;
  transaction<T>(fn: () => T): T;
  /** A table's name in this database. */
  table(name: string): string;
  /** Raises `recordedHeight` to the parameter, never lowers it. */
  readonly raiseHeight: string;
  /** A committed write of some size (readiness), and its removal. */
  readonly putProbe: string;
  /**
   * Other processes write the events too (a shared database): the event's revision and its JSON
   * when the revision differs from the parameter (`event_id`, `rev`); put returns the new `rev`.
   * Absent: this store is the events' only writer and its cache never goes stale.
   */
  readonly sharedEvents?: { readonly read: string; readonly put: string };
  close(): void;
}

/** The mapping store's logic over a database face (SQLite or PostgreSQL). */
export function mappingStoreOver(sql: MappingSql, options: { readonly pointGapMs?: number; readonly minCoverage?: number } = {}): MappingStore {
  const gapMs = options.pointGapMs ?? DEFAULT_POINT_GAP_MS;
  const minCoverage = options.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const t = (name: string): string => sql.table(name);
  const q = {
    insertSample: `INSERT INTO ${t('samples')} (meter, series, start_ms, duration_ms, watts) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    getSample: `SELECT duration_ms, watts FROM ${t('samples')} WHERE meter = ? AND series = ? AND start_ms = ?`,
    correctSample: `UPDATE ${t('samples')} SET watts = ? WHERE meter = ? AND series = ? AND start_ms = ?`,
    correctSlot: `UPDATE ${t('slots')} SET energy = energy + ?, dirty = 1, final = 0 WHERE meter = ? AND day = ? AND slot = ?`,
    isClosed: `SELECT 1 AS c FROM ${t('closed_days')} WHERE meter = ? AND day = ?`,
    upsertSlot: `
    INSERT INTO ${t('slots')} (meter, day, slot, start_ms, end_ms, energy, covered, dirty, closed) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (meter, day, slot) DO UPDATE SET energy = ${t('slots')}.energy + excluded.energy, covered = ${t('slots')}.covered + excluded.covered, dirty = 1`,
    dirtySlots: `SELECT * FROM ${t('slots')} WHERE dirty = 1 AND final = 0 AND (covered >= end_ms - start_ms OR (closed = 1 AND covered >= CAST(? AS double precision) * (end_ms - start_ms))) ORDER BY meter, day, slot`,
    getPoint: `SELECT kind, value FROM ${t('points')} WHERE meter = ? AND series = ? AND t_ms = ?`,
    putPoint: `INSERT INTO ${t('points')} (meter, series, t_ms, kind, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (meter, series, t_ms) DO UPDATE SET value = excluded.value`,
    prevPoint: `SELECT t_ms FROM ${t('points')} WHERE meter = ? AND series = ? AND t_ms < ? ORDER BY t_ms DESC LIMIT 1`,
    nextPoint: `SELECT t_ms FROM ${t('points')} WHERE meter = ? AND series = ? AND t_ms > ? ORDER BY t_ms LIMIT 1`,
    pointsIn: `SELECT t_ms AS t, value FROM ${t('points')} WHERE meter = ? AND series = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms`,
    getPointSlot: `SELECT energy, covered FROM ${t('point_slots')} WHERE meter = ? AND series = ? AND day = ? AND slot = ?`,
    putPointSlot: `INSERT INTO ${t('point_slots')} (meter, series, day, slot, energy, covered) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meter, series, day, slot) DO UPDATE SET energy = excluded.energy, covered = excluded.covered`,
    changeSlot: `
    INSERT INTO ${t('slots')} (meter, day, slot, start_ms, end_ms, energy, covered, dirty, closed) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (meter, day, slot) DO UPDATE SET energy = ${t('slots')}.energy + excluded.energy, covered = ${t('slots')}.covered + excluded.covered, dirty = 1, final = 0`,
    markSlot: `UPDATE ${t('slots')} SET dirty = 0, recorded_w = ?, final = ?, tx = ? WHERE meter = ? AND day = ? AND slot = ?`,
    closeAll: `UPDATE ${t('slots')} SET closed = 1 WHERE day = ?`,
    closeMeter: `UPDATE ${t('slots')} SET closed = 1 WHERE day = ? AND meter = ?`,
    insertClosed: `INSERT INTO ${t('closed_days')} (meter, day) VALUES (?, ?) ON CONFLICT DO NOTHING`,
    metersOfDay: `SELECT DISTINCT meter FROM ${t('slots')} WHERE day = ?`,
    openDays: `SELECT DISTINCT day FROM ${t('slots')} WHERE closed = 0 ORDER BY day`,
    slotsOf: `SELECT * FROM ${t('slots')} WHERE meter = ? AND day = ? ORDER BY slot`,
    putEvent: `INSERT INTO ${t('events')} (event_id, json) VALUES (?, ?) ON CONFLICT (event_id) DO UPDATE SET json = excluded.json`,
    getEvent: `SELECT json FROM ${t('events')} WHERE event_id = ?`,
    listEvents: `SELECT json FROM ${t('events')} ORDER BY event_id`,
    recordedHeight: `SELECT value FROM ${t('meta')} WHERE key = 'recordedHeight'`,
    dropProbe: `DELETE FROM ${t('meta')} WHERE key = 'writeProbe'`,
  };

  // The parsed events last used: an event's record holds every customer's OPR (10,000 customers ×
  // 48 slots parse in ~9 ms), and it is read for every opt answer and every scheduler pass. With
  // this store the events' only writer the cache never goes stale; on a shared database each read
  // asks for the event's revision and parses it again only when another process changed it.
  const eventCache = new Map<string, { readonly rev: string; readonly event: MappedEvent }>();
  const remember = (e: MappedEvent, rev = ''): MappedEvent => {
    eventCache.delete(e.eventId);
    if (eventCache.size >= EVENT_CACHE_SIZE) eventCache.delete(eventCache.keys().next().value as string);
    eventCache.set(e.eventId, { rev, event: e });
    return e;
  };
  const shared = sql.sharedEvents;
  const { transaction } = sql;

  return {
    addSample(s, parts) {
      return transaction((): SampleOutcome => {
        if (sql.run(q.insertSample, s.meterId, s.seriesId, s.startMs, s.durationMs, s.watts) === 0) {
          const prev = sql.get(q.getSample, s.meterId, s.seriesId, s.startMs) as { duration_ms: number; watts: number } | undefined;
          if (prev === undefined || prev.duration_ms !== s.durationMs) return 'conflict';
          if (prev.watts === s.watts) return 'duplicate';
          sql.run(q.correctSample, s.watts, s.meterId, s.seriesId, s.startMs);
          for (const p of parts) sql.run(q.correctSlot, (s.watts - prev.watts) * p.overlapMs, s.meterId, p.day, p.slot);
          return 'corrected';
        }
        for (const p of parts) {
          const closed = sql.get(q.isClosed, s.meterId, p.day) === undefined ? 0 : 1;
          sql.run(q.upsertSlot, s.meterId, p.day, p.slot, p.slotStartMs, p.slotEndMs, s.watts * p.overlapMs, p.overlapMs, closed);
        }
        return 'added';
      });
    },
    addPoint(p, slotsOf) {
      return transaction((): SampleOutcome => {
        const prev = sql.get(q.getPoint, p.meterId, p.seriesId, p.t) as { kind: string; value: number } | undefined;
        if (prev !== undefined) {
          if (prev.kind !== p.kind) return 'conflict';
          if (prev.value === p.value) return 'duplicate';
        }
        sql.run(q.putPoint, p.meterId, p.seriesId, p.t, p.kind, p.value);
        const before = (sql.get(q.prevPoint, p.meterId, p.seriesId, p.t) as { t_ms: number } | undefined)?.t_ms;
        const after = (sql.get(q.nextPoint, p.meterId, p.seriesId, p.t) as { t_ms: number } | undefined)?.t_ms;
        const span = affectedSpan(p.t, before, after, gapMs);
        if (span.toMs > span.fromMs) {
          for (const part of slotsOf(span.fromMs, span.toMs)) {
            // The slot's share of this series, integrated again from its points (and one gap either side).
            const pts = sql.all(q.pointsIn, p.meterId, p.seriesId, part.slotStartMs - gapMs, part.slotEndMs + gapMs) as unknown as SeriesPoint[];
            const c = integratePoints(pts, p.kind, part.slotStartMs, part.slotEndMs, gapMs);
            const old = sql.get(q.getPointSlot, p.meterId, p.seriesId, part.day, part.slot) as { energy: number; covered: number } | undefined;
            const dE = c.energyWms - (old?.energy ?? 0);
            const dC = c.coveredMs - (old?.covered ?? 0);
            if (dE === 0 && dC === 0) continue;
            sql.run(q.putPointSlot, p.meterId, p.seriesId, part.day, part.slot, c.energyWms, c.coveredMs);
            const closed = sql.get(q.isClosed, p.meterId, part.day) === undefined ? 0 : 1;
            sql.run(q.changeSlot, p.meterId, part.day, part.slot, part.slotStartMs, part.slotEndMs, dE, dC, closed);
          }
        }
        return prev === undefined ? 'added' : 'corrected';
      });
    },
    batch: (fn) => transaction(fn),
    holds(meterId, seriesId, startMs, durationMs, value) {
      if (durationMs === 0) {
        const p = sql.get(q.getPoint, meterId, seriesId, startMs) as { value: number } | undefined;
        return p !== undefined && (value === undefined || p.value === value);
      }
      const s = sql.get(q.getSample, meterId, seriesId, startMs) as { duration_ms: number; watts: number } | undefined;
      return s?.duration_ms === durationMs && (value === undefined || s.watts === value);
    },
    slotsToRecord: () => (sql.all(q.dirtySlots, minCoverage) as unknown as SlotRow[]).map(toSlot),
    markRecorded(meterId, day, slots, txId, blockNumber) {
      transaction(() => {
        for (const s of slots) sql.run(q.markSlot, s.watts, s.final ? 1 : 0, txId, meterId, day, s.slot);
        if (blockNumber !== undefined) sql.run(sql.raiseHeight, blockNumber);
      });
    },
    recordedHeight: () => Number((sql.get(q.recordedHeight) as { value: number } | undefined)?.value ?? 0),
    probeWrite() {
      // A page's worth, committed (a full disk fails the WAL append at COMMIT), then removed.
      transaction(() => sql.run(sql.putProbe));
      sql.run(q.dropProbe);
    },
    closeDay(day, meterIds) {
      transaction(() => {
        const meters = meterIds ?? (sql.all(q.metersOfDay, day) as Array<{ meter: string }>).map((r) => r.meter);
        for (const m of meters) sql.run(q.insertClosed, m, day);
        if (meterIds === undefined) sql.run(q.closeAll, day);
        else for (const m of meterIds) sql.run(q.closeMeter, day, m);
      });
    },
    openDays: () => (sql.all(q.openDays) as Array<{ day: string }>).map((r) => r.day),
    slots: (meterId, day) => (sql.all(q.slotsOf, meterId, day) as unknown as SlotRow[]).map(toSlot),
    putEvent(e) {
      if (shared === undefined) {
        sql.run(q.putEvent, e.eventId, JSON.stringify(e));
        remember(e);
        return;
      }
      remember(e, String(sql.get(shared.put, e.eventId, JSON.stringify(e))?.rev));
    },
    getEvent(eventId) {
      const cached = eventCache.get(eventId);
      if (shared === undefined) {
        if (cached !== undefined) return remember(cached.event);
        const r = sql.get(q.getEvent, eventId) as { json: string } | undefined;
        return r === undefined ? undefined : remember(JSON.parse(r.json) as MappedEvent);
      }
      const r = sql.get(shared.read, eventId, cached?.rev ?? '') as { rev: string; json: string | null } | undefined;
      if (r === undefined) {
        eventCache.delete(eventId);
        return undefined;
      }
      return remember(r.json === null && cached !== undefined ? cached.event : (JSON.parse(r.json as string) as MappedEvent), String(r.rev));
    },
    listEvents: () => (sql.all(q.listEvents) as Array<{ json: string }>).map((r) => JSON.parse(r.json) as MappedEvent),
    close: () => sql.close(),
  };
}

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
  const stmt = preparedStatements(db);
  const transaction = createTransaction(db);
  return mappingStoreOver(
    {
      get: (text, ...params) => stmt(text).get(...(params as SQLInputValue[])) as Row | undefined,
      all: (text, ...params) => stmt(text).all(...(params as SQLInputValue[])) as Row[],
      run: (text, ...params) => Number(stmt(text).run(...(params as SQLInputValue[])).changes),
      transaction,
      table: (name) => name,
      raiseHeight: "INSERT INTO meta (key, value) VALUES ('recordedHeight', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
      putProbe: "INSERT OR REPLACE INTO meta (key, value) VALUES ('writeProbe', hex(randomblob(2048)))",
      close: () => db.close(),
    },
    options,
  );
}
