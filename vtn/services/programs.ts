/**
 * The VTN's programs: those of the configuration, and those created or changed through the admin
 * API, which the store keeps (they survive restarts). A program written through the API replaces
 * the configuration's program of the same id from then on; the configuration's first program stays
 * the default (events, reports and customers that name none). Changes apply to what is created
 * afterwards: an event keeps the market context and slots it was created with.
 */
import { resolveProgramConfig, type ProgramConfig, type ProgramConfigInput, type VtnConfig } from '../cli/config.ts';
import { VtnError } from '../errors.ts';
import { eventEndMs } from './event-model.ts';
import type { CustomerRecord, VtnStore } from '../store/store.ts';

export interface ProgramsApi {
  list(): readonly ProgramConfig[];
  get(programId: string): ProgramConfig | undefined;
  /** The program of anything that names none: the configuration's first. */
  defaultProgram(): ProgramConfig;
  /** A new program (INVALID_ARGUMENT when invalid, NOT_ALLOWED when the id exists). */
  create(input: ProgramConfigInput): ProgramConfig;
  /** The fields given replace the program's (its id stays); kept in the store. */
  update(programId: string, changes: Partial<ProgramConfig>): ProgramConfig;
  /**
   * Removes a program created through the API. NOT_ALLOWED for one of the configuration's, one a
   * pending event (not cancelled, not ended) uses, or one customers take part in.
   */
  remove(programId: string): void;
}

/** The program a customer takes part in: its own, else the default. */
export function programOfCustomer(programs: ProgramsApi, customer: CustomerRecord | undefined): ProgramConfig {
  const id = customer?.programId;
  return (id === undefined ? undefined : programs.get(id)) ?? programs.defaultProgram();
}

/**
 * The most a customer may plausibly draw or feed in (W), beyond which telemetry and imported energy
 * are refused: the customer's own `maxTelemetryW` (its connection), else its program's.
 */
export function maxTelemetryWOf(programs: ProgramsApi, customer: CustomerRecord | undefined): number {
  return customer?.maxTelemetryW ?? programOfCustomer(programs, customer).maxTelemetryW;
}

const invalid = (key: string, what: string): never => {
  throw new VtnError('INVALID_ARGUMENT', `program ${key} ${what}`);
};

/** A program as the API gives it back: JSON has no `undefined`, so an unset rampUpMs is left out. */
const plain = (p: ProgramConfig): ProgramConfigInput => JSON.parse(JSON.stringify(p)) as ProgramConfigInput;

export function createPrograms(config: VtnConfig, store: VtnStore, now: () => number): ProgramsApi {
  const fromConfig = config.programs;
  let all: readonly ProgramConfig[] = [];
  const refresh = (): void => {
    const stored = new Map(store.listPrograms().map((p) => [p.id, resolveProgramConfig(p, '', invalid)] as const));
    all = Object.freeze([...fromConfig.map((p) => stored.get(p.id) ?? p), ...[...stored.values()].filter((p) => !fromConfig.some((c) => c.id === p.id))]);
  };
  refresh();
  const get = (programId: string): ProgramConfig | undefined => all.find((p) => p.id === programId);
  const save = (p: ProgramConfig): ProgramConfig => {
    store.putProgram(plain(p));
    refresh();
    return get(p.id) as ProgramConfig;
  };
  return {
    list: () => all,
    get,
    // The configuration has at least one program (resolveVtnConfig), and `all` holds each of its ids.
    defaultProgram: () => get((fromConfig[0] as ProgramConfig).id) as ProgramConfig,
    create(input) {
      const p = resolveProgramConfig(input, '', invalid);
      if (get(p.id) !== undefined) throw new VtnError('NOT_ALLOWED', `program '${p.id}' exists; change it with PUT /api/v1/programs/${p.id}`);
      if (all.some((x) => x.marketContext === p.marketContext)) throw new VtnError('INVALID_ARGUMENT', `marketContext '${p.marketContext}' belongs to another program; each program has its own`);
      return save(p);
    },
    update(programId, changes) {
      const before = get(programId);
      if (before === undefined) throw new VtnError('NOT_FOUND', `no program '${programId}'; create it with POST /api/v1/programs`);
      if (changes.id !== undefined && changes.id !== programId) throw new VtnError('INVALID_ARGUMENT', `a program's id cannot change (${programId} → ${changes.id}); create a new program instead`);
      const p = resolveProgramConfig({ ...plain(before), ...changes, id: programId }, '', invalid);
      if (all.some((x) => x.id !== programId && x.marketContext === p.marketContext)) throw new VtnError('INVALID_ARGUMENT', `marketContext '${p.marketContext}' belongs to another program; each program has its own`);
      return save(p);
    },
    remove(programId) {
      if (get(programId) === undefined) throw new VtnError('NOT_FOUND', `no program '${programId}'; list the programs to find its id`);
      if (fromConfig.some((c) => c.id === programId)) throw new VtnError('NOT_ALLOWED', `program '${programId}' comes from the configuration; remove it there and restart`);
      const at = now();
      const pending = store.listEvents().filter((e) => e.programId === programId && !e.cancelled && eventEndMs(e) > at).map((e) => e.eventId);
      if (pending.length > 0) throw new VtnError('NOT_ALLOWED', `program '${programId}' is used by ${pending.length} pending event${pending.length === 1 ? '' : 's'} (${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''}); cancel them or wait until they end`);
      const members = store.listCustomers().filter((c) => c.programId === programId).map((c) => c.customerId);
      if (members.length > 0) throw new VtnError('NOT_ALLOWED', `${members.length} customer${members.length === 1 ? ' takes' : 's take'} part in program '${programId}' (${members.slice(0, 3).join(', ')}${members.length > 3 ? ', …' : ''}); move them to another program first`);
      store.deleteProgram(programId);
      refresh();
    },
  };
}
