/**
 * Asking before something is lost: an in-page modal <dialog> (index.html #confirm) with the
 * action's own words on its button. Resolves true for the action, false for Keep (or Escape).
 */
import { byId } from './dom.ts';

export function confirmAction(text: string, action: string): Promise<boolean> {
  const dialog = byId('confirm', HTMLDialogElement);
  byId('confirm-text').textContent = text;
  byId('confirm-ok', HTMLButtonElement).textContent = action;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    byId('confirm-cancel', HTMLButtonElement).focus(); // the safe choice has the focus
  });
}
