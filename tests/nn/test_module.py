"""Module: registration, traversal and names (checked against the same model in PyTorch),
state_dict / load_state_dict, modes, apply, zero_grad, repr."""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(at.ones(4))
        self.register_buffer("running", at.zeros(4))
        self.register_buffer("scratch", at.zeros(2), persistent=False)
        self.act = nn.ReLU()
        self.plain = at.zeros(3)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale + self.running


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.scale = torch.nn.Parameter(torch.ones(4))
        self.register_buffer("running", torch.zeros(4))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.act = torch.nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale + self.running


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(), Block()])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1, bias=False)})
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        for block in self.blocks:
            x = block(x[..., :3])
        x = self.dropout(x)
        return self.heads["a"](x)


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleList([TorchBlock(), TorchBlock()])
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(4, 2),
                                          "b": torch.nn.Linear(4, 1, bias=False)})
        self.dropout = torch.nn.Dropout(0.5)


def _names(pairs):
    return [name for name, _ in pairs]


def test_names_match_torch():
    ours, theirs = Net(), TorchNet()
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert _names(ours.named_modules()) == _names(theirs.named_modules())
    assert _names(ours.named_children()) == _names(theirs.named_children())
    assert "blocks.0.scratch" not in ours.state_dict()  # non-persistent
    assert "plain" not in dict(ours.named_buffers())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 9
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [type(m).__name__ for m in ours.children()] == \
        [type(m).__name__ for m in theirs.children()]


def test_shared_modules_and_parameters_like_torch():
    shared, torch_shared = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours = nn.Sequential(shared, nn.ReLU(), shared)
    theirs = torch.nn.Sequential(torch_shared, torch.nn.ReLU(), torch_shared)
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())  # both names kept
    assert _names(ours.named_modules()) == _names(theirs.named_modules())
    ours.load_state_dict(ours.state_dict())


def test_registration_replacement_and_deletion():
    m = Block()
    m.scale = nn.Parameter(at.zeros(4))
    assert m._parameters["scale"] is m.scale
    with pytest.raises(TypeError, match="Parameter or None"):
        m.scale = at.zeros(4)
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    m.running = at.ones(4)  # assigning a tensor to a buffer name updates the buffer
    np.testing.assert_array_equal(m.state_dict()["running"].data, np.ones(4))
    with pytest.raises(TypeError, match="buffer"):
        m.running = 3.0
    m.fc = nn.Linear(3, 5)  # replacing a sub-module
    assert m.fc.out_features == 5 and m._modules["fc"] is m.fc
    del m.fc
    assert "fc" not in m._modules and not hasattr(m, "fc")
    m.act = nn.Linear(1, 1)  # a module may replace a module under any name
    assert "act.weight" in m.state_dict()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", at.zeros(1))
    with pytest.raises(TypeError):
        m.add_module("x", "not a module")
    assert m.get_submodule("act") is m.act
    with pytest.raises(AttributeError):
        m.get_submodule("missing")


def test_assignment_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_missing_attribute_message():
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nope'"):
        _ = Block().nope


def test_weights_from_torch_give_torch_outputs():
    ours, theirs = Net().eval(), TorchNet().eval()
    with torch.no_grad():
        for buffer in theirs.buffers():
            buffer.normal_()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    expected = theirs.heads["a"](theirs.dropout(
        theirs.blocks[1](theirs.blocks[0](torch.tensor(x))[..., :3])))
    np.testing.assert_allclose(ours(at.Tensor(x)).data, expected.detach().numpy(), atol=1e-6)
    # and back: ours to torch
    theirs2 = TorchNet()
    theirs2.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs2.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.numpy(), err_msg=name)


def test_state_dict_shares_memory_and_keep_vars():
    m = Block()
    state = m.state_dict()
    state["fc.weight"].data[0, 0] = 42.0
    assert m.fc.weight.data[0, 0] == 42.0
    assert not state["fc.weight"].requires_grad
    assert m.state_dict(keep_vars=True)["fc.weight"] is m.fc.weight
    assert list(m.state_dict(prefix="model.")) == ["model." + k for k in state]


def _snapshot(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _assert_unchanged(model, snapshot):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, snapshot[key], err_msg=key)


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    model = Block()
    before = _snapshot(model)
    state = {k: np.full(v.shape, 7.0, dtype=np.float32) for k, v in model.state_dict().items()}
    del state["fc.bias"]
    state["extra.weight"] = np.zeros(2)
    state["scale"] = np.zeros(5)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Block" in message
    assert 'Missing key(s) in state_dict: "fc.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for scale" in message and "(5,)" in message and "(4,)" in message
    _assert_unchanged(model, before)  # fc.weight was valid, but nothing is copied


