/**
 * The checkpoint format: parameters, optimizer state, config, step count and the identity of the
 * training set, in one binary file that round-trips bit for bit and is validated on load, so a
 * corrupt or mismatched file is refused with a clear error instead of silently training garbage.
 *
 * Byte layout (docs/checkpoint-format.md):
 *   [0, 8)    magic "AEVBCKPT"
 *   [8, 12)   uint32 LE format version (1)
 *   [12, 16)  uint32 LE header length h
 *   [16, 16+h) UTF-8 JSON header: every field but the arrays, the arrays' names/offsets/lengths,
 *             the layout's [{name, shape}] and a CRC32 of the payload
 *   zero padding to a 4-byte boundary
 *   payload: float32 LE, params then each optimizer slot (OPTIMIZER_SLOTS order), each layout.size long
 *
 * The header may carry the run's metrics history (`metrics`, optional: files without it, older
 * ones included, load as before, and readers that predate it ignore it), so that a loaded
 * checkpoint brings its curves.
 *
 * Pure TypeScript: no Node or DOM API, so the page, the CLI and the tests share it.
 */
import { modelKey, resolveConfig, type OptimizerKind, type TrainConfig } from '../training/config.ts';
import { checkpointError, type Remedy } from '../errors.ts';
import { CONFIG_FIELDS } from '../training/config_fields.ts';
import { checkTrainableState } from '../training/state_checks.ts';
import { buildLayout, type ParamLayout } from '../model/layout.ts';
import { isOptimizerKind, OPTIMIZER_NAMES, OPTIMIZER_SLOTS } from '../training/optimizers.ts';

export interface Checkpoint {
  format: 'aevb-checkpoint';
  version: 1;
  /** The full resolved config (resolveConfig). */
  config: TrainConfig;
  /** Updates applied so far. */
  step: number;
  /** Training datapoints processed so far (the x-axis of the paper's Figure 2). */
  samplesSeen: number;
  /** θ and φ in buildLayout(config) order. */
  params: Float32Array;
  /** Optimizer state: slots in OPTIMIZER_SLOTS[kind] order, each params.length long. */
  optimizer: { kind: OptimizerKind; slots: Float32Array[] };
  /** The training set it was trained on. */
  data: { name: string; n: number; d: number; fingerprint: string };
  /** ISO time of writing. */
  createdAt: string;
  /** The run's metrics up to this state (optional; see CheckpointMetrics). */
  metrics?: CheckpointMetrics;
}

/**
 * The run's metrics history, carried in the header: one row per evaluation (an epoch's end, a point
 * of the log grid, or a log p(x) estimate: the objects of metrics.jsonl, each with its samplesSeen)
 * and the minibatch estimate's curve as [samplesSeen, ELBO per datapoint] pairs.
 */
export interface CheckpointMetrics {
  rows: Record<string, number | string | null>[];
  minibatch: [number, number][];
}

export const CHECKPOINT_MAGIC = 'AEVBCKPT';
export const CHECKPOINT_VERSION = 1;
/** Magic + version + header length. */
const PREAMBLE = 16;

/**
 * Config fields that may differ between the checkpoint and the resumed run: how long to go on
 * training and how hard to evaluate change neither the model nor the path of the optimizer.
 * Every other field must be equal, or the resumed run would not continue the same experiment.
 */
export const RESUMABLE_FIELDS: readonly (keyof TrainConfig)[] = Object.freeze(CONFIG_FIELDS.filter((r) => r.resumable).map((r) => r.field));

/** One array of the payload as the header lists it; offsets are bytes from the payload start. */
interface ArrayEntry {
  name: string;
  offset: number;
  length: number;
}

interface Header {
  format: 'aevb-checkpoint';
  version: 1;
  config: TrainConfig;
  step: number;
  samplesSeen: number;
  optimizer: { kind: OptimizerKind };
  data: Checkpoint['data'];
  createdAt: string;
  layout: { name: string; shape: number[] }[];
  arrays: ArrayEntry[];
  payloadBytes: number;
  /** CRC32 (IEEE) of the payload, 8 hex digits. */
  crc32: string;
  metrics?: CheckpointMetrics;
}

