"""torch.optim.swa_utils: AveragedModel (SWA and EMA), SWALR and update_bn against PyTorch."""
import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch.optim import swa_utils


def _models():
    at.manual_seed(0)
    ours = at.nn.Sequential(at.nn.Linear(3, 4), at.nn.BatchNorm1d(4), at.nn.ReLU(),
                            at.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.data))
                            for k, v in ours.state_dict().items()})
    return ours, theirs


def _train(library, model, averaged, steps=6):
    optimizer = library.optim.SGD(model.parameters(), lr=0.1)
    data = np.random.default_rng(1).standard_normal((steps, 8, 3)).astype(np.float32)
    for batch in data:
        loss = (model(library.tensor(batch)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        averaged.update_parameters(model)
    return {k: np.array(v.detach().numpy() if hasattr(v, "detach") else v.data)
            for k, v in averaged.state_dict().items()}


@pytest.mark.parametrize("kind", ["swa", "ema", "ema_buffers", "swa_avg_fn"])
def test_averaged_model_matches_pytorch(kind):
    ours, theirs = _models()
    options = {"swa": lambda lib: {},
               "ema": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
               "ema_buffers": lambda lib: {"multi_avg_fn":
                                           lib.optim.swa_utils.get_ema_multi_avg_fn(0.9),
                                           "use_buffers": True},
               "swa_avg_fn": lambda lib: {"avg_fn": lib.optim.swa_utils.get_swa_avg_fn()}}[kind]
    got = _train(at, ours, swa_utils.AveragedModel(ours, **options(at)))
    want = _train(torch, theirs, torch.optim.swa_utils.AveragedModel(theirs, **options(torch)))
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("strategy, anneal", [("cos", 5), ("linear", 3), ("cos", 0)])
def test_swalr_follows_pytorchs_schedule(strategy, anneal):
    lrs = []
    for library, swa in ((at, swa_utils), (torch, torch.optim.swa_utils)):
        parameter = library.nn.Parameter(library.zeros(2))
        optimizer = library.optim.SGD([parameter], lr=0.5)
        schedule = swa.SWALR(optimizer, swa_lr=0.05, anneal_epochs=anneal,
                             anneal_strategy=strategy)
        seen = []
        for _ in range(9):
            optimizer.step()
            schedule.step()
            seen.append(schedule.get_last_lr()[0])
        lrs.append(seen)
    np.testing.assert_allclose(lrs[0], lrs[1], rtol=1e-12)


def test_update_bn_recomputes_running_statistics_like_pytorch():
    ours, theirs = _models()
    data = np.random.default_rng(2).standard_normal((5, 16, 3)).astype(np.float32)
    swa_utils.update_bn([(at.tensor(b), None) for b in data], ours)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), None) for b in data], theirs)
    for name in ("1.running_mean", "1.running_var"):
        np.testing.assert_allclose(ours.state_dict()[name].data,
                                   theirs.state_dict()[name].numpy(), rtol=1e-5, atol=1e-6)
    assert ours[1].momentum == theirs[1].momentum == 0.1


def test_bad_arguments_raise_like_pytorch():
    optimizer = at.optim.SGD([at.nn.Parameter(at.zeros(1))], lr=0.1)
    with pytest.raises(ValueError):
        swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_strategy="step")
    with pytest.raises(ValueError):
        swa_utils.SWALR(optimizer, swa_lr=[0.05, 0.01])
