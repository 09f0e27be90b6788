// Train aevb on the app's own data and show samples from the prior as it learns.
import { createTrainer, isAevbError } from 'aevb';
import { bars, SIDE } from './data.js';

const status = document.getElementById('status');
const canvas = document.getElementById('samples');
// Read by the package's end-to-end test: what ran, and any error.
const report = (window.aevbExample = { steps: 0, transport: '', samples: 0, elbo: NaN, error: '' });

async function main() {
  const trainer = await createTrainer({
    data: { train: bars(600, 1), test: bars(100, 2) },
    workers: 2,
    config: { hidden: 64, latent: 2, batch: 50, optimizer: 'adam', lr: 0.003, init: 'pytorch', epochs: 1000 },
  });
  report.transport = trainer.transport;
  trainer.on('progress', (p) => { if (p.elbo !== undefined) report.elbo = p.elbo; });
  for (let round = 0; round < 1000; round++) {
    await trainer.runSteps(12);
    report.steps = trainer.step;
    await draw(await trainer.sample(8));
    status.textContent = `step ${trainer.step} · ELBO ${report.elbo.toFixed(1)} · ${trainer.transport} memory, ${trainer.workers} workers`;
  }
}

async function draw(samples) {
  const n = samples.length / (SIDE * SIDE), img = new ImageData(SIDE * n, SIDE);
  for (let k = 0; k < n; k++) {
    for (let p = 0; p < SIDE * SIDE; p++) {
      const v = Math.round(255 * samples[k * SIDE * SIDE + p]), o = 4 * ((p / SIDE | 0) * SIDE * n + k * SIDE + (p % SIDE));
      img.data.set([v, v, v, 255], o);
    }
  }
  const bitmap = await createImageBitmap(img);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  report.samples++;
}

main().catch((e) => {
  report.error = isAevbError(e) ? `${e.code}: ${e.message}` : String(e?.stack ?? e);
  status.textContent = report.error;
  console.error(e);
});