// ---------------------------------------------------------------------------------------------
// Hashes

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32 (IEEE 802.3, as zip and png use), as 8 hex digits. */
export function crc32(bytes: Uint8Array): string {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** FNV-1a 32-bit step over a run of bytes. */
function fnv1a(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Rows hashed by datasetFingerprint: enough to tell datasets apart, few enough to be instant. */
const FINGERPRINT_ROWS = 257;

/**
 * A fast identity of a dataset: FNV-1a over n, d and the bytes of up to 257 evenly spaced rows
 * (always the first and the last). Not a cryptographic hash: it tells "the same --data" from
 * "other data" so that a resumed run does not quietly continue on a different training set.
 */
export function datasetFingerprint(x: Float32Array, n: number, d: number): string {
  let h = fnv1a(0x811c9dc5, new Uint8Array(new Uint32Array([n, d]).buffer));
  const rows = Math.min(n, FINGERPRINT_ROWS);
  for (let k = 0; k < rows; k++) {
    const r = rows === 1 ? 0 : Math.round((k * (n - 1)) / (rows - 1));
    h = fnv1a(h, new Uint8Array(x.buffer, x.byteOffset + r * d * 4, d * 4));
  }
  return h.toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------------------------
// Encode

const align4 = (n: number) => (n + 3) & ~3;

/** Typed arrays use the host's byte order; the file is LE, so copy bytes directly only on LE hosts (all common ones). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Write a's values as float32 LE at byte off of out. */
function writeF32(out: Uint8Array, off: number, a: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
  } else {
    const dv = new DataView(out.buffer, out.byteOffset + off, a.byteLength);
    for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  }
}

/** Copy n float32 LE values starting at byte off (a copy, so the result owns aligned memory). */
function readF32(bytes: Uint8Array, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(off, off + 4 * n));
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + off, n * 4);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  }
  return out;
}
const slotNames = (kind: OptimizerKind) => ['params', ...OPTIMIZER_SLOTS[kind].map((s) => `optimizer.${s}`)];

/** The first non-finite value of the arrays, named by array and parameter, or null. */
function findNonFinite(arrays: { name: string; values: Float32Array }[], layout: ParamLayout): string | null {
  for (const a of arrays) {
    for (let i = 0; i < a.values.length; i++) {
      if (Number.isFinite(a.values[i])) continue;
      const spec = layout.specs.find((s) => i >= s.offset && i < s.offset + s.size);
      const where = spec ? `${spec.name}[${i - spec.offset}]` : `index ${i}`;
      return `${a.name} holds ${a.values[i]} at ${where} (flat index ${i})`;
    }
  }
  return null;
}

/** Refuse to write what decode would refuse to read: a checkpoint that cannot be loaded is worse than none. */
function checkEncodable(c: Checkpoint, layout: ParamLayout): Float32Array[] {
  const fix = 'This is a bug in the caller; the previous checkpoint is kept.';
  const expected = OPTIMIZER_SLOTS[c.optimizer.kind];
  if (c.optimizer.kind !== c.config.optimizer) {
    throw checkpointError(`Cannot save: optimizer state is for ${c.optimizer.kind} but config.optimizer is ${c.config.optimizer}.`, fix);
  }
  if (!expected || c.optimizer.slots.length !== expected.length) {
    throw checkpointError(
      `Cannot save: ${c.optimizer.kind} keeps ${expected?.length} state vectors, got ${c.optimizer.slots.length}.`,
      fix,
    );
  }
  const arrays = [c.params, ...c.optimizer.slots];
  arrays.forEach((a, i) => {
    if (a.length !== layout.size) {
      throw checkpointError(
        `Cannot save: ${slotNames(c.optimizer.kind)[i]} has ${a.length} values; the model has ${layout.size} parameters.`,
        fix,
      );
    }
  });
  const bad = findNonFinite(
    arrays.map((values, i) => ({ name: slotNames(c.optimizer.kind)[i], values })),
    layout,
  );
  if (bad) {
    throw checkpointError(
      `Cannot save: ${bad}.`,
      'Training diverged; the previous checkpoint is kept. Lower the step size (lr) or resume from the last good checkpoint.',
      { id: 'diverged-save', fields: ['lr'] },
    );
  }
  return arrays;
}

