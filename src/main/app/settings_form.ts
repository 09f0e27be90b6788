/**
 * The settings form: one control per TrainConfig field the page exposes, built from the field
 * table's `page` entries (config_fields.ts: label, control, step, tooltip, order, address key), plus
 * the page's own two, the number of workers and the step's kernels. Hidden units and activation are
 * text: one value, or a comma list with one per hidden layer (512,256 and relu,tanh: a deeper MLP).
 * The library's checks are the only judges of a value (resolveConfig; checkPoolFits for the minibatch
 * against the workers and the data); their AevbError is shown next to the control, in the page's
 * words (error_words.ts). While a run exists only the epochs can change.
 */
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../shared/training/config.ts';
import { AevbError } from '../../shared/errors.ts';
import { h } from './dom.ts';
import { OWN_SETTING_LABELS, pageMessage, pageProblem } from './error_words.ts';
import { CONFIG_FIELDS, pageOptions, type FieldRow } from '../../shared/training/config_fields.ts';
import type { KernelChoice } from '../../shared/runtime/protocol.ts';
import { checkPoolFits, MAX_WORKERS } from '../api_checks.ts';

export type SettingKey = keyof TrainConfig | 'workers' | 'kernels';

interface FieldSpec {
  key: SettingKey;
  label: string;
  /** 'layers': text, one value or a comma list with one per hidden layer (`suggest` offered for each). */
  kind: 'int' | 'real' | 'select' | 'checkbox' | 'workers' | 'layers';
  help: string;
  options?: readonly (readonly [string, string])[];
  /** 'layers' only: whether each item is a number, and the values offered as suggestions. */
  numeric?: boolean;
  suggest?: readonly string[];
  /** May change while a run exists. */
  live?: boolean;
  /** Its key in the page's address. */
  address: string;
  order: number;
}

/** A config field's control, from its row of the field table (config_fields.ts). */
function fromRow(r: FieldRow): FieldSpec {
  const p = r.page!;
  const kind =
    p.control === 'number'
      ? p.step === 1
        ? 'int'
        : 'real'
      : p.control === 'list'
        ? 'layers'
        : p.control === 'select'
          ? 'select'
          : 'checkbox';
  return {
    key: r.field,
    label: r.label,
    kind,
    help: p.help,
    ...(p.control === 'select' ? { options: pageOptions(r) } : {}),
    ...(p.control === 'list' ? { numeric: r.choices === undefined, suggest: p.suggest } : {}),
    ...(p.live ? { live: true } : {}),
    address: r.address ?? r.field,
    order: p.order,
  };
}

/** The page's own settings, which are not config fields: the step's kernels and the workers. */
const OWN_FIELDS: readonly FieldSpec[] = [
  {
    key: 'kernels',
    label: OWN_SETTING_LABELS.kernels,
    kind: 'select',
    help: "What computes each step: aevb's own WASM SIMD kernels (the default) or TensorFlow.js (the reference they are tested against)",
    options: [
      ['aevb', 'aevb'],
      ['tfjs', 'TensorFlow.js'],
    ],
    address: 'kernels',
    order: 15,
  },
  {
    key: 'workers',
    label: OWN_SETTING_LABELS.workers,
    kind: 'workers',
    help: 'Web Workers that share each minibatch: a number, or auto (the default: one per core, and the count that measures fastest trains)',
    address: 'workers',
    order: 16,
  },
];

/** The form's controls, in its order: every config field with a page control, and the page's own. */
const FIELDS: readonly FieldSpec[] = [...CONFIG_FIELDS.filter((r) => r.page).map(fromRow), ...OWN_FIELDS].sort((a, b) => a.order - b.order);

/** The page's starting point: the paper's settings, with J = 2 so that the manifold can be drawn. */
export const APP_DEFAULTS: Readonly<Partial<TrainConfig>> = Object.freeze({ latent: 2, epochs: 100 });

export interface Settings {
  config: Partial<TrainConfig>;
  /** A count, or 'auto' (see the library's workers option). */
  workers: number | 'auto';
  /** The step's kernels (the library's kernels option). */
  kernels: KernelChoice;
}

/** The page's default kernels: the library's. */
const DEFAULT_KERNELS: KernelChoice = 'aevb';

export type Validation = { ok: true; settings: Settings } | { ok: false; key: SettingKey; message: string };

type Control = HTMLInputElement | HTMLSelectElement;

/**
 * The control an error is about, and what to say next to it in the page's words: the AevbError's
 * `field` (set by resolveConfig and the pool's checks, kept across the worker boundary) names the
 * setting, its `problem`, with the label, says what is wrong with it (error_words.ts).
 * Undefined when the error is not about a setting on this form.
 */
