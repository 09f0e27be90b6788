/**
 * Quality benchmark (not a test): train to the end on the embedded MNIST split and report the
 * test ELBO and the importance-sampled log p(x), for comparison with a native PyTorch run of the
 * same configuration on the same split (numbers in BENCHMARKS.md).
 *
 *   npx tsx bench/quality.ts pytorch|paper [--epochs 50] [--seed 1] [--k 1000] [--json FILE]
 *
 * 'pytorch': pytorch/examples' VAE: H 400, relu, J 20, Adam 1e-3, M 128, PyTorch init, estimator B.
 * 'paper':   the paper's MNIST setting: H 500, tanh, J 20, Adagrad 0.01, M 100, N(0, 0.01²) init.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { resolveConfig, type TrainConfig } from '../src/shared/training/config.ts';
import { LocalTrainer } from '../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { setupNodeBackend } from '../src/main/node/tfjs_node.ts';
import { evaluateLogLikelihood } from '../src/shared/model/evaluate.ts';

const PRESETS: Record<string, Partial<TrainConfig>> = {
  pytorch: { hidden: 400, activation: 'relu', latent: 20, optimizer: 'adam', lr: 1e-3, batch: 128, init: 'pytorch', estimator: 'B' },
  paper: { hidden: 500, activation: 'tanh', latent: 20, optimizer: 'adagrad', lr: 0.01, batch: 100, init: 'paper', estimator: 'B' },
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { epochs: { type: 'string' }, seed: { type: 'string' }, k: { type: 'string' }, json: { type: 'string' } },
});
const preset = positionals[0] ?? 'pytorch';
if (!PRESETS[preset]) throw new Error(`Unknown preset ${preset}: use pytorch or paper`);
const epochs = Number(values.epochs ?? 50),
  seed = Number(values.seed ?? 1),
  K = Number(values.k ?? 1000);

await setupNodeBackend('wasm');
const data = loadEmbeddedMnist();
const cfg = resolveConfig({ ...PRESETS[preset], epochs, seed, inputSize: 784 });
const trainer = new LocalTrainer(cfg, data);
const curve: Array<{ epoch: number; testElbo: number; trainElbo: number }> = [];
const t0 = performance.now();
for (let e = 1; e <= epochs; e++) {
  for (let k = 0; k < trainer.stepsPerEpoch; k++) trainer.step(false);
  const ev = trainer.evaluate(0);
  curve.push({ epoch: e, testElbo: ev.testElbo, trainElbo: ev.trainElbo });
  console.log(`${preset} seed ${seed} epoch ${e}: train ELBO ${ev.trainElbo.toFixed(2)}, test ELBO ${ev.testElbo.toFixed(2)}`);
}
const trainSeconds = (performance.now() - t0) / 1000;
const t1 = performance.now();
const logpx = evaluateLogLikelihood(cfg, trainer.state.params, data.test, K, seed);
const last = curve[curve.length - 1];
const result = {
  preset,
  seed,
  epochs,
  config: cfg,
  testElbo: last.testElbo,
  trainElbo: last.trainElbo,
  logLikelihood: logpx,
  K,
  trainSeconds,
  isSeconds: (performance.now() - t1) / 1000,
  curve,
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
};
console.log(
  `RESULT ${preset} seed ${seed}: test ELBO ${last.testElbo.toFixed(2)}, log p(x) (K=${K}) ${logpx.toFixed(2)}, ${trainSeconds.toFixed(0)} s`,
);
if (values.json) fs.writeFileSync(values.json, JSON.stringify(result, null, 2));
trainer.dispose();