/** Serialise a checkpoint (validated first, so a bad one is never written). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const layout = buildLayout(c.config);
  const arrays = checkEncodable(c, layout);
  const payload = new Uint8Array(arrays.length * layout.size * 4);
  arrays.forEach((a, k) => writeF32(payload, k * layout.size * 4, a));
  const header: Header = {
    format: 'aevb-checkpoint',
    version: 1,
    config: { ...c.config },
    step: c.step,
    samplesSeen: c.samplesSeen,
    optimizer: { kind: c.optimizer.kind },
    data: { ...c.data },
    createdAt: c.createdAt,
    layout: layout.specs.map((s) => ({ name: s.name, shape: [...s.shape] })),
    arrays: slotNames(c.optimizer.kind).map((name, k) => ({ name, offset: k * layout.size * 4, length: layout.size })),
    payloadBytes: payload.length,
    crc32: crc32(payload),
    ...(c.metrics
      ? {
          metrics: {
            rows: c.metrics.rows.map((r) => ({ ...r })),
            minibatch: c.metrics.minibatch.map(([x, y]) => [x, y] as [number, number]),
          },
        }
      : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(PREAMBLE + json.length);
  const out = new Uint8Array(start + payload.length); // padding bytes stay zero
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  const pre = new DataView(out.buffer);
  pre.setUint32(8, CHECKPOINT_VERSION, true);
  pre.setUint32(12, json.length, true);
  out.set(json, PREAMBLE);
  out.set(payload, start);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decode

/** Magic, version, header length: the preamble, checked before anything is parsed. */
function readPreamble(bytes: Uint8Array, fail: (p: string, f?: string) => never): number {
  if (bytes.length < PREAMBLE) fail(`is truncated: ${bytes.length} bytes, shorter than the ${PREAMBLE}-byte preamble`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== CHECKPOINT_MAGIC) {
    fail(
      `is not an aevb checkpoint (starts with ${JSON.stringify(magic)}, expected "${CHECKPOINT_MAGIC}")`,
      'Pass the checkpoint.aevb written by aevb, not another file.',
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    fail(
      `has format version ${version}; this aevb reads version ${CHECKPOINT_VERSION} only`,
      'Load it with the aevb release that wrote it, or start a new run.',
    );
  }
  const headerLength = dv.getUint32(12, true);
  if (PREAMBLE + headerLength > bytes.length) {
    fail(`is truncated: the header claims ${headerLength} bytes but only ${bytes.length - PREAMBLE} follow the preamble`);
  }
  return headerLength;
}

function parseHeader(bytes: Uint8Array, headerLength: number, fail: (p: string) => never): Header {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength));
    return JSON.parse(text) as Header;
  } catch (e) {
    return fail(`has a header that is not JSON (${(e as Error).message})`);
  }
}

