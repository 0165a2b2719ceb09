"""``save``/``load`` of nested objects (``torch.save``/``torch.load`` semantics, no pickle).

The same objects go through PyTorch's own ``torch.save``/``torch.load``, and what comes back
must have the same structure: container types, key types and order, numbers, strings, and
tensors with the same dtype, shape and values.
"""
from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import serialization
from abdou_torch.nn.parameter import Parameter
from abdou_torch.serialization import STRUCTURE_KEY, load, load_with_metadata, save
from abdou_torch.tensor import Tensor

torch = pytest.importorskip("torch")


def trained_pair():
    """An abdou_torch MLP and Adam after one step, with the same weights in PyTorch."""
    ours = at.nn.Sequential(at.nn.Linear(3, 4), at.nn.ReLU(), at.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy())
                            for k, v in ours.state_dict().items()})
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    for model, optimizer, tensor in (
            (ours, at.optim.Adam(ours.parameters(), lr=0.1), at.tensor(x)),
            (theirs, torch.optim.Adam(theirs.parameters(), lr=0.1), torch.from_numpy(x))):
        model(tensor).sum().backward()
        optimizer.step()
        yield model, optimizer


def checkpoint(model, optimizer, tensor_type):
    """What a training script saves."""
    return {"epoch": 7, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "best_loss": math.inf, "history": [0.5, 0.25, float("nan")],
            "config": {"hidden": (4,), "act": "relu", "dropout": None, "tied": False,
                       1: "int key", (2, "b"): "tuple key", 0.5: "float key"},
            "rng": tensor_type(np.arange(4, dtype=np.int64))}


