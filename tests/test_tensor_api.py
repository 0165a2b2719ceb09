"""The Tensor API PyTorch programs use (issue 11), against PyTorch: what prints, what
compares equal, what converts, and what raises."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

LIBS = [at, torch]


def _both(program):
    """(ours, theirs): ``program(lib)``'s value, or the exception type it raised."""
    results = []
    for lib in LIBS:
        try:
            results.append(program(lib))
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            results.append(type(error))
    return results


PRINTED = {
    "dtype": lambda lib: str(lib.zeros(2).dtype),
    "dtype_repr": lambda lib: repr(lib.ones(2, dtype=lib.float64).dtype),
    "int_dtype": lambda lib: str(lib.tensor([1, 2]).dtype),
    "aliases": lambda lib: [str(d) for d in (lib.float, lib.double, lib.long, lib.int,
                                             lib.half, lib.bool, lib.short, lib.uint8)],
    "shape": lambda lib: str(lib.zeros(2, 3).shape),
    "shape_repr": lambda lib: repr(lib.zeros(2, 3).size()),
    "size_slice": lambda lib: repr(lib.zeros(2, 3, 4).shape[1:]),
    "size_concat": lambda lib: repr(lib.zeros(2, 3).shape + (4,)),
    "size_numel": lambda lib: lib.zeros(2, 3, 4).shape.numel(),
    "size_dim": lambda lib: lib.zeros(2, 3).size(-1),
    "device": lambda lib: str(lib.zeros(1).device),
    "device_repr": lambda lib: repr(lib.zeros(1).device),
    "device_object": lambda lib: repr(lib.device("cuda:1")),
    "device_eq_string": lambda lib: lib.zeros(1).device == "cpu",
    "device_eq_device": lambda lib: lib.zeros(1).device == lib.device("cpu"),
    "device_type": lambda lib: lib.zeros(1).device.type,
    "tensor_repr_float64": lambda lib: repr(lib.tensor([1.5, 2.0], dtype=lib.float64)),
    "format_scalar": lambda lib: f"{lib.tensor(1.23456):.3f}",
    "format_int": lambda lib: f"{lib.tensor(7):>4}",
    "format_vector_plain": lambda lib: f"{lib.tensor([1.0, 2.0])}",
    "format_vector_spec": lambda lib: f"{lib.tensor([1.0, 2.0]):.2f}",
    "type_name": lambda lib: [lib.zeros(1).type(), lib.tensor([1]).type(),
                              lib.tensor([True]).type(), lib.zeros(1, dtype=lib.float64).type()],
    "type_convert": lambda lib: str(lib.zeros(2).type(lib.float64).dtype),
    "type_convert_name": lambda lib: str(lib.zeros(2).type("torch.LongTensor").dtype),
    "type_legacy_class": lambda lib: str(lib.zeros(2).type(lib.IntTensor).dtype),
    "legacy_sizes": lambda lib: repr(lib.FloatTensor(2, 3).shape),
    "legacy_data": lambda lib: repr(lib.LongTensor([1, 2])),
    "legacy_isinstance": lambda lib: [isinstance(lib.zeros(2), lib.FloatTensor),
                                      isinstance(lib.zeros(2), lib.LongTensor)],
    "Tensor_sizes": lambda lib: repr(lib.Tensor(2, 3).shape),
    "Tensor_size_object": lambda lib: repr(lib.Tensor(lib.Size([4, 1])).shape),
    "Tensor_int_list": lambda lib: repr(lib.Tensor([1, 2])),
    "nelement": lambda lib: lib.zeros(3, 4).nelement(),
    "element_size": lambda lib: [lib.zeros(1).element_size(), lib.tensor([1]).element_size()],
    "ndimension": lambda lib: lib.zeros(3, 4).ndimension(),
    "stride": lambda lib: [lib.zeros(3, 4).stride(), lib.zeros(3, 4).t().stride()],
    "contiguity": lambda lib: [lib.zeros(3, 4).is_contiguous(),
                               lib.zeros(3, 4).t().is_contiguous(),
                               lib.zeros(3, 4).t().contiguous().is_contiguous()],
    "new_zeros": lambda lib: repr(lib.zeros(2, dtype=lib.float64).new_zeros(2, 3)),
    "new_ones_tuple": lambda lib: repr(lib.tensor([1]).new_ones((2,))),
    "new_full": lambda lib: repr(lib.zeros(1).new_full((2,), 3.5)),
    "new_tensor": lambda lib: repr(lib.zeros(1, dtype=lib.float64).new_tensor([1, 2])),
    "new_empty_shape": lambda lib: repr(lib.zeros(1).new_empty(2, 2).shape),
    "to_device_string": lambda lib: repr(lib.ones(2).to("cpu")),
    "to_device_and_dtype": lambda lib: str(lib.ones(2).to("cpu", lib.float64).dtype),
    "to_keyword": lambda lib: str(lib.ones(2).to(device="cpu", dtype=lib.int64).dtype),
    "to_other_tensor": lambda lib: str(lib.ones(2).to(lib.tensor([1])).dtype),
    "to_cuda_raises": lambda lib: lib.ones(2).to("cuda"),
    "cuda_method_raises": lambda lib: lib.ones(2).cuda(),
    "factory_cuda_raises": lambda lib: lib.zeros(2, device="cuda"),
    "bad_device_string": lambda lib: lib.device("gpu"),
    "is_cuda": lambda lib: lib.ones(2).is_cuda,
    "dtype_properties": lambda lib: [lib.float32.is_floating_point, lib.int64.is_floating_point,
                                     lib.int64.is_signed, lib.uint8.is_signed,
                                     lib.float64.itemsize],
    "dtype_equality": lambda lib: [lib.float32 == lib.float, lib.float32 == lib.float64,
                                   lib.zeros(1).dtype == lib.float32],
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_behaves_as_pytorch(name):
    ours, theirs = _both(PRINTED[name])
    assert ours == theirs


def test_dtype_stands_for_its_numpy_dtype():
    assert at.float32 == np.float32 and at.zeros(1).dtype == np.dtype("float32")
    assert np.zeros(2, dtype=at.float64).dtype == np.float64
    assert np.dtype(at.int64) == np.int64 and at.float32.kind == "f"
    assert {at.float32: 1}[at.zeros(1).dtype] == 1
    assert at.float32 != "float32" and at.float32 != None  # noqa: E711
    assert pickle.loads(pickle.dumps(at.float64)) is at.float64
    assert copy.deepcopy(at.int8) is at.int8


def test_size_is_a_tuple():
    shape = at.zeros(2, 3).shape
    assert shape == (2, 3) and isinstance(shape, tuple) and shape[0] == 2
    assert np.zeros(shape).shape == (2, 3) and tuple(shape) == (2, 3)


def test_contiguous_copy_stays_in_the_graph():
    x = at.ones(3, 4, requires_grad=True)
    y = x.t().contiguous()
    assert y.is_contiguous() and y.requires_grad
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 2.0))