def test_load_state_dict_shape_mismatch_is_an_error_even_when_not_strict():
    model = Block()
    before = _snapshot(model)
    state = dict(model.state_dict())
    state["fc.weight"] = np.zeros((3, 4))  # transposed layout
    state["running"] = np.ones(4)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        model.load_state_dict(state, strict=False)
    _assert_unchanged(model, before)


def test_load_state_dict_rejects_non_arrays_before_copying():
    model = Block()
    before = _snapshot(model)
    state = {k: v.data * 0 for k, v in model.state_dict().items()}
    state["scale"] = "oops"
    with pytest.raises(RuntimeError, match='"scale"'):
        model.load_state_dict(state)
    _assert_unchanged(model, before)
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([1, 2])


def test_load_state_dict_not_strict_returns_the_keys():
    model = Block()
    result = model.load_state_dict({"fc.weight": np.ones((4, 3)), "bogus": np.zeros(1)},
                                   strict=False)
    assert result.missing_keys == ["scale", "running", "fc.bias"]  # own tensors first
    assert result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(model.fc.weight.data, np.ones((4, 3)))
    assert model.fc.weight.dtype == np.float32  # copied into the existing float32 memory
    ok = model.load_state_dict(model.state_dict())
    assert ok.missing_keys == [] and ok.unexpected_keys == []
    torch_result = TorchBlock().load_state_dict({"fc.weight": torch.ones(4, 3),
                                                 "bogus": torch.zeros(1)}, strict=False)
    assert result.missing_keys == torch_result.missing_keys
    assert result.unexpected_keys == torch_result.unexpected_keys


def test_load_state_dict_keeps_parameter_identity_and_assign_replaces_arrays():
    model = nn.Linear(2, 2)
    weight = model.weight
    model.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)})
    assert model.weight is weight and model.weight.dtype == np.float32
    model.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)}, assign=True)
    assert model.weight.dtype == np.float64 and model.weight.requires_grad


def test_assign_refuses_integer_tensors_for_float_parameters_like_torch():
    """PyTorch: 'Only Tensors of floating point and complex dtype can require gradients';
    nothing is replaced."""
    import torch
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Linear(2, 2).load_state_dict(
            {"weight": torch.ones(2, 2, dtype=torch.int64), "bias": torch.zeros(2)},
            assign=True)
    model = nn.Linear(2, 2)
    weight = model.weight
    with pytest.raises(RuntimeError, match="floating point"):
        model.load_state_dict({"weight": np.ones((2, 2), dtype=np.int64),
                               "bias": np.zeros(2, dtype=np.float32)}, assign=True)
    assert model.weight is weight and model.weight.dtype == np.float32


def test_train_eval_propagate_and_call_overrides():
    calls = []

    class Custom(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(Custom(), nn.Dropout(0.5)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert calls == [False]
    model.train()
    assert all(m.training for m in model.modules()) and calls == [False, True]
    with pytest.raises(ValueError):
        model.train("yes")


def test_dropout_module_in_train_and_eval():
    at.manual_seed(0)
    layer = nn.Dropout(0.5)
    x = at.ones(50, 40)
    y = layer(x)
    assert 0.4 < (y.data == 0).mean() < 0.6
    assert set(np.unique(y.data)) == {0.0, 2.0}
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x.data)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.2)


def test_apply_visits_children_first_like_torch():
    ours, theirs = [], []
    nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU())).apply(
        lambda m: ours.append(type(m).__name__))
    torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sequential(torch.nn.ReLU())).apply(
        lambda m: theirs.append(type(m).__name__))
    assert ours == theirs

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert model.apply(init_weights) is model
    assert all((m.weight.data == 0.5).all() for m in model if isinstance(m, nn.Linear))


