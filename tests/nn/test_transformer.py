"""Transformer layers against PyTorch: state-dict names, initialisation, forward and backward
of encoder and decoder layers, stacks and nn.Transformer (post- and pre-norm, relu/gelu or
a callable, batch_first, bias, masks and padding masks), the causal mask helper, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.nn import functional as F

# PyTorch's notes on its inference fast path (nested tensors), not about the results
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def load_from(ours, theirs):
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())


def tensor_pair(array, requires_grad=True):
    return (at.Tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def compare(out, expected, inputs, ours, theirs, dtype):
    tol = TOL[dtype]
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    weights = np.random.default_rng(0).standard_normal(tuple(expected.shape)).astype(dtype)
    (out * at.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in inputs:
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **tol)
    reference = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, reference[name].grad.numpy(),
                                   err_msg=name, **tol)


LAYER_OPTIONS = [dict(), dict(norm_first=True), dict(activation="gelu", batch_first=True),
                 dict(bias=False, layer_norm_eps=1e-3)]


@pytest.mark.parametrize("options", LAYER_OPTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_encoder_layer_matches_pytorch(options, dtype):
    rng = np.random.default_rng(1)
    theirs = torch.nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, dtype=TORCH_DTYPE[dtype],
                                              **options)
    ours = nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, dtype=dtype, **options)
    load_from(ours, theirs)
    shape = (2, 5, 16) if options.get("batch_first") else (5, 2, 16)
    x = tensor_pair(rng.standard_normal(shape).astype(dtype))
    padding = np.array([[False] * 5, [False] * 3 + [True] * 2])
    out = ours(x[0], src_key_padding_mask=at.tensor(padding))
    expected = theirs(x[1], src_key_padding_mask=torch.tensor(padding))
    compare(out, expected, [x], ours, theirs, dtype)


@pytest.mark.parametrize("options", LAYER_OPTIONS)
def test_decoder_layer_matches_pytorch(options):
    rng = np.random.default_rng(2)
    theirs = torch.nn.TransformerDecoderLayer(16, 2, 20, dropout=0.0, dtype=torch.float64,
                                              **options)
    ours = nn.TransformerDecoderLayer(16, 2, 20, dropout=0.0, dtype=np.float64, **options)
    load_from(ours, theirs)
    batch_first = options.get("batch_first", False)
    tgt = tensor_pair(rng.standard_normal((2, 4, 16) if batch_first else (4, 2, 16)))
    memory = tensor_pair(rng.standard_normal((2, 6, 16) if batch_first else (6, 2, 16)))
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    memory_padding = np.zeros((2, 6), bool)
    memory_padding[0, 4:] = True
    out = ours(tgt[0], memory[0], tgt_mask=at.tensor(mask),
               memory_key_padding_mask=at.tensor(memory_padding))
    expected = theirs(tgt[1], memory[1], tgt_mask=torch.tensor(mask),
                      memory_key_padding_mask=torch.tensor(memory_padding))
    compare(out, expected, [tgt, memory], ours, theirs, np.float64)


@pytest.mark.parametrize("options", [dict(), dict(norm_first=True, batch_first=True),
                                     dict(activation="gelu", bias=False)])
def test_transformer_matches_pytorch(options):
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, dtype=torch.float64, **options)
    ours = nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, dtype=np.float64, **options)
    load_from(ours, theirs)
    batch_first = options.get("batch_first", False)
    src = tensor_pair(rng.standard_normal((3, 7, 16) if batch_first else (7, 3, 16)))
    tgt = tensor_pair(rng.standard_normal((3, 5, 16) if batch_first else (5, 3, 16)))
    mask_ours = nn.Transformer.generate_square_subsequent_mask(5, dtype=at.float64)
    mask_theirs = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    padding = np.zeros((3, 7), bool)
    padding[1, 5:] = True
    out = ours(src[0], tgt[0], tgt_mask=mask_ours, src_key_padding_mask=at.tensor(padding),
               memory_key_padding_mask=at.tensor(padding))
    expected = theirs(src[1], tgt[1], tgt_mask=mask_theirs,
                      src_key_padding_mask=torch.tensor(padding),
                      memory_key_padding_mask=torch.tensor(padding))
    compare(out, expected, [src, tgt], ours, theirs, np.float64)


def test_encoder_stack_with_a_callable_activation_and_a_causal_mask():
    rng = np.random.default_rng(4)
    theirs_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                    activation=torch.nn.functional.silu,
                                                    dtype=torch.float64)
    ours_layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=F.silu,
                                            dtype=np.float64)
    theirs = torch.nn.TransformerEncoder(theirs_layer, 3, torch.nn.LayerNorm(8,
                                                                            dtype=torch.float64),
                                         enable_nested_tensor=False)
    ours = nn.TransformerEncoder(ours_layer, 3, nn.LayerNorm(8, dtype=np.float64))
    assert len(ours.layers) == 3 and ours.layers[0] is not ours.layers[1]
    load_from(ours, theirs)
    x = tensor_pair(rng.standard_normal((6, 2, 8)))
    mask = np.triu(np.full((6, 6), -np.inf), 1)
    out = ours(x[0], mask=at.tensor(mask), is_causal=True)
    expected = theirs(x[1], mask=torch.tensor(mask), is_causal=True)
    compare(out, expected, [x], ours, theirs, np.float64)


def test_decoder_stack_detects_a_causal_mask_as_pytorch():
    rng = np.random.default_rng(5)
    theirs = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64), 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0,
                                                            dtype=np.float64), 2)
    load_from(ours, theirs)
    tgt, memory = tensor_pair(rng.standard_normal((4, 2, 8))), \
        tensor_pair(rng.standard_normal((3, 2, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=at.float64)
    out = ours(tgt[0], memory[0], tgt_mask=mask)
    expected = theirs(tgt[1], memory[1], tgt_mask=torch.tensor(mask.data))
    compare(out, expected, [tgt, memory], ours, theirs, np.float64)


def test_generate_square_subsequent_mask_matches_pytorch():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.data, expected.numpy())
    assert mask.dtype == np.float32


def test_transformer_initialisation_is_xavier_uniform_for_matrices():
    at.manual_seed(0)
    model = nn.Transformer(32, 4, 1, 1, 64)
    weight = model.encoder.layers[0].linear1.weight.data
    bound = np.sqrt(6 / (32 + 64))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.97 * bound
    np.testing.assert_array_equal(model.encoder.norm.weight.data, np.ones(32))


def test_dropout_in_training_and_not_in_eval():
    rng = np.random.default_rng(6)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = at.Tensor(rng.standard_normal((5, 2, 8)).astype(np.float32))
    layer.eval()
    first = layer(x)
    np.testing.assert_array_equal(layer(x).data, first.data)
    layer.train()
    assert not np.allclose(layer(x).data, first.data)


def test_transformer_errors_as_pytorch():
    model = nn.Transformer(8, 2, 1, 1, 16)
    theirs = torch.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(at.zeros(3, 2, 8), at.zeros(3, 4, 8))
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        theirs(torch.zeros(3, 2, 8), torch.zeros(3, 4, 8))
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal to "
                                           "d_model"):
        model(at.zeros(3, 2, 6), at.zeros(3, 2, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(RuntimeError):
        torch.nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_unbatched_encoder_and_decoder_layers_match_pytorch():
    rng = np.random.default_rng(7)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64)
    ours = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=np.float64)
    load_from(ours, theirs)
    tgt, memory = tensor_pair(rng.standard_normal((4, 8))), tensor_pair(rng.standard_normal((6,
                                                                                          8)))
    padding = np.array([False] * 4 + [True] * 2)
    out = ours(tgt[0], memory[0], memory_key_padding_mask=at.tensor(padding))
    expected = theirs(tgt[1], memory[1], memory_key_padding_mask=torch.tensor(padding))
    compare(out, expected, [tgt, memory], ours, theirs, np.float64)
