/**
 * The replay cache of ReplayProtect nonces (R514; rules digest 9.7 step 5, CHOICE: a nonce seen
 * within the window is rejected). Pure and clock-free: the verifier passes the time.
 *
 * A nonce only needs remembering while its message could still pass the timestamp check, that is
 * until `timestamp + windowMs`; after that the message is refused as stale anyway. Entries are
 * dropped then. The cache is bounded: past `maxEntries` live entries the oldest is forgotten
 * (counted in `evicted`), so size the bound above the number of signed messages one peer set can
 * send in two windows.
 */

export interface NonceCacheOptions {
  /** Most nonces kept; default 100 000 (a few MB). */
  readonly maxEntries?: number;
}

export interface NonceCache {
  /**
   * True when `nonce` was seen before and is still live; otherwise records it (live until
   * `expiresAt`, epoch ms) and returns false. `now` (epoch ms) prunes expired entries.
   */
  seenNonce(nonce: string, expiresAt: number, now: number): boolean;
  /** Live entries. */
  readonly size: number;
  /** Entries forgotten before their expiry because the cache was full. */
  readonly evicted: number;
}

export const DEFAULT_NONCE_CACHE_ENTRIES = 100_000;

export function createNonceCache(options: Readonly<NonceCacheOptions> = {}): NonceCache {
  const maxEntries = options.maxEntries ?? DEFAULT_NONCE_CACHE_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  /** nonce → expiry; Map keeps insertion order, which is what the bound evicts by. */
  const entries = new Map<string, number>();
  let evicted = 0;
  let nextSweep = 0;

  function sweep(now: number): void {
    for (const [nonce, expiresAt] of entries) if (expiresAt < now) entries.delete(nonce);
  }

  return {
    seenNonce(nonce, expiresAt, now) {
      const known = entries.get(nonce);
      if (known !== undefined && known >= now) return true;
      if (known !== undefined) entries.delete(nonce);
      // A full sweep at most once per second of the callers' clock, or when the bound is reached.
      if (now >= nextSweep || entries.size >= maxEntries) {
        sweep(now);
        nextSweep = now + 1000;
      }
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
        evicted++;
      }
      entries.set(nonce, expiresAt);
      return false;
    },
    get size() {
      return entries.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