def test_zero_grad():
    model = nn.Linear(3, 2)
    model(at.randn(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and not model.weight.grad.data.any()
    model(at.randn(4, 3)).sum().backward()
    assert model.weight.grad.data.any()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_requires_grad_and_dtype_casts():
    model = Block()
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.double()
    assert all(t.dtype == np.float64 for t in model.state_dict().values())
    model.float()
    assert model.fc.weight.dtype == np.float32


def test_deepcopy_gives_an_independent_model():
    model = Net()
    clone = copy.deepcopy(model)
    clone.blocks[0].fc.weight.data[...] = 0
    assert model.blocks[0].fc.weight.data.any()
    assert list(clone.state_dict()) == list(model.state_dict())
    assert isinstance(clone.blocks[0].fc.weight, nn.Parameter)


def test_parameter():
    p = nn.Parameter(at.Tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, at.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    source = at.Tensor(np.zeros(3, dtype=np.float32))
    assert np.shares_memory(nn.Parameter(source).data, source.data)
    assert nn.Parameter().shape == (0,)
    assert not nn.Parameter(at.ones(2), requires_grad=False).requires_grad
    with pytest.raises(TypeError):
        nn.Parameter(at.Tensor(np.arange(3)))


def test_repr_matches_torch():
    ours = Net()
    theirs = TorchNet()
    assert repr(ours).replace("Net", "X") == repr(theirs).replace("TorchNet", "X") \
        .replace("TorchBlock", "Block")
    ours_seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3, bias=False)),
                                          ("act", nn.LeakyReLU(0.2)),
                                          ("flat", nn.Flatten())]))
    theirs_seq = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 3, bias=False)),
                                                  ("act", torch.nn.LeakyReLU(0.2)),
                                                  ("flat", torch.nn.Flatten())]))
    assert repr(ours_seq) == repr(theirs_seq)
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential()) == "Sequential()"


def test_multiline_extra_repr_layout_like_torch():
    class Two(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    class TorchTwo(torch.nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Two()) == repr(TorchTwo()).replace("TorchTwo", "Two")


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_replacing_a_member_keeps_its_place_in_the_state_dict():
    ours, theirs = Block(), TorchBlock()
    ours.fc = nn.Linear(3, 4)
    theirs.fc = torch.nn.Linear(3, 4)
    ours.scale = nn.Parameter(at.zeros(4))
    theirs.scale = torch.nn.Parameter(torch.zeros(4))
    ours.register_buffer("running", at.ones(4))
    theirs.register_buffer("running", torch.ones(4))
    assert list(ours.state_dict()) == list(theirs.state_dict())


# -- forward hooks ----------------------------------------------------------------------


class _Scale(nn.Module):
    def forward(self, x, factor=1.0):
        return x * factor


class _TorchScale(torch.nn.Module):
    def forward(self, x, factor=1.0):
        return x * factor


def _hook_log(lib_module, log):
    """The same hooks on either library's module: they log their calls and change the
    arguments and output as PyTorch documents."""
    handles = [
        lib_module.register_forward_pre_hook(lambda m, args: log.append("pre") or args[0] + 1),
        lib_module.register_forward_pre_hook(
            lambda m, args, kwargs: log.append(("pre-kw", sorted(kwargs)))
            or (args, {**kwargs, "factor": 3.0}), with_kwargs=True),
        lib_module.register_forward_pre_hook(lambda m, args: log.append("first") or None,
                                             prepend=True),
        lib_module.register_forward_hook(lambda m, args, out: log.append("post") or out * 2),
        lib_module.register_forward_hook(
            lambda m, args, kwargs, out: log.append(("post-kw", kwargs["factor"])) or None,
            with_kwargs=True),
    ]
    return handles


def test_forward_hooks_run_and_change_values_as_in_torch():
    ours_log, theirs_log = [], []
    ours, theirs = _Scale(), _TorchScale()
    ours_handles = _hook_log(ours, ours_log)
    _hook_log(theirs, theirs_log)
    out = ours(at.tensor([1.0, 2.0]), factor=0.5)
    expected = theirs(torch.tensor([1.0, 2.0]), factor=0.5)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())  # (x + 1) * 3 * 2
    assert ours_log == theirs_log == ["first", "pre", ("pre-kw", ["factor"]), "post",
                                      ("post-kw", 3.0)]
    for handle in ours_handles[1:]:
        handle.remove()
    ours_handles[1].remove()  # removing twice does nothing
    np.testing.assert_array_equal(ours(at.tensor([1.0])).numpy(), [2.0])  # only "pre" left
    with ours_handles[0]:
        pass
    assert not ours._forward_pre_hooks and not ours._forward_hooks
    assert not ours._forward_pre_hooks_with_kwargs and not ours._forward_hooks_with_kwargs


def test_forward_hooks_extract_features_of_a_submodule():
    """The usual use: read an inner layer's output (and input) during a forward."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = {}
    handle = model[1].register_forward_hook(
        lambda m, args, out: seen.update(module=m, input=args[0], output=out))
    x = at.randn(5, 3)
    model(x)
    assert seen["module"] is model[1]
    np.testing.assert_array_equal(seen["output"].numpy(),
                                  np.maximum(model[0](x).numpy(), 0))
    handle.remove()
    seen.clear()
    model(x)
    assert not seen


def test_forward_hook_errors():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook("not a function")
    layer.register_forward_pre_hook(lambda m, args, kwargs: "bad", with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"\(new_args, new_kwargs\).*'bad'"):
        layer(at.ones(1, 2))
