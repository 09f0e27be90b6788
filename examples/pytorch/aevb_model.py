"""aevb's model as a PyTorch module, and the files it trades with aevb.

Auto-Encoding Variational Bayes (Kingma & Welling 2013), the paper's MLPs (appendix C):
  encoder q(z|x) = N(mu, diag sigma^2):  h = act(W3 x + b3), mu = W4 h + b4, log sigma^2 = W5 h + b5
  Bernoulli decoder: y = sigmoid(W2 act(W1 z + b1) + b2)
  Gaussian decoder:  h' = act(W1 z + b1), mu_x = W4' h' + b4' (sigmoid'd if sigmoid_mean), log sigma_x^2 = W5' h' + b5'
and both SGVB estimators: B (eq. 10, analytic KL) and A (eq. 7, Monte Carlo KL).
Deeper MLPs (config `hidden` a list H_1 ... H_n, `activation` one value or one per layer): the encoder
runs D -> H_1 -> ... -> H_n -> J, the decoder mirrors it, J -> H_n -> ... -> H_1 -> D.

The state_dict names (encoder.hidden.weight, ...; encoder.hidden{k} / decoder.hidden{k} for hidden
layers k >= 2, aevb's enc.W3_k / dec.W1_k) are the ones aevb writes in model.safetensors
(docs/safetensors.md); nn.Linear's weight is [out, in], aevb's too, so nothing is transposed.

Plain PyTorch and the standard library: the safetensors container (an 8-byte little-endian
header length, a JSON header, raw little-endian tensors) is read and written by hand, and the
Philox4x32-10 generator of aevb's src/shared/training/rng.ts is reimplemented so that an evaluation here
uses exactly the epsilon that aevb's evaluation uses.
"""
import array
import copy
import ctypes
import gzip
import json
import math
import os
import struct
import sys

import torch
from torch import nn

# ----------------------------------------------------------------------------------------------
# The model

ACTIVATIONS = {'tanh': torch.tanh, 'relu': torch.relu, 'linear': lambda a: a}
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def hidden_widths(hidden):
    """H_1 ... H_n (encoder order): the config's `hidden`, one width or a list."""
    return [int(hidden)] if isinstance(hidden, (int, float)) else [int(h) for h in hidden]


def hidden_activations(activation, n):
    """One activation per hidden layer (encoder order): one value applies to every layer."""
    if isinstance(activation, str):
        return [activation] * n
    acts = list(activation)
    if len(acts) == 1:
        return acts * n
    if len(acts) != n:
        raise ValueError(f'activation lists {len(acts)} values for {n} hidden layers; give one, or one per layer')
    return acts


def layer_name(k):
    """Hidden layer k (1-based) of an MLP: `hidden` for k = 1 (the paper's W3 / W1), `hidden{k}` after."""
    return 'hidden' if k == 1 else f'hidden{k}'


class Encoder(nn.Module):
    """D -> H_1 -> ... -> H_n, then the Gaussian head: mu and log sigma^2, each H_n -> J."""

    def __init__(self, D, widths, J):
        super().__init__()
        for k, (i, o) in enumerate(zip([D] + widths[:-1], widths), 1):
            setattr(self, layer_name(k), nn.Linear(i, o))   # W3, b3 (k = 1); enc.W3_k, enc.b3_k after
        self.mu = nn.Linear(widths[-1], J)       # W4, b4
        self.logvar = nn.Linear(widths[-1], J)   # W5, b5


class DecoderLayers(nn.Module):
    """J -> H_n -> ... -> H_1: the encoder's widths mirrored (layer k = 1 reads z)."""

    def __init__(self, J, widths):
        super().__init__()
        mirrored = widths[::-1]
        for k, (i, o) in enumerate(zip([J] + mirrored[:-1], mirrored), 1):
            setattr(self, layer_name(k), nn.Linear(i, o))   # W1, b1 (k = 1); dec.W1_k, dec.b1_k after


class BernoulliDecoder(DecoderLayers):
    def __init__(self, J, widths, D):
        super().__init__(J, widths)
        self.logits = nn.Linear(widths[0], D)   # W2, b2


