"""The example's optimizers against aevb's: `python3 -m unittest` in examples/pytorch (needs torch).

optimizer_fixture.json is written by aevb's own test (test/kernels/optimizer_fixture.test.ts) from
its optimizer registry and update kernel, and that test fails when a rule is added or changed
without the file. This test holds aevb_model.py to the same file: for every rule aevb has,
make_optimizer builds the torch.optim class with aevb's constants, OPT_SLOTS names its state keys,
and torch.optim on the same gradients gives the parameters and state aevb's kernel gave.
"""
import json
import os
import unittest

import torch

from aevb_model import OPT_SLOTS, make_optimizer

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optimizer_fixture.json')


class OptimizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(FIXTURE) as f:
            cls.fixture = json.load(f)

    def test_every_rule_is_known_with_its_state_keys(self):
        self.assertEqual(sorted(OPT_SLOTS), sorted(r['kind'] for r in self.fixture['rules']))
        for r in self.fixture['rules']:
            with self.subTest(rule=r['kind']):
                self.assertEqual(OPT_SLOTS[r['kind']], r['torch']['state'])

    def test_make_optimizer_is_the_rule_with_aevbs_constants(self):
        for r in self.fixture['rules']:
            with self.subTest(rule=r['kind']):
                opt = make_optimizer(r['kind'], [torch.zeros(1, requires_grad=True)], 0.1, 0.0)
                self.assertEqual(type(opt).__name__, r['torch']['optimizer'])
                group = opt.param_groups[0]
                for k, v in r['torch']['options'].items():
                    got = group[k]
                    if isinstance(v, list):
                        self.assertEqual(list(got), v)
                    else:
                        self.assertEqual(got, v)
                # Options aevb does not use stay off (a momentum, a centred RMSprop, a learning-rate decay).
                for k in ('momentum', 'centered', 'lr_decay', 'amsgrad', 'nesterov'):
                    if k in group:
                        self.assertFalse(group[k], k)

    def test_torch_steps_are_aevbs_kernel_steps(self):
        """float32 on both sides, in a different order of operations: a few float32 ulps apart."""
        fx = self.fixture
        for r in fx['rules']:
            with self.subTest(rule=r['kind']):
                p = torch.tensor(fx['theta0'], dtype=torch.float32, requires_grad=True)
                opt = make_optimizer(r['kind'], [p], fx['lr'], fx['weightDecay'])
                for t, s in enumerate(r['steps']):
                    p.grad = torch.tensor(s['grad'], dtype=torch.float32)
                    opt.step()
                    want = torch.tensor(s['params'], dtype=torch.float32)
                    self.assertLessEqual((p.detach() - want).abs().max().item(), 1e-5 * (1 + want.abs().max().item()), f'step {t + 1}')
                    for key, slot in zip(r['torch']['state'], s['slots']):
                        got, ref = opt.state[p][key], torch.tensor(slot, dtype=torch.float32)
                        self.assertLessEqual((got - ref).abs().max().item(), 1e-5 * (1 + ref.abs().max().item()), f'{key} at step {t + 1}')
                moved = (p.detach() - torch.tensor(fx['theta0'])).abs().max().item()
                self.assertGreater(moved, 1e-3)


if __name__ == '__main__':
    unittest.main()
