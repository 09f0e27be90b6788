/**
 * The pool's workers: starting them, noticing a death, replacing the dead, and letting them go.
 *
 * A worker's death (its thread exits, crashes, or is terminated) is known from the spawner; it
 * aborts the request in flight (`abort`: ABORT releases everyone waiting at a barrier for it) and
 * fails every call racing it (`death`). The committed state is untouched (workers only ever write
 * the uncommitted copy), so a replacement is started and asked again.
 *
 * Every call other than steps (evaluation, encode, decode, memory) is a pure read of the committed
 * state: a death during it, or before it while the pool was idle, replaces the worker and asks the
 * replacement again, up to MAX_TRIES workers; every call races the worker's death, so none waits
 * for a reply that cannot come. A worker that cannot be started again (MAX_STARTS tries) fails the
 * call with an AevbError of code WORKER.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import { stateError, workerError } from '../../shared/errors.ts';
import type { WorkerApi, WorkerInfo, WorkerInit } from '../../shared/runtime/protocol.ts';
import type { PoolCall, PoolFailure } from './pool_report.ts';
import type { Spawner, SpawnedWorker } from './spawner.ts';

/** A call is tried on at most this many workers in a row (each death replaces the worker). */
const MAX_TRIES = 3;
/** A worker that dies during its start is started again at most this many times. */
const MAX_STARTS = 3;

/** One worker of the pool: its thread, its comlink proxy, and whether it has died. */
export interface Member {
  handle: SpawnedWorker;
  api: Remote<WorkerApi>;
  info: WorkerInfo;
  /** Rejects when the worker dies. */
  death: Promise<never>;
  /** Set when the worker died (the death promise has rejected). */
  dead: boolean;
  /** Set once the pool has let the worker go (proxy released, thread terminated). */
  retired?: boolean;
}

/** Let a worker go, once: release its proxy and end its thread. */
async function retire(member: Member): Promise<void> {
  if (member.retired) return;
  member.retired = true;
  member.api[releaseProxy]();
  await member.handle.terminate().catch(() => undefined);
}

export class WorkerDied extends Error {
  /** fix: the spawner's advice when it knows better than the pool's (a worker script that could not load). */
  constructor(
    readonly rank: number,
    readonly why: string,
    readonly fix?: string,
  ) {
    super(`worker ${rank} ${why}`);
  }
}

/** Why a call failed, for a failure report: a death's cause, or what the worker threw. */
export function causeOf(e: unknown): string {
  return e instanceof WorkerDied ? e.why : `threw: ${(e as Error)?.message ?? String(e)}`;
}

export interface SupervisorOptions {
  spawn: Spawner;
  /** The init message of worker `rank`. */
  init(rank: number): WorkerInit;
  /** Raise ABORT: every worker waiting at a barrier leaves it (on a death, and on dispose). */
  abort(): void;
  /** The committed step, for the report of a death outside steps. */
  committedStep(): number;
}

export class Supervisor {
  /** The workers, by rank. */
  members: Member[] = [];
  disposed = false;
  /** Replacements in progress, by rank: concurrent calls that saw the same death share one. */
  private replacing = new Map<number, Promise<void>>();
  /** Told of every worker death noticed outside runSteps (those are in the StepsReport). */
  onFailure: (f: PoolFailure) => void = () => undefined;

  constructor(private readonly o: SupervisorOptions) {}

  /** Start workers 0 .. n − 1 (all or none: on a failure every started one is let go). */
  async startAll(n: number): Promise<void> {
    this.members = await Promise.all(Array.from({ length: n }, (_, r) => this.start(r)));
  }

