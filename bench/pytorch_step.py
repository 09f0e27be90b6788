"""Native PyTorch's training step on the same model, for the per-core comparison in BENCHMARKS.md.

One thread (torch.set_num_threads(1)), the example's module (examples/pytorch/aevb_model.py), real MNIST
digits from aevb's embedded set (public/mnist-digits.bin, made by `npm start` / `npm test`, or any [N, 784]
float32 file), estimator B, L = 1, M = 100: per step, the forward pass, backward and the optimizer's step,
no ELBO value beyond what the loss needs. Medians of interleaved rounds.

  /usr/bin/python3 bench/pytorch_step.py [--rounds 7] [--steps 20] [--batch 100]
"""
import argparse
import gzip
import struct
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'examples', 'pytorch'))
from aevb_model import AEVB  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--rounds', type=int, default=7)
p.add_argument('--steps', type=int, default=20)
p.add_argument('--batch', type=int, default=100)
p.add_argument('--digits', default=os.path.join(os.path.dirname(__file__), '..', 'public', 'mnist-digits.bin'))
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(1)

# public/mnist-digits.bin (scripts/prepare-mnist.mjs): gzip of a header (magic, N, D, class counts, a table of
# 256 grey levels in thousandths), N labels, then N·D pixel bytes, each an index into the table.
raw = gzip.decompress(open(a.digits, 'rb').read())
N, D = struct.unpack_from('<II', raw, 8)
levels = torch.tensor(struct.unpack_from('<256H', raw, 56), dtype=torch.float32) / 1000
pixels = torch.frombuffer(bytearray(raw[568 + N: 568 + N + N * D]), dtype=torch.uint8).long()
x_all = levels[pixels].reshape(N, D)

SETTINGS = [
    ('paper: H 500 tanh, Adagrad 0.01', dict(hidden=500, activation='tanh'), lambda ps: torch.optim.Adagrad(ps, lr=0.01)),
    ('H 400 relu, Adam 1e-3', dict(hidden=400, activation='relu'), lambda ps: torch.optim.Adam(ps, lr=1e-3)),
]
models = []
for name, cfg, opt in SETTINGS:
    m = AEVB(784, latent=20, **cfg)
    models.append((name, m, opt(m.parameters())))


def run(m, o, steps, offset):
    M = a.batch
    for s in range(steps):
        i = ((offset + s) * M) % (x_all.shape[0] - M)
        x = x_all[i:i + M]
        eps = torch.randn(1, M, 20)
        loss = -m.elbo(x, eps).mean()
        o.zero_grad(set_to_none=True)
        loss.backward()
        o.step()


times = {name: [] for name, _, _ in models}
for name, m, o in models:
    run(m, o, 5, 0)
for r in range(a.rounds):
    for name, m, o in models[r % 2:] + models[: r % 2]:
        t0 = time.perf_counter()
        run(m, o, a.steps, r * a.steps)
        times[name].append((time.perf_counter() - t0) * 1000 / a.steps)
print(f'Native PyTorch {torch.__version__}, 1 thread, M = {a.batch}, medians of {a.rounds} rounds of {a.steps} steps')
for name, _, _ in models:
    ms = statistics.median(times[name])
    print(f'| {name} | {ms:.2f} ms/step | {a.batch * 1000 / ms:.0f} samples/s |')