/** Every field the header must carry, with its type; the first one missing or mistyped is named. */
function checkFields(h: Header, fail: (p: string) => never): void {
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const checks: [string, unknown, (v: unknown) => boolean, string][] = [
    ['format', h?.format, (v) => v === 'aevb-checkpoint', '"aevb-checkpoint"'],
    ['version', h?.version, (v) => v === CHECKPOINT_VERSION, String(CHECKPOINT_VERSION)],
    ['config', h?.config, isObj, 'an object'],
    ['step', h?.step, count, 'a whole number ≥ 0'],
    ['samplesSeen', h?.samplesSeen, count, 'a whole number ≥ 0'],
    ['optimizer.kind', h?.optimizer?.kind, isOptimizerKind, OPTIMIZER_NAMES.join(' | ')],
    ['data.name', h?.data?.name, (v) => typeof v === 'string', 'a string'],
    ['data.n', h?.data?.n, count, 'a whole number ≥ 0'],
    ['data.d', h?.data?.d, count, 'a whole number ≥ 0'],
    ['data.fingerprint', h?.data?.fingerprint, (v) => typeof v === 'string', 'a string'],
    ['createdAt', h?.createdAt, (v) => typeof v === 'string', 'an ISO time string'],
    ['layout', h?.layout, Array.isArray, 'an array of {name, shape}'],
    ['arrays', h?.arrays, Array.isArray, 'an array of {name, offset, length}'],
    ['payloadBytes', h?.payloadBytes, count, 'a whole number ≥ 0'],
    ['crc32', h?.crc32, (v) => typeof v === 'string' && /^[0-9a-f]{8}$/.test(v), '8 hex digits'],
  ];
  for (const [name, value, ok, want] of checks) {
    if (!ok(value))
      fail(`has a header whose field "${name}" is ${value === undefined ? 'missing' : JSON.stringify(value)}; expected ${want}`);
  }
}

/**
 * The optional metrics section: rows of objects whose values are numbers, strings or null, each with
 * a samplesSeen ≥ 0; the minibatch curve as finite [samplesSeen, ELBO] pairs. The first bad entry is named.
 */
function checkMetrics(m: unknown, fail: (p: string) => never): CheckpointMetrics | undefined {
  if (m === undefined) return undefined;
  const bad = (where: string, v: unknown, want: string): never =>
    fail(`has a header whose field "metrics${where}" is ${v === undefined ? 'missing' : JSON.stringify(v)}; expected ${want}`);
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('', m, 'an object {rows, minibatch}');
  const { rows, minibatch } = m as { rows?: unknown; minibatch?: unknown };
  if (!Array.isArray(rows)) return bad('.rows', rows, 'an array of objects');
  rows.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(`.rows[${i}]`, r, 'an object');
    const seen = (r as Record<string, unknown>).samplesSeen;
    if (!(typeof seen === 'number' && Number.isFinite(seen) && seen >= 0)) bad(`.rows[${i}].samplesSeen`, seen, 'a number ≥ 0');
    for (const [k, v] of Object.entries(r as object)) {
      if (!(v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))))
        bad(`.rows[${i}].${k}`, v, 'a finite number, a string or null');
    }
  });
  if (!Array.isArray(minibatch)) return bad('.minibatch', minibatch, 'an array of [samplesSeen, ELBO] pairs');
  minibatch.forEach((p, i) => {
    if (!(Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v))))
      bad(`.minibatch[${i}]`, p, 'a pair of finite numbers');
  });
  return { rows: rows as CheckpointMetrics['rows'], minibatch: minibatch as CheckpointMetrics['minibatch'] };
}

/**
 * The metrics section of checkpoint bytes, read from the header alone (no payload is decoded):
 * undefined for a file without one, or one that is not an .aevb checkpoint (e.g. a .safetensors).
 * Throws the checkpoint's error for an .aevb whose header or metrics are bad.
 */
export function readCheckpointMetrics(bytes: Uint8Array, source: string): CheckpointMetrics | undefined {
  if (bytes.length < PREAMBLE || String.fromCharCode(...bytes.subarray(0, 8)) !== CHECKPOINT_MAGIC) return undefined;
  const fail = (problem: string, fix = 'The file is damaged or incomplete: load another copy.'): never => {
    // 'the checkpoint' (the library's name for bytes it was given) reads "The checkpoint is …"; a file, "Checkpoint runs/x/… is …".
    throw checkpointError(`${source.startsWith('the ') ? `T${source.slice(1)}` : `Checkpoint ${source}`} ${problem}.`, fix);
  };
  const h = parseHeader(bytes, readPreamble(bytes, fail), fail);
  return checkMetrics(h?.metrics, fail);
}

