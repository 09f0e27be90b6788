"""Evaluate a model.safetensors (aevb's export, or train.py's) in PyTorch.

    python3 evaluate.py model.safetensors --test-data t10k-images-idx3-float [--draws 100]

Prints the test ELBO per datapoint:
  - with aevb's own epsilon (Philox4x32-10, src/shared/training/rng.ts; the evaluation noise of
    src/shared/model/evaluate.ts: S draws per datapoint, the test set's stream, keyed by the model's step),
    in float64: `npm run export -- --evaluate` of the same model on the same data must agree with it
    to float32 rounding (S is the config's evalElboSamples, 2 by default; --samples S changes it);
  - with its recon and KL parts (the KL term of estimator B has no noise), and its standard error;
  - with --draws S fresh torch draws per datapoint (an estimate independent of aevb's noise).
"""
import argparse

import torch

from aevb_model import AEVB, config_from_metadata, evaluate_elbo, load_images, load_safetensors, split_every_kth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--test-data', help='IDX images of the test set')
    ap.add_argument('--data', help='one IDX file, split like aevb (every k-th to test) when --test-data is not given')
    ap.add_argument('--test-fraction', type=float, default=0.1)
    ap.add_argument('--samples', type=int, help="S, draws of aevb's epsilon per datapoint (default: the config's evalElboSamples)")
    ap.add_argument('--draws', type=int, default=0, help='also estimate the ELBO with S torch draws of epsilon per datapoint')
    a = ap.parse_args()
    tensors, meta = load_safetensors(a.model)
    cfg = config_from_metadata(meta, tensors)
    model = AEVB(**cfg)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith('optimizer.')})
    x = load_images(a.test_data) if a.test_data else split_every_kth(load_images(a.data), a.test_fraction)[1]
    step = int(meta.get('step', 0))
    S = a.samples if a.samples is not None else int(cfg.get('evalElboSamples', 2))
    elbo, recon, kl, se = evaluate_elbo(model, x, cfg['seed'], split='test', draw=step, samples=S)
    print(f'{a.model} (step {step}): test ELBO {elbo:.6f}{"" if se is None else f" ± {se:.6f}"} (S={S}; recon {recon:.6f}, KL {kl:.6f}) '
          f'on {x.shape[0]} datapoints, aevb\'s epsilon, float64')
    if a.draws:
        torch.manual_seed(0)
        with torch.no_grad():
            total = 0.0
            for s in range(0, x.shape[0], 200):
                xb = x[s:s + 200].double()
                m = model.double()
                total += m.elbo(xb, torch.randn(a.draws, xb.shape[0], model.J, dtype=torch.float64), 'B').sum().item()
            model.float()
        print(f'test ELBO {total / x.shape[0]:.6f} with {a.draws} torch draws of epsilon per datapoint')


if __name__ == '__main__':
    main()
