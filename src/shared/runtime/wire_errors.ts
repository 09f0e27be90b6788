/**
 * AevbErrors across a worker boundary. comlink sends a thrown Error as its name, message and
 * stack only (its default 'throw' transfer handler), so a caller on the other side would get a
 * plain Error without `code`, `fix`, `field` or `remedy`. This replaces that handler with one that also
 * carries those and rebuilds an AevbError on arrival; anything else goes through comlink's own.
 *
 * comlink's transferHandlers map is per module instance, i.e. per thread: both ends must call
 * useAevbErrorTransfer() — every worker entry before `expose`, the main side before `wrap`.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { AevbError, type AevbErrorCode, type Remedy } from '../errors.ts';

/** What crosses the wire for an AevbError (plain data: structured-cloneable). */
export interface WireAevbError {
  code: AevbErrorCode;
  problem: string;
  fix: string;
  field?: string;
  remedy?: Remedy;
  stack?: string;
}

export function toWire(e: AevbError): WireAevbError {
  return {
    code: e.code,
    problem: e.problem,
    fix: e.fix,
    ...(e.field === undefined ? {} : { field: e.field }),
    ...(e.remedy === undefined ? {} : { remedy: e.remedy }),
    stack: e.stack,
  };
}

export function fromWire(w: WireAevbError): AevbError {
  const e = new AevbError(w.code, w.problem, w.fix, w.field, w.remedy);
  // The worker's stack says where it was thrown; keep it.
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

type Thrown = { value: unknown };
type Serialized = { aevb: WireAevbError } | unknown;

let installed = false;

/** Install the handler in this thread (idempotent). */
export function useAevbErrorTransfer(): void {
  if (installed) return;
  const base = transferHandlers.get('throw') as TransferHandler<Thrown, unknown>;
  const handler: TransferHandler<Thrown, Serialized> = {
    // The same values as comlink's: its wrapper around whatever an exposed function threw.
    canHandle: (v): v is Thrown => base.canHandle(v),
    serialize(thrown) {
      if (thrown.value instanceof AevbError) return [{ aevb: toWire(thrown.value) }, []];
      return base.serialize(thrown) as [Serialized, Transferable[]];
    },
    deserialize(s) {
      if (typeof s === 'object' && s !== null && 'aevb' in s) throw fromWire((s as { aevb: WireAevbError }).aevb);
      return base.deserialize(s);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
  installed = true;
}
