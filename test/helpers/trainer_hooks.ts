/**
 * Test-only access to a trainer's pool (not part of the package's API): end a worker as a crash
 * would, inject a NaN gradient, or make a worker end itself at a point of a step or call.
 */
export { testHooks } from '../../src/main/trainer.ts';