class GaussianDecoder(DecoderLayers):
    def __init__(self, J, widths, D):
        super().__init__(J, widths)
        self.mean = nn.Linear(widths[0], D)     # W4', b4'
        self.logvar = nn.Linear(widths[0], D)   # W5', b5'


class AEVB(nn.Module):
    """The VAE of aevb, configured by aevb's TrainConfig field names (see config_from_metadata).
    `hidden` is one width (the paper's one hidden layer) or a list H_1 ... H_n; `activation` one name
    or one per hidden layer in encoder order (the decoder's layer of width H_k uses layer k's)."""

    def __init__(self, inputSize, hidden=500, latent=20, decoder='bernoulli', activation='tanh', sigmoidMean=True, **_ignored):
        super().__init__()
        widths = hidden_widths(hidden)
        self.D, self.H, self.J = inputSize, widths, latent
        self.kind, self.sigmoid_mean = decoder, sigmoidMean
        acts = hidden_activations(activation, len(widths))
        self.enc_acts = [ACTIVATIONS[a] for a in acts]
        self.dec_acts = self.enc_acts[::-1]
        self.encoder = Encoder(inputSize, widths, latent)
        self.decoder = (BernoulliDecoder if decoder == 'bernoulli' else GaussianDecoder)(latent, widths, inputSize)

    def _mlp(self, part, acts, a):
        for k, act in enumerate(acts, 1):
            a = act(getattr(part, layer_name(k))(a))
        return a

    def encode(self, x):
        """x [B, D] -> mu, log sigma^2, each [B, J]."""
        h = self._mlp(self.encoder, self.enc_acts, x)
        return self.encoder.mu(h), self.encoder.logvar(h)

    def _decoder_hidden(self, z):
        return self._mlp(self.decoder, self.dec_acts, z)

    def log_px_given_z(self, x, z):
        """log p(x|z) per row, [B]. Bernoulli from the logits: sum_d x_d l_d - softplus(l_d)."""
        h = self._decoder_hidden(z)
        if self.kind == 'bernoulli':
            logits = self.decoder.logits(h)
            return (x * logits - nn.functional.softplus(logits)).sum(-1)
        raw = self.decoder.mean(h)
        mean = torch.sigmoid(raw) if self.sigmoid_mean else raw
        lv = self.decoder.logvar(h)
        return (-HALF_LOG_2PI - 0.5 * lv - 0.5 * (x - mean) ** 2 * torch.exp(-lv)).sum(-1)

    def decode_mean(self, z):
        """The decoder's mean for latent points z [B, J] (the digits of the paper's Figure 5)."""
        h = self._decoder_hidden(z)
        if self.kind == 'bernoulli':
            return torch.sigmoid(self.decoder.logits(h))
        raw = self.decoder.mean(h)
        return torch.sigmoid(raw) if self.sigmoid_mean else raw

    def elbo(self, x, eps, estimator='B'):
        """Per-datapoint SGVB estimate, [B]; eps [L, B, J] are the L draws of epsilon per datapoint.

        B (eq. 10): -KL(q(z|x) || N(0, I)) analytic + (1/L) sum_l log p(x|z_l)
        A (eq. 7):  (1/L) sum_l log p(x|z_l) + log p(z_l) - log q(z_l|x)
        with z_l = mu + sigma * eps_l (the reparameterisation trick)."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps                       # [L, B, J]
        recon = self.log_px_given_z(x.expand(eps.shape[0], *x.shape), z).mean(0)
        if estimator == 'B':
            kl = 0.5 * (mu ** 2 + torch.exp(logvar) - 1 - logvar).sum(-1)
            return recon - kl
        # log p(z) - log q(z|x): the 2 pi terms cancel; (z - mu)^2 / sigma^2 = eps^2
        log_ratio = (-0.5 * z ** 2 + 0.5 * logvar + 0.5 * eps ** 2).sum(-1).mean(0)
        return recon + log_ratio

    def kl(self, x):
        mu, logvar = self.encode(x)
        return 0.5 * (mu ** 2 + torch.exp(logvar) - 1 - logvar).sum(-1)


# ----------------------------------------------------------------------------------------------
# safetensors, by hand (https://github.com/huggingface/safetensors#format)

DTYPES = {'F32': (torch.float32, 4), 'F64': (torch.float64, 8)}
MAX_HEADER = 100_000_000


def save_safetensors(path, tensors, metadata=None):
    """Write {name: float tensor} (as float32, in the dict's order) and {str: str} metadata."""
    assert sys.byteorder == 'little', 'safetensors is little-endian; this writer copies memory as is'
    header, offset, blobs = {}, 0, []
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous().cpu()
        n = t.numel() * 4
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + n]}
        blobs.append(ctypes.string_at(t.data_ptr(), n) if n else b'')
        offset += n
    js = json.dumps(header, separators=(',', ':')).encode()
    js += b' ' * ((8 - (8 + len(js)) % 8) % 8)   # pad so the tensors start 8-byte aligned
    tmp = f'{path}.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)   # atomic: never a half-written model


