"""The example's evaluation against aevb's: `python3 -m unittest` in examples/pytorch (needs torch).

eval_noise_fixture.json is written by aevb's own test (test/shared/eval_noise_fixture.test.ts),
which fails when aevb's evaluation noise changes without it. This test holds aevb_model.py to the
same file: its epsilon for each (seed, set, step, S, datapoints), and a tiny model's evaluated
ELBO, recon, KL and standard error, as aevb's evaluateElbo computed them.
"""
import json
import os
import unittest

import torch

from aevb_model import AEVB, eval_epsilon, evaluate_elbo

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'eval_noise_fixture.json')


class EvalNoiseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(FIXTURE) as f:
            cls.fixture = json.load(f)

    def test_epsilon_is_aevbs(self):
        """The port's epsilon equals aevb's: the same float32 values (Box-Muller in float64 on both
        sides; a last-bit difference of libm's cos/sin could round one value one float32 ulp apart)."""
        for case in self.fixture['noise']:
            with self.subTest(**{k: case[k] for k in ('seed', 'split', 'draw', 'samples', 'start')}):
                eps = eval_epsilon(case['seed'], case['split'], case['draw'], case['start'], case['count'], case['latent'], case['samples'])
                want = torch.tensor(case['eps'], dtype=torch.float32)
                self.assertEqual(tuple(eps.shape), tuple(want.shape))
                self.assertLessEqual((eps - want).abs().max().item(), 1e-6)
                self.assertGreaterEqual((eps == want).float().mean().item(), 0.95)

    def test_tiny_model_elbo_is_aevbs(self):
        """aevb's evaluated ELBO of a tiny model (float32 sums) against the port's (float64)."""
        m = self.fixture['model']
        model = AEVB(**m['config'])
        model.load_state_dict({k: torch.tensor(v['data'], dtype=torch.float32).reshape(v['shape']) for k, v in m['tensors'].items()})
        x = torch.tensor(m['x'], dtype=torch.float32).reshape(m['n'], m['d'])
        for e in m['evaluations']:
            with self.subTest(split=e['split'], draw=e['draw'], samples=e['samples']):
                elbo, recon, kl, se = evaluate_elbo(model, x, m['config']['seed'], split=e['split'], draw=e['draw'], samples=e['samples'])
                self.assertAlmostEqual(elbo, e['elbo'], delta=1e-4)
                self.assertAlmostEqual(recon, e['recon'], delta=1e-4)
                self.assertAlmostEqual(kl, e['kl'], delta=1e-4)
                if e['se'] is None:
                    self.assertIsNone(se)
                else:
                    self.assertAlmostEqual(se, e['se'], delta=1e-4)

    def test_another_step_is_other_noise(self):
        """The step keys the noise: the same model at another step gets another ELBO (so the test above can fail)."""
        m = self.fixture['model']
        model = AEVB(**m['config'])
        model.load_state_dict({k: torch.tensor(v['data'], dtype=torch.float32).reshape(v['shape']) for k, v in m['tensors'].items()})
        x = torch.tensor(m['x'], dtype=torch.float32).reshape(m['n'], m['d'])
        a = evaluate_elbo(model, x, m['config']['seed'], split='test', draw=0, samples=2)[0]
        b = evaluate_elbo(model, x, m['config']['seed'], split='test', draw=1, samples=2)[0]
        c = evaluate_elbo(model, x, m['config']['seed'], split='train', draw=0, samples=2)[0]
        self.assertGreater(abs(a - b), 1e-3)
        self.assertGreater(abs(a - c), 1e-3)


class DeeperModelTest(unittest.TestCase):
    def test_names_and_mirror(self):
        """hidden [H1, H2]: encoder D -> H1 -> H2 -> J, decoder J -> H2 -> H1 -> D, with aevb's names."""
        model = AEVB(inputSize=6, hidden=[5, 4], latent=3, activation=['relu', 'tanh'])
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        self.assertEqual(shapes['encoder.hidden.weight'], (5, 6))
        self.assertEqual(shapes['encoder.hidden2.weight'], (4, 5))
        self.assertEqual(shapes['encoder.mu.weight'], (3, 4))
        self.assertEqual(shapes['decoder.hidden.weight'], (4, 3))
        self.assertEqual(shapes['decoder.hidden2.weight'], (5, 4))
        self.assertEqual(shapes['decoder.logits.weight'], (6, 5))
        # The decoder's layer of width H_k uses encoder layer k's activation.
        self.assertEqual(model.enc_acts[0], torch.relu)
        self.assertEqual(model.dec_acts[-1], torch.relu)
        x = torch.rand(2, 6)
        self.assertEqual(tuple(model.elbo(x, torch.randn(1, 2, 3)).shape), (2,))

    def test_one_width_is_the_papers_model(self):
        model = AEVB(inputSize=6, hidden=5, latent=3)
        self.assertEqual(sorted(model.state_dict()), sorted([
            'encoder.hidden.weight', 'encoder.hidden.bias', 'encoder.mu.weight', 'encoder.mu.bias', 'encoder.logvar.weight',
            'encoder.logvar.bias', 'decoder.hidden.weight', 'decoder.hidden.bias', 'decoder.logits.weight', 'decoder.logits.bias']))


if __name__ == '__main__':
    unittest.main()