/** The stored layout must be exactly buildLayout(config): otherwise the floats mean something else. */
function checkLayout(h: Header, layout: ParamLayout, fail: (p: string) => never): void {
  const n = Math.max(h.layout.length, layout.specs.length);
  for (let i = 0; i < n; i++) {
    const got = h.layout[i],
      want = layout.specs[i];
    const gotS = got ? `${got.name} ${JSON.stringify(got.shape)}` : 'nothing';
    const wantS = want ? `${want.name} ${JSON.stringify(want.shape)}` : 'nothing';
    if (gotS !== wantS) {
      fail(`has a layout that does not match its config (${modelKey(h.config)}): parameter ${i} is ${gotS}, expected ${wantS}`);
    }
  }
}

/** The arrays must be params then the optimizer's slots, back to back, each layout.size floats. */
function checkArrays(h: Header, size: number, fail: (p: string) => never): void {
  const names = slotNames(h.optimizer.kind);
  const want = names.map((name, k) => ({ name, offset: k * size * 4, length: size }));
  const got = h.arrays.map((a) => ({ name: a?.name, offset: a?.offset, length: a?.length }));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    fail(`lists payload arrays ${JSON.stringify(got)}; expected ${JSON.stringify(want)}`);
  }
  if (h.payloadBytes !== names.length * size * 4) {
    fail(`declares a ${h.payloadBytes}-byte payload; ${names.length} arrays of ${size} floats take ${names.length * size * 4}`);
  }
}