export function fieldError(e: unknown): { key: SettingKey; message: string } | undefined {
  if (!(e instanceof AevbError) || e.field === undefined) return undefined;
  const spec = FIELDS.find((f) => f.key === e.field);
  return spec && { key: spec.key, message: pageProblem(e) };
}

export class SettingsForm {
  private controls = new Map<SettingKey, Control>();
  private errors = new Map<SettingKey, HTMLElement>();

  constructor(
    readonly form: HTMLFormElement,
    defaultWorkers: number | 'auto',
    private readonly onChange: () => void,
  ) {
    for (const f of FIELDS) form.append(this.build(f));
    this.set({ ...DEFAULT_CONFIG, ...APP_DEFAULTS }, defaultWorkers, DEFAULT_KERNELS);
    form.addEventListener('input', () => {
      this.check();
      this.onChange();
    });
    form.addEventListener('submit', (e) => e.preventDefault());
  }

  private build(f: FieldSpec): HTMLElement {
    const id = `setting-${f.key}`;
    const error = h('span', { id: `${id}-error`, className: 'field-error' });
    error.setAttribute('role', 'alert');
    let control: Control;
    const extra: HTMLElement[] = [];
    if (f.kind === 'select') {
      control = h('select', { id, name: f.key, title: f.help }, ...f.options!.map(([v, t]) => h('option', { value: v }, t)));
    } else {
      const type = f.kind === 'checkbox' ? 'checkbox' : f.kind === 'workers' || f.kind === 'layers' ? 'text' : 'number';
      control = h('input', { id, name: f.key, title: f.help, type });
      if (f.kind === 'workers') control.setAttribute('placeholder', 'auto');
      else if (f.kind === 'layers') {
        // Suggestions, not a closed list: any comma list the validator accepts is a model.
        const list = h('datalist', { id: `${id}-list` }, ...f.suggest!.map((v) => h('option', { value: v })));
        control.setAttribute('list', list.id);
        control.setAttribute('spellcheck', 'false');
        extra.push(list);
      } else if (f.kind !== 'checkbox') control.setAttribute('step', f.kind === 'int' ? '1' : 'any');
      if (f.kind === 'int') control.setAttribute('inputmode', 'numeric');
    }
    control.setAttribute('aria-describedby', error.id);
    this.controls.set(f.key, control);
    this.errors.set(f.key, error);
    const label = h('label', { htmlFor: id, title: f.help }, f.label);
    return f.kind === 'checkbox'
      ? h('div', { className: 'field field-check' }, control, label, error)
      : h('div', { className: 'field' }, label, control, ...extra, error);
  }

  /** Fill the controls (defaults, or a loaded checkpoint's config). Lists show as comma lists (512,256). */
  set(config: Partial<TrainConfig>, workers?: number | 'auto', kernels?: KernelChoice): void {
    for (const f of FIELDS) {
      const c = this.controls.get(f.key)!;
      const v = f.key === 'workers' ? workers : f.key === 'kernels' ? kernels : config[f.key as keyof TrainConfig];
      if (v === undefined) continue;
      if (c instanceof HTMLInputElement && c.type === 'checkbox') c.checked = Boolean(v);
      else c.value = String(v);
    }
    this.check();
  }

  private raw(key: SettingKey): unknown {
    const c = this.controls.get(key)!;
    if (c instanceof HTMLInputElement && c.type === 'checkbox') return c.checked;
    if (c instanceof HTMLSelectElement) return c.value;
    const text = c.value.trim();
    const spec = FIELDS.find((f) => f.key === key)!;
    if (spec.kind === 'layers') {
      // One value, or one per hidden layer; an unreadable width goes to the validator as text, quoted.
      const items = text.split(',').map((t) => t.trim());
      const values = spec.numeric ? items.map((t) => (t === '' || !Number.isFinite(Number(t)) ? t : Number(t))) : items;
      return values.length === 1 ? values[0] : values;
    }
    if (key === 'workers' && (text === '' || text.toLowerCase() === 'auto')) return 'auto';
    const num = Number(text);
    // A blank or unreadable entry goes to the validator as text, so its message quotes it.
    return text === '' || !Number.isFinite(num) ? text : num;
  }