def load_safetensors(path):
    """-> ({name: float32 tensor}, metadata). Checks the header length, dtypes, shapes and that the
    tensors tile the buffer with no hole or overlap; raises ValueError naming the tensor otherwise."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f'{path} is truncated ({len(data)} bytes)')
    (n,) = struct.unpack('<Q', data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise ValueError(f'{path}: header length {n} does not fit the {len(data)}-byte file')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {}) or {}
    buf = memoryview(data)[8 + n:]
    out, spans = {}, []
    for name, e in header.items():
        if e.get('dtype') not in DTYPES:
            raise ValueError(f'{path}: tensor {name} has dtype {e.get("dtype")}; F32 or F64 expected')
        dtype, size = DTYPES[e['dtype']]
        shape = e['shape']
        begin, end = e['data_offsets']
        count = math.prod(shape)
        if not (0 <= begin <= end <= len(buf)) or end - begin != count * size:
            raise ValueError(f'{path}: tensor {name} at [{begin}, {end}) does not hold {shape} of {e["dtype"]}')
        t = torch.frombuffer(bytearray(buf[begin:end]), dtype=dtype) if count else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(shape).to(torch.float32)
        spans.append((begin, end, name))
    at = 0
    for begin, end, name in sorted(spans):
        if begin != at:
            raise ValueError(f'{path}: tensor {name} starts at {begin}, expected {at} (a hole or an overlap)')
        at = end
    if at != len(buf):
        raise ValueError(f'{path}: {len(buf) - at} bytes after the last tensor')
    return out, meta


# Optimizer state in the file: optimizer.<torch.optim state key>.<parameter name>
# (aevb's optimizer registry, src/shared/training/optimizers.ts; test_optimizers.py holds this to it)
OPT_SLOTS = {'sgd': [], 'adagrad': ['sum'], 'adam': ['exp_avg', 'exp_avg_sq'], 'rmsprop': ['square_avg']}


def config_from_metadata(meta, tensors):
    """aevb's TrainConfig from the file's metadata, or (a bare state_dict) the shapes and aevb's defaults."""
    if 'config' in meta:
        return json.loads(meta['config'])
    widths, k = [], 1
    while f'encoder.{layer_name(k)}.weight' in tensors:
        widths.append(tensors[f'encoder.{layer_name(k)}.weight'].shape[0])
        k += 1
    w3, w4 = tensors['encoder.hidden.weight'], tensors['encoder.mu.weight']
    return dict(inputSize=w3.shape[1], hidden=widths[0] if len(widths) == 1 else widths, latent=w4.shape[0],
                decoder='gaussian' if 'decoder.mean.weight' in tensors else 'bernoulli',
                activation='tanh', sigmoidMean=True, estimator='B', samples=1, batch=100, epochs=10,
                optimizer='adagrad', lr=0.01, weightDecay=0, binarize=False, seed=1, evalSamples=0, evalElboSamples=2, init='paper')


def make_optimizer(kind, params, lr, weight_decay):
    """torch.optim rules with aevb's constants: they are aevb's update rules exactly (src/shared/training/optimizers.ts)."""
    if kind == 'adagrad':
        return torch.optim.Adagrad(params, lr=lr, eps=1e-8, weight_decay=weight_decay)
    if kind == 'adam':
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    if kind == 'rmsprop':
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, weight_decay=weight_decay)
    if kind == 'sgd':
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f'optimizer {kind!r} is not one of {", ".join(OPT_SLOTS)}')


