/** How the single-thread benchmarks time a function: the same method for every figure. */

export interface Rate {
  /** Calls per second of wall clock (median batch). */
  readonly wall: number;
  /** Calls per CPU-second of this process (median batch): what one undisturbed core would do. */
  readonly cpu: number;
}

/**
 * Rate of `run` over `inputs` (cycled): 0.3 s warm-up, then ten batches of at least 0.1 s timed
 * with `process.hrtime.bigint()`; the median batch is the figure (on a shared machine one noisy
 * batch must not decide it), with the `process.cpuUsage()` rate beside it.
 */
export function rate<T>(inputs: readonly T[], run: (x: T) => unknown): Rate {
  let sink = 0;
  let i = 0;
  const next = (): T => inputs[i++ % inputs.length] as T;
  const warmEnd = process.hrtime.bigint() + 300_000_000n;
  while (process.hrtime.bigint() < warmEnd) if (run(next()) !== undefined) sink++;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let batch = 0; batch < 10; batch++) {
    let count = 0;
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const end = start + 100_000_000n;
    let now = start;
    while (now < end) {
      for (let k = 0; k < 8; k++) if (run(next()) !== undefined) sink++;
      count += 8;
      now = process.hrtime.bigint();
    }
    const used = process.cpuUsage(cpu0);
    wall.push((count * 1e9) / Number(now - start));
    cpu.push((count * 1e6) / Math.max(1, used.user + used.system));
  }
  if (sink === 0) throw new Error('the benchmarked function returned nothing');
  return { wall: median(wall), cpu: median(cpu) };
}

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  return ((xs[4] ?? 0) + (xs[5] ?? 0)) / 2;
}
