/**
 * One step of a bench measured: wall time, the process's CPU time (all threads: the steadier figure
 * when other jobs share the cores) and the main thread's, the 1-minute load average when it started,
 * the process's maxRSS before and after. With a profile folder each step also writes
 * DIR/<name>.cpuprofile (V8's sampling profiler through node:inspector).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Measured<T> {
  readonly result: T;
  readonly ms: number;
  readonly cpuMs: number;
  readonly mainMs: number;
  readonly load: number;
  /** maxRSS in bytes before and after the step. */
  readonly rssBefore: number;
  readonly rss: number;
}

export interface Measure {
  <T>(name: string, run: () => Promise<T>): Promise<Measured<T>>;
  /** Ends the profiler's session (none without a profile folder). */
  close(): void;
}

export async function createMeasure(profileDir?: string): Promise<Measure> {
  const session = profileDir === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    mkdirSync(profileDir as string, { recursive: true });
  }
  const maxRss = (): number => process.resourceUsage().maxRSS * 1024;
  const measure = async <T>(name: string, run: () => Promise<T>): Promise<Measured<T>> => {
    const load = loadavg()[0] ?? 0;
    const rssBefore = maxRss();
    if (session !== undefined) await session.post('Profiler.start');
    const cpu0 = process.cpuUsage();
    const main0 = process.threadCpuUsage();
    const t0 = performance.now();
    const result = await run();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const main = process.threadCpuUsage(main0);
    if (session !== undefined) writeFileSync(join(profileDir as string, `${name}.cpuprofile`), JSON.stringify((await session.post('Profiler.stop')).profile));
    return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000, mainMs: (main.user + main.system) / 1000, load, rssBefore, rss: maxRss() };
  };
  return Object.assign(measure, { close: () => session?.disconnect() });
}
