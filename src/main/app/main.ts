/**
 * The app's entry (index.html loads it): find the page's elements, start the controller, load the
 * saved run or the embedded digits, and expose the read-only debug hook window.aevbApp.
 */
import './app.css';
import { App } from './app.ts';
import { installDebugHook } from './debug_hook.ts';
import { findView } from './view.ts';

const app = new App(findView());
installDebugHook(app);
app.init().catch((e: unknown) => {
  document.getElementById('status-line')!.textContent = `The app could not start: ${e instanceof Error ? e.message : String(e)}`;
});
