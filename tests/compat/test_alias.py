"""The ``torch`` alias: every import form programs use, and the errors for what is missing.

Each test runs one program through ``abdou-torch run -c`` (the alias is per process; the
test process itself imports the real PyTorch).
"""
from __future__ import annotations

import textwrap

from .conftest import abdou_run, python


def run_checks(tmp_path, source: str) -> str:
    got = abdou_run(["-c", textwrap.dedent(source)], tmp_path)
    assert got.returncode == 0, got.stderr
    return got.stdout


def test_import_forms_resolve_to_abdou_torch(tmp_path):
    out = run_checks(tmp_path, '''
        import abdou_torch as at
        import torch
        import torch.nn as nn
        import torch.nn.functional as F1
        from torch.nn import functional as F
        from torch.nn import init
        from torch.nn.utils import clip_grad_norm_
        from torch.nn.utils.clip_grad import clip_grad_norm_ as clip2
        from torch.utils.data import DataLoader, Dataset, TensorDataset
        from torch.utils.data.dataloader import DataLoader as DL2
        from torch.utils.data.dataset import Dataset as D2
        import torch.optim as optim
        from torch.optim import lr_scheduler
        from torch.optim.lr_scheduler import StepLR
        from torch.optim.optimizer import Optimizer
        from torch.optim.adamw import AdamW
        from torch.nn.modules.linear import Linear
        from torch.nn.modules.loss import CrossEntropyLoss
        from torch.nn.modules.module import Module
        from torch.nn.modules.conv import Conv2d
        from torch.nn.parameter import Parameter
        from torch.autograd import Function, grad
        import torch.autograd.function
        import torch.cuda, torch.backends.cudnn, torch.amp, torch.cuda.amp
        from torch.cuda.amp import GradScaler, autocast
        checks = [
            torch.Tensor is at.Tensor, nn.Linear is at.nn.Linear, F is F1,
            F.relu is at.nn.functional.relu, init.zeros_ is at.nn.init.zeros_,
            clip_grad_norm_ is clip2 is at.nn.utils.clip_grad_norm_,
            DataLoader is DL2 is at.data.DataLoader, Dataset is D2 is at.data.Dataset,
            optim.SGD is at.optim.SGD, StepLR is lr_scheduler.StepLR,
            Optimizer is at.optim.Optimizer, AdamW is at.optim.AdamW,
            Linear is nn.Linear, CrossEntropyLoss is nn.CrossEntropyLoss, Module is nn.Module,
            Conv2d is nn.Conv2d, Parameter is nn.Parameter,
            Function is at.autograd.Function, grad is at.autograd.grad,
            torch.autograd.function.Function is Function,
            torch.nn.modules.linear.Linear is nn.Linear,
            torch.utils.data is torch.utils.data, torch.nn.functional is F,
            isinstance(torch.ones(2), torch.Tensor),
        ]
        print(checks.count(True), len(checks))
    ''')
    count, total = out.split()
    assert count == total


def test_attribute_writes_reach_the_library_and_reads_stay_fresh(tmp_path):
    out = run_checks(tmp_path, '''
        import torch, abdou_torch
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.deterministic = True
        a = abdou_torch.backends.cudnn.benchmark, abdou_torch.backends.cudnn.deterministic
        abdou_torch.backends.cudnn.benchmark = False
        print(a, torch.backends.cudnn.benchmark)
        torch.my_global = 3  # a program may stash things on the module
        print(abdou_torch.my_global)
        del torch.my_global
        print(hasattr(abdou_torch, "my_global"))
    ''')
    assert out.splitlines() == ["(True, True) False", "3", "False"]


def test_missing_names_fail_with_the_pytorch_name(tmp_path):
    out = run_checks(tmp_path, '''
        import torch
        import torch.fft  # a PyTorch module abdou_torch lacks: imports, fails at first use
        import torch.distributions
        for expression in ("torch.fft.rfft", "torch.nn.NoLayer", "torch.linalg.svd_lowrank",
                           "torch.distributions.Wishart", "torch.no_such_function",
                           "torch.distributed.rpc"):
            try:
                eval(expression)
            except AttributeError as error:
                print(type(error).__name__, error)
        print(hasattr(torch.fft, "rfft"), hasattr(torch, "fft"), getattr(torch, "nope", "dflt"))
        for name in ("torch.fooo", "torch.nn.fooo", "torch.fft.rfft"):
            try:
                __import__(name)
            except ModuleNotFoundError as error:
                print("ModuleNotFoundError", error)
    ''')
    assert out.splitlines() == [
        "NotAvailableError torch.fft.rfft is not available in abdou_torch",
        "NotAvailableError torch.nn.NoLayer is not available in abdou_torch",
        "NotAvailableError torch.linalg.svd_lowrank is not available in abdou_torch",
        "NotAvailableError torch.distributions.Wishart is not available in abdou_torch",
        "NotAvailableError torch.no_such_function is not available in abdou_torch",
        "NotAvailableError torch.distributed.rpc is not available in abdou_torch",
        "False True dflt",
        "ModuleNotFoundError No module named 'torch.fooo'",
        "ModuleNotFoundError No module named 'torch.nn.fooo'",
        "ModuleNotFoundError No module named 'torch.fft.rfft'",
    ]


