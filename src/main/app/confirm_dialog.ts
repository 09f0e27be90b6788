/**
 * Asking before something is lost: an in-page modal <dialog> (index.html #confirm) with the
 * action's own words on its button (and the other choice's, Keep the current run by default).
 * Resolves true for the action, false for the other choice (or Escape).
 */
import { byId } from './dom.ts';

export function confirmAction(text: string, action: string, keep = 'Keep the current run'): Promise<boolean> {
  const dialog = byId('confirm', HTMLDialogElement);
  byId('confirm-text').textContent = text;
  byId('confirm-ok', HTMLButtonElement).textContent = action;
  byId('confirm-cancel', HTMLButtonElement).textContent = keep;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    byId('confirm-cancel', HTMLButtonElement).focus(); // the safe choice has the focus
  });
}
