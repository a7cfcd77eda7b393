/**
 * How many files under `paths` this process holds open, from /proc/self/fd (Linux only: tests that
 * use it skip elsewhere with `OPEN_FILES_SKIP`). Tests check with it that a store is closed.
 */
import { readdirSync, readlinkSync } from 'node:fs';

export const OPEN_FILES_SKIP: string | false = process.platform !== 'linux' && 'counts open files in /proc/self/fd';

export function openFiles(...paths: string[]): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return paths.some((p) => target.startsWith(p));
    } catch {
      return false; // closed while listing
    }
  }).length;
}
