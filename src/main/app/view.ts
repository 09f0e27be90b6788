/** Every element of index.html the app touches, looked up once (a missing one fails at start). */
import { byId } from './dom.ts';

export function findView() {
  return {
    status: byId('status-line'),
    isolationBanner: byId('isolation-banner'),
    restoreBanner: byId('restore-banner'),
    restoreText: byId('restore-text'),
    restoreResume: byId('restore-resume', HTMLButtonElement),
    restoreDiscard: byId('restore-discard', HTMLButtonElement),
    dataDesc: byId('data-desc'),
    dropZone: byId('drop-zone'),
    dataFiles: byId('data-files', HTMLInputElement),
    dataEmbedded: byId('data-embedded', HTMLButtonElement),
    dataError: byId('data-error'),
    settings: byId('settings', HTMLFormElement),
    start: byId('start', HTMLButtonElement),
    pause: byId('pause', HTMLButtonElement),
    reset: byId('reset', HTMLButtonElement),
    restorePrevious: byId('restore-previous', HTMLButtonElement),
    runError: byId('run-error'),
    saveCheckpoint: byId('save-checkpoint', HTMLButtonElement),
    exportDecoder: byId('export-decoder', HTMLButtonElement),
    loadCheckpoint: byId('load-checkpoint', HTMLInputElement),
    keepError: byId('keep-error'),
    chart: byId('chart'),
    stats: byId('stats'),
    workers: byId('workers'),
    loglikK: byId('loglik-k', HTMLInputElement),
    loglik: byId('loglik', HTMLButtonElement),
    loglikResult: byId('loglik-result'),
    loglikCancel: byId('loglik-cancel', HTMLButtonElement),
    loglikProgress: byId('loglik-progress', HTMLProgressElement),
    recon: byId('recon', HTMLCanvasElement),
    samples: byId('samples', HTMLCanvasElement),
    manifold: byId('manifold', HTMLCanvasElement),
    manifoldNote: byId('manifold-note'),
    latent: byId('latent', HTMLCanvasElement),
    latentAxes: byId('latent-axes'),
    legend: byId('latent-legend'),
  };
}

export type View = ReturnType<typeof findView>;