  /** Validate everything; show the first problem next to its control. `trainSize` also checks M ≤ N. */
  check(trainSize?: number): Validation {
    const config: Partial<TrainConfig> = {};
    for (const f of FIELDS) if (f.key !== 'workers' && f.key !== 'kernels') (config as Record<string, unknown>)[f.key] = this.raw(f.key);
    const result = this.validate(config, this.raw('workers'), this.raw('kernels') as KernelChoice, trainSize);
    this.errors.forEach((el, key) => {
      const msg = !result.ok && result.key === key ? result.message : '';
      el.textContent = msg;
      this.controls.get(key)!.setAttribute('aria-invalid', String(msg !== ''));
    });
    return result;
  }

  private validate(config: Partial<TrainConfig>, workers: unknown, kernels: KernelChoice, trainSize?: number): Validation {
    try {
      resolveConfig(config);
    } catch (e) {
      const f = fieldError(e);
      return f ? { ok: false, ...f } : { ok: false, key: 'latent', message: pageMessage(e) };
    }
    if (workers !== 'auto' && (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)) {
      return {
        ok: false,
        key: 'workers',
        message: `Workers is ${JSON.stringify(workers)}; it must be auto or a whole number from 1 to ${MAX_WORKERS}.`,
      };
    }
    // The library's own check (Trainer.create makes it too), in the page's words: too few datapoints
    // per minibatch for the workers is said beside Workers, a minibatch larger than the data beside Minibatch.
    try {
      checkPoolFits(workers === 'auto' ? 1 : (workers as number), config.batch!, trainSize ?? Number.POSITIVE_INFINITY);
    } catch (e) {
      if (!(e instanceof AevbError)) throw e;
      return { ok: false, key: e.remedy?.id === 'batch-at-least' ? 'workers' : 'batch', message: pageMessage(e) };
    }
    return { ok: true, settings: { config, workers: workers as number | 'auto', kernels } };
  }

  /** Show a message (e.g. from starting the pool) next to a control. */
  showError(key: SettingKey, message: string): void {
    this.errors.get(key)!.textContent = message;
    this.controls.get(key)!.setAttribute('aria-invalid', 'true');
  }

  /** While a run exists, everything but the live fields is fixed. */
  lock(locked: boolean): void {
    for (const f of FIELDS) this.controls.get(f.key)!.disabled = locked && !f.live;
  }

  /** Every control's entry as text (checkboxes as "true"/"false") by its address key: what a link to these settings carries. */
  entries(): [string, string][] {
    return FIELDS.map((f) => {
      const c = this.controls.get(f.key)!;
      return [f.address, c instanceof HTMLInputElement && c.type === 'checkbox' ? String(c.checked) : c.value.trim()];
    });
  }

  /** The setting whose address key is `address`, if this form has one. */
  keyOfAddress(address: string): SettingKey | undefined {
    return FIELDS.find((f) => f.address === address)?.key;
  }

  /** Whether `key` is a setting of this form. */
  has(key: string): key is SettingKey {
    return this.controls.has(key as SettingKey);
  }

  /** The label of a setting, as the form shows it. */
  label(key: SettingKey): string {
    return FIELDS.find((f) => f.key === key)!.label;
  }

  /**
   * Put `text` into a control if the form's validator accepts the result; else leave the control
   * as it was and return the validator's message.
   */
  tryEntry(key: SettingKey, text: string): string | undefined {
    const c = this.controls.get(key)!;
    const box = c instanceof HTMLInputElement && c.type === 'checkbox';
    if (box && text !== 'true' && text !== 'false') return `${this.label(key)} is "${text}"; it must be true or false.`;
    if (c instanceof HTMLSelectElement && ![...c.options].some((o) => o.value === text)) {
      return `${this.label(key)} is "${text}"; it must be one of ${[...c.options].map((o) => o.value).join(', ')}.`;
    }
    if (c instanceof HTMLInputElement && c.type === 'number' && (text === '' || !Number.isFinite(Number(text)))) {
      return `${this.label(key)} is "${text}"; it must be a number.`;
    }
    const before = box ? String((c as HTMLInputElement).checked) : c.value;
    const put = (t: string) => {
      if (box) (c as HTMLInputElement).checked = t === 'true';
      else c.value = t;
    };
    put(text);
    const r = this.check();
    if (!r.ok && r.key === key) {
      const message = r.message;
      put(before);
      this.check();
      return message;
    }
    return undefined;
  }

  /** The Kernels choice (a select: always one of its options). Runs restored or reloaded use it too. */
  kernels(): KernelChoice {
    return this.raw('kernels') as KernelChoice;
  }

  /** The current epochs entry, when valid. */
  epochs(): number | undefined {
    const v = this.raw('epochs');
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
  }
}
