/**
 * Typed events as an async iterator: `for await (const e of trainer.events()) …`, the shape
 * app developers know from Node's `events.on` and streams. Each item is `{ type, data }`; the
 * union is discriminated by `type`, so `if (e.type === 'epoch') e.data.testElbo` type-checks.
 *
 * Events are queued until read (an emitter never waits for a reader), and the iterator ends
 * (done) when `ended()` turns true after an event, when `signal` aborts, or when the reader
 * leaves the loop (return()), which also unsubscribes.
 */

/** One event of a map of event types: `{ type: 'progress', data: ProgressEvent } | …`. */
export type EventOf<Events> = { [K in keyof Events]: { type: K; data: Events[K] } }[keyof Events];

/** subscribe(listener) starts listening and returns the function that stops it. */
export function eventStream<Events>(
  subscribe: (listener: <K extends keyof Events>(type: K, data: Events[K]) => void) => () => void,
  ended: () => boolean,
  signal?: AbortSignal,
): AsyncIterableIterator<EventOf<Events>> {
  const queue: EventOf<Events>[] = [];
  let wake: (() => void) | null = null;
  // Already over (a disposed trainer, an aborted signal): an empty stream, not one that waits forever.
  let done = (signal?.aborted ?? false) || ended();
  const finish = () => {
    done = true;
    unsubscribe();
    signal?.removeEventListener('abort', finish);
    wake?.();
  };
  const unsubscribe = done
    ? () => undefined
    : subscribe((type, data) => {
        queue.push({ type, data } as EventOf<Events>);
        if (ended()) finish();
        wake?.();
      });
  signal?.addEventListener('abort', finish, { once: true });
  const iterator: AsyncIterableIterator<EventOf<Events>> = {
    async next(): Promise<IteratorResult<EventOf<Events>>> {
      while (queue.length === 0 && !done)
        await new Promise<void>((r) => {
          wake = r;
        });
      wake = null;
      // Events that arrived before the end are still delivered, in order.
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<EventOf<Events>>> {
      finish();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