def test_zero_dim_results_hold_zero_dim_arrays():
    """NumPy returns scalars for 0-d results; a tensor always holds an array (issue 16:
    np.mean over a list of losses, and in-place ops on them, need it)."""
    import abdou_torch.nn.functional as F
    a = at.tensor([1.0, 2.0], requires_grad=True)
    results = [a.mean(), a.var(), F.mse_loss(a, a * 2), a @ a, at.log(a[0]), a[0] == a[1],
               F.cross_entropy(at.tensor([[1.0, 2.0]]), at.tensor([0]))]
    for result in results:
        assert type(result.data) is np.ndarray and result.data.shape == ()
    losses = [a.mean(), a.sum()]
    assert np.mean(losses) == pytest.approx(2.25)
    total = at.log(a[1])
    total += 1  # in place on a 0-d result
    assert total.item() == pytest.approx(np.log(2.0) + 1)


@pytest.mark.parametrize("args", [("cpu",), (at.float64,), ("cpu", at.float64),
                                  (at.int64,), ("cuda",)])
def test_module_to_matches_torch(args):
    def program(lib):
        converted = [lib.int64 if a is at.int64 else lib.float64 if a is at.float64 else a
                     for a in args]
        module = lib.nn.Linear(2, 3)
        same = module.to(*converted) is module
        return same, str(module.weight.dtype), str(module.bias.dtype)
    ours, theirs = _both(program)
    assert ours == theirs