  /** Start worker `rank` and initialise it (up to MAX_STARTS tries; then an AevbError WORKER). */
  private async start(rank: number): Promise<Member> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(rank);
      } catch (e) {
        if (this.disposed) throw stateError('This pool was disposed while a worker was starting.', 'Create a new trainer.');
        if (attempt >= MAX_STARTS) {
          const why = e instanceof WorkerDied ? e.why : ((e as Error)?.message ?? String(e));
          throw workerError(
            `Worker ${rank} could not be started: ${MAX_STARTS} tries failed (last: ${why}).`,
            (e instanceof WorkerDied && e.fix) ||
              'Check that the machine (or the tab) has memory to spare for another worker, use fewer workers, or create the trainer again.',
          );
        }
      }
    }
  }

  private async startOnce(rank: number): Promise<Member> {
    const handle = this.o.spawn(rank);
    let rejectDeath!: (e: Error) => void;
    const death = new Promise<never>((_, rej) => {
      rejectDeath = rej;
    });
    death.catch(() => undefined); // observed through races only
    const member = { handle, death, dead: false } as Member;
    handle.onDeath((cause, fix) => {
      // A worker died: release everyone waiting at a barrier for it, then fail its calls.
      member.dead = true;
      this.o.abort();
      rejectDeath(new WorkerDied(rank, cause, fix));
    });
    member.api = wrap<WorkerApi>(handle.endpoint);
    try {
      member.info = await Promise.race([member.api.init(this.o.init(rank)), death]);
    } catch (e) {
      await retire(member);
      throw e;
    }
    if (this.disposed) {
      // dispose() ran while this worker started: it must not outlive the pool.
      await retire(member);
      throw stateError('This pool was disposed while a worker was starting.', 'Create a new trainer.');
    }
    return member;
  }

  /**
   * Replace worker `rank`, whose member `failed` died or threw. Callers that saw the same failure
   * share one replacement; a member already replaced is left alone.
   */
  replace(rank: number, failed: Member): Promise<void> {
    if (this.members[rank] !== failed) return Promise.resolve();
    let pending = this.replacing.get(rank);
    if (!pending) {
      pending = (async () => {
        await retire(failed);
        this.members[rank] = await this.start(rank);
      })().finally(() => this.replacing.delete(rank));
      this.replacing.set(rank, pending);
    }
    return pending;
  }

  /**
   * Replace every worker that died while no call was running; report each (as 'idle'). Returns
   * only when every member is alive at that moment (more may die while replacements start), so a
   * caller that clears ABORT right after, in the same synchronous block, loses no death.
   */
  async replaceDead(step: number, failures: PoolFailure[]): Promise<void> {
    for (let r = this.members.findIndex((s) => s.dead); r >= 0; r = this.members.findIndex((s) => s.dead)) {
      const s = this.members[r];
      const cause = await s.death.catch((e: unknown) => (e instanceof WorkerDied ? e.why : String(e)));
      failures.push({ kind: 'worker-died', worker: r, step, cause, during: 'idle' });
      await this.replace(r, s);
    }
  }

  /** Replace every worker whose call of a request failed (members[r] made call r); record why. */
  async replaceFailed(members: Member[], settled: PromiseSettledResult<unknown>[], step: number, failures: PoolFailure[]): Promise<void> {
    for (let r = 0; r < settled.length; r++) {
      const s = settled[r];
      if (s.status !== 'rejected') continue;
      failures.push({ kind: 'worker-died', worker: r, step, cause: causeOf(s.reason), during: 'steps' });
      await this.replace(r, members[r]);
    }
  }

  /**
   * Call worker `rank` with a pure read of the committed state. If the worker dies (before or
   * during the call), report it, replace it and ask the replacement, up to MAX_TRIES workers.
   * Errors the worker throws (not deaths) go to the caller unchanged.
   */
  async call<T>(rank: number, during: PoolCall, f: (api: Remote<WorkerApi>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.guard();
      await this.replacing.get(rank);
      const member = this.members[rank];
      try {
        return await Promise.race([f(member.api), member.death]);
      } catch (e) {
        if (!(e instanceof WorkerDied)) throw e;
        this.onFailure({ kind: 'worker-died', worker: rank, step: this.o.committedStep(), cause: e.why, during });
        if (attempt >= MAX_TRIES) {
          throw workerError(
            `Worker ${rank} died ${MAX_TRIES} times in a row during ${during} (last: ${e.why}).`,
            'Check that the machine (or the tab) has memory to spare, use fewer workers, or create the trainer again; the trained state is kept.',
          );
        }
        await this.replace(rank, member);
      }
    }
  }

  guard(): void {
    if (this.disposed) throw stateError('This pool was disposed.', 'Create a new trainer.');
  }

  /** Let every worker go: ask each to free its engine (a second at most), then end its thread. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.o.abort();
    // A replacement that is starting ends itself when it sees `disposed`; wait for that.
    await Promise.allSettled([...this.replacing.values()]);
    await Promise.all(
      this.members.map(async (s) => {
        if (!s.retired && !s.dead) {
          // A worker that does not answer within a second is ended anyway; the timer is cleared so that
          // dispose() resolves as soon as the workers are gone (and keeps no Node process alive).
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise((r) => {
            timer = setTimeout(r, 1000);
          });
          await Promise.race([s.api.dispose(), s.death, late]).catch(() => undefined);
          clearTimeout(timer);
        }
        await retire(s);
      }),
    );
    this.members = [];
  }
}
