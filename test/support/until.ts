/**
 * Waits until `check()` holds, polling every 10 ms, and fails the test with `what` after
 * `timeoutMs`. The one polling helper of the tests that wait on sockets, brokers and ledgers.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