def structure(value):
    """A comparable description of a loaded object (tensor values as nested lists)."""
    if isinstance(value, (Tensor, torch.Tensor)):
        array = np.asarray(value.detach().numpy() if isinstance(value, torch.Tensor)
                           else value.data)
        return ("tensor", array.dtype.name, array.shape,
                np.nan_to_num(array, nan=12345.0).tolist())
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, dict):
        return (type(value).__name__, [(structure(k), structure(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [structure(v) for v in value])
    return (type(value).__name__, value)


def as_torch(value):
    """The same tree with every abdou_torch tensor turned into a PyTorch one."""
    if isinstance(value, Tensor):
        return torch.from_numpy(value.data.copy())
    if isinstance(value, dict):
        return type(value)((k, as_torch(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(as_torch(v) for v in value)
    return value


def test_training_checkpoint_round_trips_as_in_pytorch(tmp_path):
    (ours, optimizer), _ = trained_pair()
    obj = checkpoint(ours, optimizer, at.tensor)
    save(obj, tmp_path / "ours.pt")
    torch.save(as_torch(obj), tmp_path / "theirs.pt")
    mine = load(tmp_path / "ours.pt")
    reference = torch.load(tmp_path / "theirs.pt", weights_only=True)
    assert structure(mine) == structure(reference)
    assert structure(mine) == structure(obj)  # and nothing was lost on the way


def test_loaded_checkpoint_restores_model_and_optimizer(tmp_path):
    (ours, optimizer), _ = trained_pair()
    save({"model": ours.state_dict(), "optimizer": optimizer.state_dict(), "step": 1},
         tmp_path / "c.pt")
    loaded = load(tmp_path / "c.pt")
    fresh = at.nn.Sequential(at.nn.Linear(3, 4), at.nn.ReLU(), at.nn.Linear(4, 2))
    fresh.load_state_dict(loaded["model"])
    fresh_opt = at.optim.Adam(fresh.parameters(), lr=0.1)
    fresh_opt.load_state_dict(loaded["optimizer"])
    x = at.tensor(np.ones((2, 3), np.float32))
    for model, opt in ((ours, optimizer), (fresh, fresh_opt)):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    for a, b in zip(ours.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert loaded["step"] == 1


def test_flat_state_dict_is_a_standard_file_pytorch_reads(tmp_path):
    from safetensors.torch import load_file
    (ours, _), (theirs, _) = trained_pair()
    save(ours.state_dict(), tmp_path / "w.safetensors")
    weights = load_file(tmp_path / "w.safetensors")
    assert list(weights) == sorted(ours.state_dict())  # names are the keys, nothing else
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    fresh.load_state_dict(weights)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(),
                               ours(at.tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_nested_tensors_are_named_by_key_path(tmp_path):
    from safetensors.numpy import load_file
    obj = {"model": {"fc.weight": np.ones((2, 2), np.float32)},
           "optimizer": {"state": {0: {"exp_avg": np.zeros(2, np.float32)}}},
           "layers": [np.ones(1, np.float32)], "model.fc.weight": np.zeros(1, np.float32)}
    save(obj, tmp_path / "n.pt")
    assert sorted(load_file(str(tmp_path / "n.pt"))) == sorted(
        ["model.fc.weight", "optimizer.state.0.exp_avg", "layers.0", "model.fc.weight#2"])
    back = load(tmp_path / "n.pt")
    np.testing.assert_array_equal(back["model.fc.weight"].data, np.zeros(1, np.float32))
    np.testing.assert_array_equal(back["model"]["fc.weight"].data, np.ones((2, 2)))


def test_bare_tensor_list_and_scalars(tmp_path):
    cases = [at.tensor([1.0, 2.0]), [at.tensor(1), 2, "three"], (None, True), 42, "text",
             math.inf, np.float32(1.5), np.int64(-3), at.float64, []]
    for index, obj in enumerate(cases):
        buffer = io.BytesIO()
        save(obj, buffer)
        buffer.seek(0)
        back = load(buffer)
        assert structure(back) == structure(obj), index
        if isinstance(obj, np.generic):
            assert type(back) is type(obj)


def test_shared_tensors_parameters_and_requires_grad(tmp_path):
    weight = Parameter(at.tensor([[1.0, 2.0]]))
    leaf = at.tensor([3.0], requires_grad=True)
    save({"encoder": weight, "decoder": weight, "leaf": leaf, "plain": at.tensor([1.0])},
         tmp_path / "s.pt")
    back = load(tmp_path / "s.pt")
    assert back["encoder"] is back["decoder"] and isinstance(back["encoder"], Parameter)
    assert back["leaf"].requires_grad and back["leaf"].is_leaf
    assert not back["plain"].requires_grad
    _, file_metadata = load_with_metadata(tmp_path / "s.pt")
    assert file_metadata == {}  # the structure is not user metadata


@pytest.mark.parametrize("map_location", [None, "cpu", {"cuda:0": "cpu"},
                                          lambda storage, location: storage])
def test_map_location_to_the_cpu(tmp_path, map_location):
    save({"w": at.tensor([1.0, 2.0])}, tmp_path / "m.pt")
    back = load(tmp_path / "m.pt", map_location=map_location, weights_only=True)
    np.testing.assert_array_equal(back["w"].data, [1.0, 2.0])


def test_map_location_function_result_is_used(tmp_path):
    save({"w": at.tensor([1.0, 2.0]), "n": [at.tensor([3.0])]}, tmp_path / "m.pt")
    back = load(tmp_path / "m.pt", map_location=lambda t, loc: t * 2)
    np.testing.assert_array_equal(back["w"].data, [2.0, 4.0])
    np.testing.assert_array_equal(back["n"][0].data, [6.0])


def test_map_location_to_a_gpu_raises_as_on_cpu_only_pytorch(tmp_path):
    save({"w": at.tensor([1.0])}, tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match="CUDA device"):
        load(tmp_path / "m.pt", map_location="cuda")


def test_pytorch_options_are_accepted_and_typos_are_not(tmp_path):
    save({"w": at.tensor([1.0])}, tmp_path / "m.pt", pickle_protocol=2)
    load(tmp_path / "m.pt", weights_only=False, mmap=False)
    with pytest.raises(TypeError, match="weigths_only"):
        load(tmp_path / "m.pt", weigths_only=True)
    with pytest.raises(TypeError, match="never unpickles"):
        import pickle
        load(tmp_path / "m.pt", pickle_module=pickle)


@pytest.mark.parametrize("obj, where, hint", [
    (lambda: {"model": at.nn.Linear(2, 2)}, "obj['model']", "state_dict()"),
    (lambda: {"args": __import__("argparse").Namespace(lr=1)}, "obj['args']", "vars(args)"),
    (lambda: {"f": [print]}, "obj['f'][0]", "functions"),
])
def test_unsupported_objects_name_key_path_and_write_nothing(tmp_path, obj, where, hint):
    path = tmp_path / "bad.pt"
    save({"old": at.tensor([1.0])}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError) as info:
        save(obj(), path)
    assert str(info.value).startswith(where) and hint in str(info.value)
    assert path.read_bytes() == before


def test_a_cycle_is_refused():
    loop: list = [at.tensor([1.0])]
    loop.append(loop)
    with pytest.raises(TypeError, match=r"obj\[1\] contains itself"):
        save(loop, io.BytesIO())


def test_reserved_metadata_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save({"w": np.ones(1)}, tmp_path / "m.pt", metadata={STRUCTURE_KEY: "{}"})


# ------------------------------------------------------------------ hostile structures

def file_with_structure(structure_text: str, arrays=None) -> bytes:
    from safetensors.numpy import save as st_save
    arrays = {"w": np.ones(2, np.float32)} if arrays is None else arrays
    return st_save(arrays, metadata={STRUCTURE_KEY: structure_text})


def document(obj) -> str:
    return json.dumps({"format": "abdou_torch.save", "version": 1, "object": obj})


HOSTILE = [
    ("not json", "not valid JSON"),
    (json.dumps({"format": "pickle", "version": 1, "object": None}), "not an"),
    (json.dumps({"format": "abdou_torch.save", "version": 9, "object": None}), "version 9"),
    (document({"tensor": "missing"}), "'missing' is not a tensor of the file"),
    (document(None), "'w' is in the file but not in its structure"),
    (document({"dict": [["a", {"tensor": "w"}], ["a", {"tensor": "w"}]]}), "appears twice"),
    (document({"dict": [["a"]]}), "[key, value] pair"),
    (document({"pickle": "os.system"}), "unexpected node"),
    (document({"tensor": "w", "requires_grad": False}), "must be true"),
    (document({"tensor": "w", "extra": 1}), "unexpected node"),
    (document({"dtype": "object"}), "unknown dtype"),
    (document({"float": "NaN"}), "unexpected node"),
    (document({"dict": [[{"set": []}, {"tensor": "w"}]]}), "invalid key"),
    (document({"numpy_scalar": "w"}), "must be 0-d"),
    (document({"tuple": [{"tensor": "w"}] * 2})[:-1] + ', "object": 1}', "duplicate key"),
    (document("[" * 100000 + "]" * 100000), None),
    ('{"format": "abdou_torch.save", "version": 1, "object": ' + "[" * 100000
     + "]" * 100000 + "}", "nested"),
]


@pytest.mark.parametrize("text, fragment", HOSTILE)
def test_hostile_structure_is_a_value_error_naming_file_and_entry(tmp_path, text, fragment):
    path = tmp_path / "hostile.pt"
    path.write_bytes(file_with_structure(text))
    if fragment is None:  # a string that merely looks deep is a valid string
        with pytest.raises(ValueError, match="is in the file but not in its structure"):
            load(path)
        return
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: __metadata__['{STRUCTURE_KEY}']: ")
    assert fragment in message and len(message) < 500


def test_integer_tensor_cannot_require_grad(tmp_path):
    path = tmp_path / "int.pt"
    path.write_bytes(file_with_structure(document({"tensor": "i", "requires_grad": True}),
                                         {"i": np.ones(2, np.int64)}))
    with pytest.raises(ValueError, match="cannot require grad"):
        load(path)


# ------------------------------------------------------------------ PyTorch's own files

def test_pytorch_checkpoint_is_refused_with_the_conversion_command(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="abdou_torch.compat.convert") as info:
        load(path)
    assert "never unpickles" in str(info.value)


def test_converter_turns_a_pytorch_checkpoint_into_ours(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    source, destination = tmp_path / "in.pt", tmp_path / "out.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "half": torch.ones(2, dtype=torch.bfloat16), "epoch": 3}, source)
    result = subprocess.run([sys.executable, "-m", "abdou_torch.compat.convert", str(source),
                             str(destination)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    back = load(destination)
    assert back["epoch"] == 3
    np.testing.assert_array_equal(back["model"]["weight"].data, model.weight.detach().numpy())
    momentum = optimizer.state_dict()["state"][0]["momentum_buffer"].numpy()
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["momentum_buffer"].data,
                                  momentum)
    assert back["half"].dtype == np.float32
    assert isinstance(back["model"], OrderedDict)


def test_header_length_is_still_checked_for_file_objects():
    data = file_with_structure(document({"tensor": "w"}))
    cut = io.BytesIO(data[:-3])
    with pytest.raises(ValueError, match="^<BytesIO>: "):
        load(cut)
    np.testing.assert_array_equal(serialization.load(io.BytesIO(data)).data, [1.0, 1.0])


def test_frozen_parameter_stays_frozen(tmp_path):
    frozen = Parameter(at.tensor([1.0]), requires_grad=False)
    save([frozen], tmp_path / "f.pt")
    (back,) = load(tmp_path / "f.pt")
    assert isinstance(back, Parameter) and not back.requires_grad
