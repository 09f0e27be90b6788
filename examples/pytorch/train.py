"""Train aevb's model on in PyTorch, on one process or many (torchrun + DistributedDataParallel).

    torchrun --nproc_per_node 2 --redirects 1 --tee 1 train.py --resume model.safetensors \\
        --data train-images-idx3-float --test-data t10k-images-idx3-float --epochs 4 --out trained.safetensors

Resumes from aevb's export (parameters, optimizer state, step, config from the metadata) or from
a bare state_dict (then give the settings as flags), runs estimator B or A with aevb's update
rules (torch.optim with aevb's constants), and writes model.safetensors back in aevb's naming,
with the optimizer state and the new step, so `npm run train -- --resume trained.safetensors`
and the page's "Load checkpoint" continue from it.

Parallelism: the global minibatch of M datapoints is split over the N processes (M/N each); each
process averages its part's loss and DDP averages the gradients, so an update is the gradient of
the mean over all M, as in aevb. --epochs counts total passes (as in aevb): a model at epoch 2
trained with --epochs 4 gets 2 more. The epsilon and minibatch order come from torch's generator,
seeded by the seed and step, not from aevb's Philox streams (the evaluation uses aevb's epsilon: S
draws per datapoint, the test set's noise at the model's step, as aevb's evaluation at that step).

torchrun's flags in the form both Debian's torch 1.13 and torch 2.x take: --nproc_per_node (1.13
knows no --nproc-per-node), and --redirects 1 --tee 1 (1.13 under Python 3.11 fails in `to_map`
without them).
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from aevb_model import (AEVB, OPT_SLOTS, config_from_metadata, evaluate_elbo, load_images, load_optimizer_state,
                        load_safetensors, make_optimizer, save_safetensors, split_every_kth, state_tensors)


def fmt_se(se):
    return '' if se is None else f' ± {se:.6f}'


class Objective(torch.nn.Module):
    """The minibatch loss -mean ELBO as a module's forward, so DDP sees (and syncs) one call per step."""

    def __init__(self, model, estimator, samples):
        super().__init__()
        self.model, self.estimator, self.samples = model, estimator, samples

    def forward(self, x, eps):
        return -self.model.elbo(x, eps, self.estimator).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--resume', required=True, help="aevb's model.safetensors (or a state_dict saved as safetensors)")
    ap.add_argument('--data', required=True, help='IDX training images (ubyte or float32, .gz ok)')
    ap.add_argument('--test-data', help='IDX test images; without it every k-th training image is held out, as aevb does')
    ap.add_argument('--test-fraction', type=float, default=0.1)
    ap.add_argument('--epochs', type=int, required=True, help='total passes over the training set (the step continues)')
    ap.add_argument('--out', default='trained.safetensors')
    for flag, kind in [('lr', float), ('batch', int), ('optimizer', str), ('estimator', str), ('seed', int)]:
        ap.add_argument(f'--{flag}', type=kind, help=f'override the file\'s {flag}')
    ap.add_argument('--threads', type=int, default=1, help='torch threads per process (default 1: one core each)')
    a = ap.parse_args()

    distributed = 'RANK' in os.environ
    if int(os.environ.get('RANK', '0')) == 0:
        # Before training, not after it: a missing directory must not cost the epochs just trained.
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if distributed:
        dist.init_process_group('gloo')   # CPU; use 'nccl' with one GPU per process on a cluster
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.set_num_threads(a.threads)

    tensors, meta = load_safetensors(a.resume)
    cfg = config_from_metadata(meta, tensors)
    for k in ('lr', 'batch', 'optimizer', 'estimator', 'seed'):
        if getattr(a, k) is not None:
            cfg[k] = getattr(a, k)
    cfg['epochs'] = a.epochs
    cfg['algorithm'] = 'aevb'   # this script trains by AEVB, whatever trained the file it started from
    model = AEVB(**cfg)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith('optimizer.')})
    step = int(meta.get('step', 0))
    samples_seen = int(meta.get('samples_seen', step * cfg['batch']))
    opt = make_optimizer(cfg['optimizer'], model.parameters(), cfg['lr'], cfg['weightDecay'])
    had_state = load_optimizer_state(opt, model, cfg['optimizer'], tensors, step)

    x_train = load_images(a.data)
    x_test = load_images(a.test_data) if a.test_data else None
    if x_test is None:
        x_train, x_test = split_every_kth(x_train, a.test_fraction)
    M, N = cfg['batch'], x_train.shape[0]
    if M % world:
        raise SystemExit(f'--batch {M} must be a multiple of the {world} processes')
    per_rank, steps_per_epoch = M // world, N // M
    S = int(cfg.get('evalElboSamples', 2))   # aevb's draws of epsilon per datapoint in an evaluation
    objective = Objective(model, cfg['estimator'], cfg['samples'])
    ddp = DDP(objective) if distributed else objective
    if rank == 0:
        print(f'{a.resume}: step {step} (epoch {step // steps_per_epoch}), {cfg["optimizer"]} lr={cfg["lr"]}'
              f'{" with its optimizer state" if had_state else ", fresh optimizer state"}; {N} train / {x_test.shape[0]} test; '
              f'{world} process{"es" if world > 1 else ""} x {per_rank} datapoints', flush=True)
        elbo, recon, kl, se = evaluate_elbo(model, x_test, cfg['seed'], split='test', draw=step, samples=S)
        print(f'  start: test ELBO {elbo:.6f}{fmt_se(se)} (S={S}; recon {recon:.4f}, KL {kl:.4f})', flush=True)

    total = a.epochs * steps_per_epoch
    t0 = time.time()
    while step < total:
        epoch = step // steps_per_epoch
        # The same permutation on every process (seeded by seed and epoch); each takes its slice of every minibatch.
        perm = torch.randperm(N, generator=torch.Generator().manual_seed(cfg['seed'] * 1_000_003 + epoch))
        for b in range(step - epoch * steps_per_epoch, steps_per_epoch):
            rows = perm[b * M + rank * per_rank: b * M + (rank + 1) * per_rank]
            xb = x_train[rows]
            g = torch.Generator().manual_seed((cfg['seed'] * 1_000_003 + step) * 4096 + rank)
            if cfg['binarize']:
                xb = torch.bernoulli(xb, generator=g)
            eps = torch.randn(cfg['samples'], per_rank, cfg['latent'], generator=g)
            opt.zero_grad(set_to_none=True)
            loss = ddp(xb, eps)
            loss.backward()
            opt.step()
            step += 1
            samples_seen += M
        if rank == 0:
            elbo, recon, kl, se = evaluate_elbo(model, x_test, cfg['seed'], split='test', draw=step, samples=S)
            print(f'epoch {epoch + 1}/{a.epochs}  test ELBO {elbo:.6f}{fmt_se(se)} (S={S}; recon {recon:.4f}, KL {kl:.4f})  '
                  f'{samples_seen:,} samples seen  {time.time() - t0:.1f} s', flush=True)

    if rank == 0:
        save_safetensors(a.out, state_tensors(model, opt, cfg['optimizer']), {
            'format': 'aevb-pytorch', 'format_version': '1', 'config': json.dumps(cfg), 'step': step,
            'samples_seen': samples_seen, 'seed': cfg['seed'], 'optimizer': cfg['optimizer'],
            'data': json.dumps({'name': os.path.basename(a.data), 'n': N, 'd': x_train.shape[1], 'fingerprint': ''}),
            'created_at': time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime()), 'written_by': f'examples/pytorch/train.py, {world} processes',
        })
        print(f'Wrote {a.out}: step {step}, optimizer state {", ".join(OPT_SLOTS[cfg["optimizer"]]) or "none"}.', flush=True)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
