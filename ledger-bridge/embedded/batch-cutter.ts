/**
 * The orderer's block cutter with Fabric's knobs (configtx.yaml `Orderer.BatchTimeout` and
 * `BatchSize.MaxMessageCount` / `PreferredMaxBytes`), with the semantics of Fabric's
 * `orderer/common/blockcutter`:
 * - a message larger than PreferredMaxBytes is cut alone (after cutting what is pending);
 * - a message that would make the pending batch exceed PreferredMaxBytes cuts the pending batch first;
 * - the batch is cut as soon as it holds MaxMessageCount messages;
 * - otherwise BatchTimeout after the FIRST message of the batch arrived, the batch is cut.
 */

export interface BatchOptions {
  /** Fabric default 2 s. */
  readonly timeoutMs: number;
  /** Fabric default 500. */
  readonly maxMessageCount: number;
  /** Fabric default 2 MiB. */
  readonly preferredMaxBytes: number;
}

export const FABRIC_BATCH_DEFAULTS: BatchOptions = { timeoutMs: 2000, maxMessageCount: 500, preferredMaxBytes: 2 * 1024 * 1024 };

export interface BatchCutter {
  enqueue(message: Uint8Array): void;
  /** Cuts what is pending now (used on close). */
  flush(): void;
  readonly pending: number;
  close(): void;
}

export function createBatchCutter(options: Readonly<BatchOptions>, onBatch: (batch: Uint8Array[]) => void): BatchCutter {
  let batch: Uint8Array[] = [];
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function cut(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    bytes = 0;
    onBatch(out);
  }

  return {
    enqueue(message) {
      if (message.length > options.preferredMaxBytes) {
        cut();
        batch = [message];
        cut();
        return;
      }
      if (bytes + message.length > options.preferredMaxBytes) cut();
      batch.push(message);
      bytes += message.length;
      if (batch.length >= options.maxMessageCount) {
        cut();
        return;
      }
      if (!timer) {
        // Not unref()ed: a pending batch is work a submitter waits for; the timer lives only while it does.
        timer = setTimeout(cut, options.timeoutMs);
      }
    },
    flush: cut,
    get pending() {
      return batch.length;
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