def load_optimizer_state(opt, model, kind, tensors, step):
    """Fill opt's state from optimizer.<slot>.<name> tensors; returns False when the file has none."""
    slots = OPT_SLOTS[kind]
    names = dict(model.named_parameters())
    if not slots or not any(f'optimizer.{slots[0]}.{n}' in tensors for n in names):
        return False
    for n, p in names.items():
        st = {'step': torch.tensor(float(step))}
        for s in slots:
            key = f'optimizer.{s}.{n}'
            if key not in tensors or tensors[key].shape != p.shape:
                raise ValueError(f'optimizer state {key} is missing or of the wrong shape')
            st[s] = tensors[key].clone()
        opt.state[p] = st
    return True


def state_tensors(model, opt, kind):
    """The file's tensors: the state_dict, then optimizer.<slot>.<name> for each slot."""
    out = {n: t for n, t in model.state_dict().items()}
    for s in OPT_SLOTS[kind]:
        for n, p in model.named_parameters():
            out[f'optimizer.{s}.{n}'] = opt.state[p][s] if p in opt.state else torch.zeros_like(p)
    return out


# ----------------------------------------------------------------------------------------------
# IDX files (the MNIST family's format), ubyte (scaled by 1/255, as aevb does) or float32

def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f'{path} is not an IDX file')
    code, ndim = data[2], data[3]
    dims = struct.unpack(f'>{ndim}I', data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    count = math.prod(dims)
    if code == 0x08:
        t = torch.frombuffer(bytearray(body[:count]), dtype=torch.uint8)
    elif code == 0x0D:
        a = array.array('f', body[:4 * count])
        if sys.byteorder == 'little':
            a.byteswap()   # IDX is big-endian
        t = torch.frombuffer(a, dtype=torch.float32).clone()
    else:
        raise ValueError(f'{path}: IDX type 0x{code:02x}; ubyte (0x08) or float32 (0x0d) expected')
    if t.numel() != count:
        raise ValueError(f'{path} is truncated')
    return t.reshape(dims)


def load_images(path):
    """[N, D] float32 in [0, 1] (ubyte / 255 as aevb computes it: k / 255 rounded once to float32)."""
    t = read_idx(path)
    x = t.to(torch.float64).div(255).to(torch.float32) if t.dtype == torch.uint8 else t
    return x.reshape(t.shape[0], -1)


def split_every_kth(x, test_fraction):
    """aevb's split rule: sample g goes to test when g % k == k - 1, k = round(1 / test_fraction)."""
    k = round(1 / test_fraction)
    g = torch.arange(x.shape[0])
    test = g % k == k - 1
    return x[~test], x[test]


# ----------------------------------------------------------------------------------------------
# Philox4x32-10, as src/shared/training/rng.ts: the noise of aevb's evaluation, bit for bit

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF
STREAM_EVAL = 5


def _mulhilo(m, x):
    """High and low 32 bits of m * x (m a constant, x an int64 tensor of uint32 values), in int64 without overflow."""
    mh, ml = m >> 16, m & 0xFFFF
    a, b = mh * x, ml * x                      # each < 2^48
    hi = (a + (b >> 16)) >> 16
    lo = (((a & 0xFFFF) << 16) + b) & MASK
    return hi, lo


def philox(k0, k1, c0, c1, c2, c3):
    """Philox4x32-10 on int64 tensors of counters (broadcast), returns 4 tensors of uint32 values."""
    x0, x1, x2, x3 = (torch.as_tensor(c, dtype=torch.int64) & MASK for c in (c0, c1, c2, c3))
    x0, x1, x2, x3 = torch.broadcast_tensors(x0, x1, x2, x3)
    for _ in range(10):
        hi0, lo0 = _mulhilo(M0, x0)
        hi1, lo1 = _mulhilo(M1, x2)
        x0, x1, x2, x3 = hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return x0, x1, x2, x3


def philox_normals(seed, stream, c0, c1, c2, n):
    """CounterRng.normals(c0, c1, c2, ., n) for a tensor of c1 values: [len(c1), n] float32,
    value j from block j // 4 by Box-Muller in float64, rounded to float32 as aevb stores it."""
    c1 = torch.as_tensor(c1, dtype=torch.int64)
    blocks = (n + 3) // 4
    u = philox(seed & MASK, stream, c0, c1[:, None], c2, torch.arange(blocks)[None, :])
    unit = [(v.to(torch.float64) + 0.5) / 4294967296.0 for v in u]
    r0, t0 = torch.sqrt(-2 * torch.log(unit[0])), 2 * math.pi * unit[1]
    r1, t1 = torch.sqrt(-2 * torch.log(unit[2])), 2 * math.pi * unit[3]
    vals = torch.stack([r0 * torch.cos(t0), r0 * torch.sin(t0), r1 * torch.cos(t1), r1 * torch.sin(t1)], -1)
    return vals.reshape(c1.shape[0], blocks * 4)[:, :n].to(torch.float32)


# aevb's evaluation noise (src/shared/model/evaluate.ts): the EVAL stream, counter (c0, datapoint index i,
# sample index s, block of 4). c0 = purpose * 2 + set + 4 * draw, where purpose separates the ELBO (0)
# from importance sampling (1), set the training set (0) from the test set (1), so train image i and
# test image i never share epsilon, and draw says which evaluation this is: aevb passes the model's
# step (taken modulo 2^30), so every evaluation of a run gets fresh noise and a model at a given
# step always gets the same.
PURPOSE_ELBO, PURPOSE_IS = 0, 1
DRAW_PERIOD = 2 ** 30


def noise_word(purpose, split, draw):
    """Counter word c0 of the evaluation noise (evaluate.ts noiseWord)."""
    if split not in ('train', 'test'):
        raise ValueError(f'split is {split!r}; train or test')
    return (purpose * 2 + (1 if split == 'test' else 0) + 4 * (math.floor(draw) % DRAW_PERIOD)) & MASK


def eval_epsilon(seed, split, draw, start, count, latent, samples):
    """The epsilon aevb's ELBO evaluation gives datapoints [start, start + count) of a set with S =
    `samples` draws each: [S, count, J] float32, draw s of datapoint i from counter (c0, i, s, .)."""
    c0 = noise_word(PURPOSE_ELBO, split, draw)
    rows = torch.arange(start, start + count)
    return torch.stack([philox_normals(seed, STREAM_EVAL, c0, rows, s, latent) for s in range(samples)])


@torch.no_grad()
def evaluate_elbo(model, x, seed, split='test', draw=0, samples=2, batch=500, dtype=torch.float64):
    """aevb's evaluated ELBO (evaluate.ts elboSums: estimator B, S = `samples` draws of aevb's epsilon
    per datapoint, the noise of `split` at `draw`, which aevb takes to be the model's step):

        ELBO = (1/n) sum_i [ (1/S) sum_s log p(x_i | z_is) - KL(q(z|x_i) || N(0, I)) ],
        z_is = mu_i + sigma_i * eps_is,
        SE   = sqrt( sum_i s_i^2 / S ) / n,  s_i^2 the unbiased variance of datapoint i's S values (none for S = 1).

    Returns (elbo, recon, kl, se) per datapoint, se None for S = 1. In float64: float32 -> float64
    is exact, so the sums are exact to ~1e-12 and aevb's float32 sums are what differ."""
    work = copy.deepcopy(model).to(dtype)
    S, n = int(samples), x.shape[0]
    if S < 1:
        raise ValueError(f'samples is {samples}; at least 1')
    recon = kl = variance = 0.0
    for s0 in range(0, n, batch):
        xb = x[s0:s0 + batch].to(dtype)
        eps = eval_epsilon(seed, split, draw, s0, xb.shape[0], model.J, S).to(dtype)   # [S, B, J]
        mu, logvar = work.encode(xb)
        z = mu + torch.exp(0.5 * logvar) * eps                                          # [S, B, J]
        r = work.log_px_given_z(xb.expand(S, *xb.shape), z)                             # [S, B]
        recon += r.mean(0).sum().item()
        kl += (0.5 * (mu ** 2 + torch.exp(logvar) - 1 - logvar).sum(-1)).sum().item()
        if S > 1:
            variance += r.var(0, unbiased=True).sum().item()
    se = math.sqrt(variance / S) / n if S > 1 else None
    return (recon - kl) / n, recon / n, kl / n, se
