/**
 * A link's settings against the run saved in this browser (TensorFlow Playground's rule: the link
 * wins). Opened with settings in the address while a saved run exists, the page compares the
 * settings the link names with the saved run's; when they differ it asks (open the saved run, or
 * start with the link's settings) instead of silently showing the saved run and rewriting the
 * address. A reload of the page's own address (the run's settings) differs in nothing: no question.
 */
import { decodeCheckpoint } from '../../shared/formats/checkpoint.ts';
import type { SettingKey, SettingsForm } from './settings_form.ts';
import { applyUrlSettings, settingsHash } from './url_settings.ts';
import type { Saved } from './store.ts';

/** One setting the link names with another value than the saved run's. */
export interface LinkDifference {
  key: SettingKey;
  link: string;
  saved: string;
}

/**
 * The settings that the link (the address's hash, already applied to `form`) names with other
 * values than the saved run has. Epochs is left out: it may change during a run, and the form's
 * value is what the run takes on Resume. The form is left as the link made it.
 */
export async function linkDifferences(form: SettingsForm, hash: string, saved: Saved): Promise<LinkDifference[]> {
  const named = new Set([...new URLSearchParams(hash.replace(/^#/, '')).keys()].filter((k) => form.has(k) && k !== 'epochs'));
  if (!named.size) return [];
  const fromLink = new Map(form.entries());
  const asLink = settingsHash(form);
  const { config } = decodeCheckpoint(new Uint8Array(await saved.run.checkpoint.arrayBuffer()), 'the saved run');
  form.set(config, saved.run.workers);
  const fromSaved = new Map(form.entries());
  applyUrlSettings(form, asLink); // back to the link's values, every field
  return [...named]
    .map((k) => k as SettingKey)
    .filter((k) => fromLink.get(k) !== fromSaved.get(k))
    .map((key) => ({ key, link: fromLink.get(key)!, saved: fromSaved.get(key)! }));
}

/** "latent 7, hidden 100" (the address's names and the link's or the saved run's values). */
export function describeDifferences(d: readonly LinkDifference[], side: 'link' | 'saved'): string {
  return d.map((x) => `${x.key} ${x[side]}`).join(', ');
}
