/**
 * The settings in the page's address, so that a link shares them (as TensorFlow Playground's):
 * #latent=2&hidden=500&lr=0.02&workers=4… (a deeper model: #hidden=512,256&activation=relu,tanh;
 * the step's kernels: &kernels=tfjs). The keys are the settings' address keys, from the field table
 * (config_fields.ts) and the form's own rows (settings_form.ts). Read once at load, each value through the form's own
 * validator (a bad or unknown one is reported and not applied); written back (replaceState, no
 * new history entry) whenever the form changes. The hash, not the query: ?subset= stays the
 * data's, and nothing of it goes to the server.
 */
import type { SettingsForm } from './settings_form.ts';

/** The settings of `hash` put into the form; returns one line per value that was not applied. */
export function applyUrlSettings(form: SettingsForm, hash: string): string[] {
  const problems: string[] = [];
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  for (const [address, value] of params) {
    const key = form.keyOfAddress(address);
    if (key === undefined) {
      problems.push(`"${address}" is not a setting of this page.`);
      continue;
    }
    const error = form.tryEntry(key, value);
    if (error) problems.push(error);
  }
  return problems;
}

/**
 * The hash for the form's current entries. Commas (layer lists) are left as they are: legal in a
 * fragment, read back the same by URLSearchParams, and a link reads hidden=512,256 not 512%2C256.
 */
export function settingsHash(form: SettingsForm): string {
  return `#${new URLSearchParams(form.entries()).toString().replaceAll('%2C', ',')}`;
}

/** Keep the address in step with the form. */
export function writeUrlSettings(form: SettingsForm): void {
  const hash = settingsHash(form);
  if (location.hash !== hash) history.replaceState(history.state, '', hash);
}