def test_distributions_resolve_to_the_library_package(tmp_path):
    out = run_checks(tmp_path, '''
        import abdou_torch.distributions as ad
        import torch
        import torch.distributions as D
        from torch.distributions import Categorical, constraints
        from torch.distributions.normal import Normal
        from torch.distributions.kl import kl_divergence, register_kl
        from torch.distributions.multivariate_normal import MultivariateNormal
        print(Categorical is ad.Categorical, Normal is ad.Normal, D.Independent is ad.Independent,
              constraints.positive is ad.constraints.positive, kl_divergence is ad.kl_divergence,
              torch.distributions.Bernoulli is ad.Bernoulli, MultivariateNormal is
              ad.MultivariateNormal, register_kl is ad.register_kl)
    ''')
    assert out.split() == ["True"] * 8


def test_distributed_is_the_library_package(tmp_path):
    out = run_checks(tmp_path, '''
        import abdou_torch.distributed
        import torch.distributed as dist
        from torch.utils.data.distributed import DistributedSampler
        print(dist.init_process_group is abdou_torch.distributed.init_process_group,
              dist.is_available() == abdou_torch.distributed.is_available(),
              dist.is_initialized(), DistributedSampler is abdou_torch.data.DistributedSampler)
    ''')
    assert out.split() == ["True", "True", "False", "True"]



def test_compile_passes_the_model_through_and_checks_arguments_as_pytorch(tmp_path):
    source = '''
        import torch
        model = torch.nn.Linear(3, 2)
        compiled = torch.compile(model, mode="max-autotune", fullgraph=True, dynamic=False)
        x = torch.ones(4, 3)
        print("same", bool((compiled(x) - model(x)).abs().max() == 0))

        @torch.compile
        def double(t):
            return t * 2

        @torch.compile(mode="reduce-overhead")
        def triple(t):
            return t * 3

        print("decorated", double(torch.ones(1)).tolist(), triple(torch.ones(1)).tolist())
        for kwargs in ({"mode": "fastest"}, {"mode": "default", "options": {}}):
            try:
                torch.compile(model, **kwargs)
            except RuntimeError as error:
                print(type(error).__name__, str(error)[:30])
        try:
            torch.compile(3)
        except AssertionError as error:
            print("AssertionError", error)
    '''
    ours = run_checks(tmp_path, source).splitlines()
    theirs = python(["-c", textwrap.dedent(source)], tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert ours == theirs.stdout.splitlines()


def test_variable_is_a_new_tensor_sharing_memory_as_in_pytorch(tmp_path):
    source = '''
        import torch
        from torch.autograd import Variable
        t = torch.ones(2)
        v = Variable(t, requires_grad=True)
        print(v is t, v.requires_grad, t.requires_grad, type(v).__name__)
        with torch.no_grad():
            v.mul_(3)
        print(t.tolist())
    '''
    theirs = python(["-c", textwrap.dedent(source)], tmp_path)
    assert run_checks(tmp_path, source) == theirs.stdout


def test_uninstall_removes_the_alias(tmp_path):
    out = run_checks(tmp_path, '''
        import sys, abdou_torch.compat as compat
        import torch.nn
        compat.uninstall()
        print(compat.is_installed(), [n for n in sys.modules if n.split(".")[0] == "torch"])
        compat.install()
        import torch
        print(type(torch).__name__)
    ''')
    assert out.splitlines() == ["False []", "AliasModule"]


def test_bfloat16_autocast_is_accepted_and_bfloat16_tensors_are_refused(tmp_path):
    out = run_checks(tmp_path, '''
        import warnings
        import torch
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                y = torch.ones(2, 3) @ torch.ones(3, 2)
        print(y.dtype, y.tolist(), [str(w.message)[:30] for w in caught])
        try:
            torch.zeros(2, dtype=torch.bfloat16)
        except TypeError as error:
            print("TypeError", "bfloat16" in str(error))
    ''')
    assert out.splitlines() == [
        "torch.float32 [[3.0, 3.0], [3.0, 3.0]] ['autocast to bfloat16 on the CP']",
        "TypeError True"]


def test_aliases_search_no_files_and_never_load_a_module_twice(tmp_path):
    out = run_checks(tmp_path, '''
        import sys
        import abdou_torch.nn.layers
        import torch.nn
        import torch.nn.layers  # an abdou_torch file reached by its torch name
        print(torch.nn.__path__, torch.__package__, torch.nn.__spec__.name)
        print(torch.nn.layers.Linear is abdou_torch.nn.layers.Linear,
              sum(1 for m in sys.modules.values()
                  if getattr(m, "__file__", None) == abdou_torch.nn.layers.__file__))
    ''')
    assert out.splitlines() == ["[] torch torch.nn", "True 2"]  # the module and its alias