/**
 * Parse and validate a checkpoint. `source` (a path or file name) is named in every error.
 * Checks, in order: preamble, header JSON, header fields, config (resolveConfig), layout, arrays,
 * payload length, CRC32, NaN/Inf.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const defaultFix = 'The file is damaged or incomplete: resume from another copy or start a new run.';
  const fail = (problem: string, fix = defaultFix): never => {
    throw checkpointError(`Checkpoint ${source} ${problem}.`, fix);
  };
  const headerLength = readPreamble(bytes, fail);
  const h = parseHeader(bytes, headerLength, fail);
  checkFields(h, fail);
  let config: TrainConfig;
  try {
    config = resolveConfig(h.config);
  } catch (e) {
    return fail(`has an invalid config: ${(e as Error).message}`);
  }
  if (h.optimizer.kind !== config.optimizer) {
    fail(`holds ${h.optimizer.kind} state but its config says optimizer ${config.optimizer}`);
  }
  const layout = buildLayout(config);
  checkLayout({ ...h, config }, layout, fail);
  checkArrays(h, layout.size, fail);
  const start = align4(PREAMBLE + headerLength);
  const payloadBytes = bytes.length - start;
  if (payloadBytes !== h.payloadBytes) {
    fail(`has a payload of ${payloadBytes} bytes; the header says ${h.payloadBytes}${payloadBytes < h.payloadBytes ? ' (truncated)' : ''}`);
  }
  const payload = bytes.subarray(start);
  const sum = crc32(payload);
  if (sum !== h.crc32) fail(`is corrupt: checksum of the payload is ${sum}, the header says ${h.crc32}`);
  const arrays = h.arrays.map((a) => ({ name: a.name, values: readF32(bytes, start + a.offset, a.length) }));
  const bad = findNonFinite(arrays, layout);
  if (bad) fail(`is unusable: ${bad}`, 'Training had diverged when it was saved: resume from an earlier checkpoint or start a new run.');
  const metrics = checkMetrics(h.metrics, fail);
  const c: Checkpoint = {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: h.step,
    samplesSeen: h.samplesSeen,
    params: arrays[0].values,
    optimizer: { kind: h.optimizer.kind, slots: arrays.slice(1).map((a) => a.values) },
    data: { name: h.data.name, n: h.data.n, d: h.data.d, fingerprint: h.data.fingerprint },
    createdAt: h.createdAt,
    ...(metrics ? { metrics } : {}),
  };
  checkTrainableState(c, `Checkpoint ${source}`);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Resume compatibility

/** Equal config values: lists (hidden widths, activations) element by element. */
function sameSetting(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** How a checkpoint differs from the run that would resume it: what, its value in each, and the fix (words and remedy). */
export interface ResumeDifference {
  /** "the optimizer", `config field "seed"`, … */
  what: string;
  /** Its value in the checkpoint and in this run. */
  ours: unknown;
  theirs: unknown;
  fix: string;
  remedy: Remedy;
}

/**
 * The first way `c` cannot be resumed with config `cfg` on `data`, or null: same model shape
 * (modelKey), same optimizer, same dataset (d, n, fingerprint) and every other config field equal,
 * except the RESUMABLE_FIELDS (the field table's resumable rows: epochs, evalSamples, …).
 */
export function resumeDifference(
  c: Checkpoint,
  cfg: TrainConfig,
  data: { n: number; d: number; fingerprint: string },
): ResumeDifference | null {
  const newRun = 'or start a new run';
  if (modelKey(c.config) !== modelKey(cfg)) {
    return {
      what: 'the model shape',
      ours: modelKey(c.config),
      theirs: modelKey(cfg),
      fix: `Resume with the same data size, hidden, latent and decoder, ${newRun}.`,
      remedy: { id: 'same-model', fields: ['inputSize', 'hidden', 'latent', 'decoder'] },
    };
  }
  if (c.optimizer.kind !== cfg.optimizer) {
    return {
      what: 'the optimizer',
      ours: c.optimizer.kind,
      theirs: cfg.optimizer,
      fix: `Resume with the ${c.optimizer.kind} optimizer, ${newRun}.`,
      remedy: { id: 'same-optimizer', fields: ['optimizer'], value: c.optimizer.kind },
    };
  }
  const sameData = (what: string, ours: unknown, theirs: unknown): ResumeDifference => ({
    what,
    ours,
    theirs,
    fix: `Resume with the same data, ${newRun}.`,
    remedy: { id: 'same-data' },
  });
  if (c.data.d !== data.d) return sameData("the dataset's values per datapoint (d)", c.data.d, data.d);
  if (c.data.n !== data.n) return sameData(`the dataset's size (n, trained on "${c.data.name}")`, c.data.n, data.n);
  if (c.data.fingerprint !== data.fingerprint)
    return sameData(`the dataset fingerprint (trained on "${c.data.name}")`, c.data.fingerprint, data.fingerprint);
  for (const key of Object.keys(c.config) as (keyof TrainConfig)[]) {
    if (RESUMABLE_FIELDS.includes(key) || sameSetting(c.config[key], cfg[key])) continue;
    return {
      what: `config field "${key}"`,
      ours: c.config[key],
      theirs: cfg[key],
      fix: `Resume with the checkpoint's value (only ${RESUMABLE_FIELDS.join(' and ')} may change on resume), ${newRun}.`,
      remedy: { id: 'same-value', fields: [key] },
    };
  }
  return null;
}

/** The difference in words: "the optimizer is "adam" in the checkpoint but "sgd" in this run". */
export function resumeDifferenceWords(d: ResumeDifference): string {
  return `${d.what} is ${JSON.stringify(d.ours)} in the checkpoint but ${JSON.stringify(d.theirs)} in this run`;
}

/** Throw (CHECKPOINT, with the remedy) unless `c` can be resumed with config `cfg` on `data` (resumeDifference). */
export function checkCompatible(
  c: Checkpoint,
  cfg: TrainConfig,
  data: { n: number; d: number; fingerprint: string },
  source = 'checkpoint',
): void {
  const d = resumeDifference(c, cfg, data);
  if (d) throw checkpointError(`Cannot resume from ${source}: ${resumeDifferenceWords(d)}.`, d.fix, d.remedy);
}
