"""``torch.onnx.export``: the file onnxruntime runs gives the model's outputs."""
from __future__ import annotations

import io

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.onnx import TrainingMode, UnsupportedOperatorError, export

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def session(data: bytes):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def exported(model, *inputs, **options) -> bytes:
    buffer = io.BytesIO()
    export(model, inputs, buffer, **options)
    return buffer.getvalue()


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, tokens):
        return self.head(self.embedding(tokens).mean(1))


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.a, self.b = nn.Linear(6, 2), nn.Linear(6, 3)

    def forward(self, x, scale):
        h = nn.functional.relu(self.body(x)) * scale
        pieces = at.cat([h[:, :2], h[:, 4:]], dim=1)
        return self.a(h).softmax(-1), self.b(h) + pieces.sum(1, keepdim=True)


def float_input(*shape, seed=0):
    return at.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


MODELS = {
    "mlp": lambda: (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), (5, 4)),
    "activations": lambda: (nn.Sequential(
        nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 8), nn.Tanh(), nn.Sigmoid(),
        nn.LeakyReLU(0.2), nn.SiLU(), nn.Softplus(), nn.LogSoftmax(dim=-1)), (5, 4)),
    "softmax": lambda: (nn.Sequential(nn.Linear(4, 6), nn.Softmax(dim=1)), (5, 4)),
    "cnn": lambda: (nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False), nn.ReLU(),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(6 * 2 * 2, 3)), (3, 1, 12, 12)),
    "pooling": lambda: (nn.Sequential(
        nn.Conv2d(2, 3, (3, 2), padding=(1, 0), dilation=(1, 2)),
        nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2, padding=1),
        nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(18, 2)), (2, 2, 11, 9)),
    "conv1d": lambda: (nn.Sequential(
        nn.Conv1d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2), nn.AdaptiveAvgPool1d(2),
        nn.Flatten(), nn.Linear(6, 2)), (4, 2, 10)),
}


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_gives_the_model_outputs(name):
    model, shape = MODELS[name]()
    if name == "cnn":  # give BatchNorm running statistics other than 0 and 1
        model(float_input(8, *shape[1:], seed=5))
    model.eval()
    x = float_input(*shape)
    run = session(exported(model, x, input_names=["x"]))
    for seed in (0, 1):
        other = float_input(*shape, seed=seed)
        (got,) = run.run(None, {"x": other.data})
        np.testing.assert_allclose(got, model(other).data, rtol=1e-5, atol=1e-6)


def test_embedding_integer_inputs():
    model = Embedder()
    tokens = at.tensor(np.array([[1, 2, 3], [4, 5, 9]]))
    run = session(exported(model, tokens, input_names=["tokens"]))
    other = at.tensor(np.array([[0, 0, 7], [8, 6, 5]]))
    np.testing.assert_allclose(run.run(None, {"tokens": other.data})[0], model(other).data,
                               rtol=1e-5, atol=1e-6)


def test_several_inputs_and_outputs_with_names():
    model = TwoHeads()
    x, scale = float_input(3, 4), at.tensor(np.float32(2.0))
    data = exported(model, x, scale, input_names=["x", "scale"], output_names=["p", "q"])
    proto = onnx.load_from_string(data)
    assert [i.name for i in proto.graph.input] == ["x", "scale"]
    assert [o.name for o in proto.graph.output] == ["p", "q"]
    p, q = session(data).run(None, {"x": x.data, "scale": scale.data})
    want_p, want_q = model(x, scale)
    np.testing.assert_allclose(p, want_p.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q, want_q.data, rtol=1e-5, atol=1e-6)


def test_matches_pytorch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3),
                                 torch.nn.Softmax(dim=1))
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy())
                            for k, v in ours.state_dict().items()})
    x = float_input(6, 4, seed=3)
    (got,) = session(exported(ours, x)).run(None, {"input": x.data})
    np.testing.assert_allclose(got, theirs(torch.from_numpy(x.data)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_dynamic_batch():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    data = exported(model, float_input(2, 1, 6, 6), input_names=["x"], output_names=["y"],
                    dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    run = session(data)
    for batch in (1, 2, 9):
        x = float_input(batch, 1, 6, 6, seed=batch)
        np.testing.assert_allclose(run.run(None, {"x": x.data})[0], model(x).data,
                                   rtol=1e-5, atol=1e-6)
    dims = onnx.load_from_string(data).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 6, 6]
    with pytest.raises(NotImplementedError, match="only dim 0"):
        exported(model, float_input(2, 1, 6, 6), dynamic_axes={"input": {2: "h"}})


def test_parameters_are_named_as_in_the_state_dict_and_training_mode_is_restored():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    assert model.training
    proto = onnx.load_from_string(exported(model, float_input(2, 3)))
    assert model.training
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var", "2.weight"} <= names
    assert "1.num_batches_tracked" not in names  # unused by the graph: left out
    assert "BatchNormalization" in {n.op_type for n in proto.graph.node}


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    proto = onnx.load_from_string(exported(model, float_input(2, 3), export_params=False))
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert not proto.graph.initializer


def test_written_to_a_path_atomically(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.onnx"
    export(model, float_input(2, 3), path)
    onnx.checker.check_model(onnx.load(str(path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


class NumpyInside(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x) * at.tensor(np.abs(x.data).max())  # invisible to the recording


class CustomOp(at.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class UsesCustomOp(nn.Module):
    def forward(self, x):
        return CustomOp.apply(x)


def test_input_dependent_numpy_code_is_refused():
    with pytest.raises(RuntimeError, match="changes with the input"):
        exported(NumpyInside(), float_input(2, 3))


def test_unsupported_ops_are_named():
    with pytest.raises(UnsupportedOperatorError, match="'function:CustomOp'"):
        exported(UsesCustomOp(), float_input(2, 3))
    with pytest.raises(UnsupportedOperatorError, match="ConvTranspose2d"):
        exported(nn.ConvTranspose2d(1, 1, 2), float_input(1, 1, 3, 3))


def test_training_mode_export_is_refused():
    with pytest.raises(NotImplementedError, match="eval-mode"):
        exported(nn.Linear(2, 2), float_input(1, 2), training=TrainingMode.TRAINING)


def test_missing_onnx_package_is_explained(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install 'abdou_torch\\[onnx\\]'"):
        exported(nn.Linear(2, 2), float_input(1, 2))
