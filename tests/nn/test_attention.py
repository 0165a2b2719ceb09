"""Attention against PyTorch: scaled_dot_product_attention (masks,
causal, scale, grouped-query heads, broadcasting, dropout) and nn.MultiheadAttention
(every option, its state dict, weights, masks, unbatched and batch-first inputs), forward
and backward, second derivatives, and the errors for shapes that do not fit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
from abdou_torch.nn import functional as F
from abdou_torch.ops import attention

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}

# what PyTorch raises for bad arguments (its C++ checks raise RuntimeError)
PYTORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, AssertionError)


def pairs(rng, *shapes, dtype=np.float64):
    result = []
    for shape in shapes:
        array = rng.standard_normal(shape).astype(dtype)
        result.append((at.Tensor(array.copy(), requires_grad=True),
                       torch.tensor(array.copy(), requires_grad=True)))
    return result


def check_forward_backward(ours_out, theirs_out, inputs, dtype=np.float64, seed=0):
    tol = TOL[dtype]
    assert tuple(ours_out.shape) == tuple(theirs_out.shape)
    assert ours_out.dtype == dtype
    np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), **tol)
    weights = np.random.default_rng(seed).standard_normal(tuple(theirs_out.shape))
    (ours_out * at.Tensor(weights.astype(dtype))).sum().backward()
    (theirs_out * torch.tensor(weights).to(theirs_out.dtype)).sum().backward()
    for mine, reference in inputs:
        if reference.grad is None:
            assert mine.grad is None or not np.any(mine.grad.data)
        else:
            np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **tol)


# -- scaled dot-product attention -------------------------------------------------------------

SDPA_CASES = [
    dict(),
    dict(is_causal=True),
    dict(scale=0.3),
    dict(attn_mask="bool"),
    dict(attn_mask="float"),
    dict(attn_mask="bool_broadcast"),
]


def make_mask(kind, rng, length, source, dtype):
    if kind == "bool":
        mask = rng.random((length, source)) > 0.3
        mask[:, 0] = True
        return mask
    if kind == "bool_broadcast":
        mask = rng.random((2, 1, length, source)) > 0.3
        mask[..., 0] = True
        return mask
    return rng.standard_normal((3, length, source)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", SDPA_CASES)
def test_scaled_dot_product_attention_matches_pytorch(case, dtype):
    rng = np.random.default_rng(2)
    inputs = pairs(rng, (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), dtype=dtype)
    kwargs_ours, kwargs_theirs = dict(case), dict(case)
    if "attn_mask" in case:
        mask = make_mask(case["attn_mask"], rng, 4, 6, dtype)
        kwargs_ours["attn_mask"], kwargs_theirs["attn_mask"] = at.tensor(mask), \
            torch.tensor(mask)
    out = F.scaled_dot_product_attention(*[p[0] for p in inputs], **kwargs_ours)
    expected = torch.nn.functional.scaled_dot_product_attention(*[p[1] for p in inputs],
                                                                **kwargs_theirs)
    check_forward_backward(out, expected, inputs, dtype)


def test_attention_to_a_float_mask_that_requires_grad():
    rng = np.random.default_rng(3)
    inputs = pairs(rng, (2, 4, 8), (2, 5, 8), (2, 5, 8), (4, 5))
    out = F.scaled_dot_product_attention(*[p[0] for p in inputs[:3]], attn_mask=inputs[3][0])
    expected = torch.nn.functional.scaled_dot_product_attention(*[p[1] for p in inputs[:3]],
                                                                attn_mask=inputs[3][1])
    check_forward_backward(out, expected, inputs)


def test_a_float32_mask_is_accepted_for_float64_queries_as_in_pytorch():
    rng = np.random.default_rng(14)
    inputs = pairs(rng, (2, 4, 8), (2, 5, 8), (2, 5, 8))
    mask = rng.standard_normal((4, 5)).astype(np.float32)
    out = F.scaled_dot_product_attention(*[p[0] for p in inputs], attn_mask=at.tensor(mask))
    expected = torch.nn.functional.scaled_dot_product_attention(
        *[p[1] for p in inputs], attn_mask=torch.tensor(mask))
    check_forward_backward(out, expected, inputs)


def test_fully_masked_query_rows_give_zero_output_and_gradient_as_pytorch():
    rng = np.random.default_rng(4)
    inputs = pairs(rng, (1, 3, 4), (1, 5, 4), (1, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(*[p[0] for p in inputs], attn_mask=at.tensor(mask))
    expected = torch.nn.functional.scaled_dot_product_attention(*[p[1] for p in inputs],
                                                                attn_mask=torch.tensor(mask))
    check_forward_backward(out, expected, inputs)
    assert not np.any(out.data[0, 1])


def test_unbatched_and_broadcast_batch_dims_match_pytorch():
    rng = np.random.default_rng(5)
    inputs = pairs(rng, (4, 8), (6, 8), (6, 3))
    check_forward_backward(F.scaled_dot_product_attention(*[p[0] for p in inputs]),
                           torch.nn.functional.scaled_dot_product_attention(
                               *[p[1] for p in inputs]), inputs)
    inputs = pairs(rng, (2, 3, 4, 8), (2, 1, 6, 8), (1, 1, 6, 8))
    check_forward_backward(F.scaled_dot_product_attention(*[p[0] for p in inputs]),
                           torch.nn.functional.scaled_dot_product_attention(
                               *[p[1] for p in inputs]), inputs)


def test_grouped_query_attention_matches_pytorch():
    rng = np.random.default_rng(6)
    inputs = pairs(rng, (2, 6, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8))
    out = F.scaled_dot_product_attention(*[p[0] for p in inputs], enable_gqa=True,
                                         is_causal=True)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *[p[1] for p in inputs], enable_gqa=True, is_causal=True)
    check_forward_backward(out, expected, inputs)


def test_dropout_on_the_weights():
    rng = np.random.default_rng(7)
    q, k, v = (at.Tensor(rng.standard_normal((64, 16, 8))) for _ in range(3))
    full = F.scaled_dot_product_attention(q, k, v)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data == 0)
    at.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert not np.allclose(dropped.data, full.data)
    # inverted dropout keeps the expectation: the mean over many draws approaches the output
    draws = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
                     for _ in range(200)], axis=0)
    assert np.abs(draws - full.data).mean() < 0.1 * np.abs(full.data).mean()


def test_seeded_dropout_draws_pytorchs_masks():
    """A seeded program gets PyTorch's attention dropout: sdpa, and the encoder layer that
    drops the weights inside multi-head attention (found running a word-language-model
    program whose Transformer diverged from PyTorch's in its first step)."""
    rng = np.random.default_rng(21)
    q = rng.standard_normal((3, 2, 5, 8)).astype(np.float32)
    at.manual_seed(4)
    torch.manual_seed(4)
    ours = F.scaled_dot_product_attention(*(at.tensor(q),) * 3, dropout_p=0.5)
    theirs = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(q),) * 3,
                                                              dropout_p=0.5)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)
    at.manual_seed(0)
    torch.manual_seed(0)
    x = rng.standard_normal((5, 3, 16)).astype(np.float32)
    layers = nn.TransformerEncoderLayer(16, 2, 32), torch.nn.TransformerEncoderLayer(16, 2, 32)
    layers[1].load_state_dict({k: torch.from_numpy(v.data.copy())
                               for k, v in layers[0].state_dict().items()})
    at.manual_seed(2)
    torch.manual_seed(2)
    np.testing.assert_allclose(layers[0](at.tensor(x)).data,
                               layers[1](torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_dropout_gradient_uses_the_same_mask_as_the_forward():
    rng = np.random.default_rng(8)
    q, k, v = (at.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    at.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    out.sum().backward()
    at.manual_seed(3)
    keep = attention._dropout_keep((2, 3, 3), 0.4, np.float64)  # the same draw again
    assert 0 < np.count_nonzero(keep) < keep.size
    weights = attention._attention_weights_array(q.data @ k.data.swapaxes(-1, -2) / 2)
    np.testing.assert_allclose(out.data, (weights * keep) @ v.data, rtol=1e-12)
    np.testing.assert_allclose(v.grad.data, np.swapaxes(weights * keep, -1, -2) @
                               np.ones((2, 3, 4)), rtol=1e-12)


def test_attention_second_derivatives():
    rng = np.random.default_rng(9)
    q, k, v = (at.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = at.tensor(rng.standard_normal((3, 3)))

    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    assert gradcheck(attend, (q, k, v))
    assert gradgradcheck(attend, (q, k, v))


def test_second_derivatives_with_a_query_that_attends_to_nothing():
    rng = np.random.default_rng(15)
    q, k, v = (at.Tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3))
    mask = np.ones((3, 3), bool)
    mask[1] = False

    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=at.tensor(mask))

    assert gradgradcheck(attend, (q, k, v))
    grads = at.autograd.grad(attend(q, k, v).sum(), (q,), create_graph=True)
    assert np.all(np.isfinite(grads[0].data)) and not np.any(grads[0].data[1])


def test_fused_attention_matches_the_composite():
    rng = np.random.default_rng(10)
    q, k, v = (at.Tensor(rng.standard_normal((2, 4, 5, 8)), requires_grad=True)
               for _ in range(3))
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    mask = np.where(np.tri(5, dtype=bool), 0.0, -np.inf)
    composite = F.softmax(q @ k.mT / np.sqrt(8) + at.tensor(mask), -1) @ v
    np.testing.assert_allclose(fused.data, composite.data, rtol=1e-12, atol=1e-14)
    first = at.autograd.grad(fused.sum(), (q, k, v))
    second = at.autograd.grad(composite.sum(), (q, k, v))
    for a, b in zip(first, second):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("call,error,match", [
    (lambda q, k, v: F.scaled_dot_product_attention(q[0, 0, 0], k, v), at.ShapeError,
     "at least 2 dimensional"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[..., :7], v), at.ShapeError,
     "same last dim"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v[..., :4, :]), at.ShapeError,
     "same sequence length"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=at.zeros(3, 5)),
     at.ShapeError, "attn_mask of shape \\(3, 5\\) does not broadcast"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v.double()), TypeError,
     "the same dtype"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=at.zeros(4, 5).long()),
     TypeError, "attn_mask dtype"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=at.ones(4, 5).bool(),
                                                    is_causal=True),
     RuntimeError, "should not be set when is_causal"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[:, :2], v[:, :2], enable_gqa=True),
     at.ShapeError, "must divide the number of heads"),
])
def test_scaled_dot_product_attention_errors(call, error, match):
    q, k, v = at.zeros(2, 3, 4, 8), at.zeros(2, 3, 5, 8), at.zeros(2, 3, 5, 8)
    with pytest.raises(error, match=match):
        call(q, k, v)


# -- MultiheadAttention --------------------------------------------------------------------------

def mha_pair(*args, dtype=np.float64, **kwargs):
    theirs = torch.nn.MultiheadAttention(*args, dtype=TORCH_DTYPE[dtype], **kwargs)
    ours = nn.MultiheadAttention(*args, dtype=dtype, **kwargs)
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


MHA_MODULES = [dict(), dict(bias=False), dict(add_bias_kv=True), dict(add_zero_attn=True),
               dict(kdim=5, vdim=7), dict(batch_first=True, add_bias_kv=True,
                                          add_zero_attn=True)]
MHA_CALLS = [dict(), dict(average_attn_weights=False), dict(need_weights=False),
             dict(key_padding_mask="bool", attn_mask="float"),
             dict(key_padding_mask="float", need_weights=False),
             dict(attn_mask="bool3d", need_weights=False), dict(attn_mask="causal",
                                                                 is_causal=True)]


def mha_call_arguments(call, rng, batch, length, source, heads, dtype):
    ours, theirs = {}, {}
    for name, value in call.items():
        if name == "key_padding_mask":
            mask = rng.random((batch, source)) > 0.7
            mask[:, 0] = False
            array = mask if value == "bool" else np.where(mask, -1e9, 0.0).astype(dtype)
        elif name == "attn_mask" and value == "float":
            array = rng.standard_normal((length, source)).astype(dtype)
        elif name == "attn_mask" and value == "bool3d":
            array = rng.random((batch * heads, length, source)) > 0.7
            array[..., 0] = False
        elif name == "attn_mask" and value == "causal":
            array = np.triu(np.full((length, source), -np.inf), 1).astype(dtype)
        else:
            ours[name] = theirs[name] = value
            continue
        ours[name], theirs[name] = at.tensor(array), torch.tensor(array)
    return ours, theirs


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("module_kwargs", MHA_MODULES)
@pytest.mark.parametrize("call", MHA_CALLS)
def test_multihead_attention_matches_pytorch(module_kwargs, call):
    rng = np.random.default_rng(11)
    ours, theirs = mha_pair(8, 2, **module_kwargs)
    batch, length = 3, 4
    source = length if call.get("attn_mask") == "causal" else 6
    kdim, vdim = module_kwargs.get("kdim", 8), module_kwargs.get("vdim", 8)
    first = (batch, length) if module_kwargs.get("batch_first") else (length, batch)
    second = (batch, source) if module_kwargs.get("batch_first") else (source, batch)
    inputs = pairs(rng, first + (8,), second + (kdim,), second + (vdim,))
    kwargs_ours, kwargs_theirs = mha_call_arguments(call, rng, batch, length, source, 2,
                                                    np.float64)
    out, weights = ours(*[p[0] for p in inputs], **kwargs_ours)
    expected, expected_weights = theirs(*[p[1] for p in inputs], **kwargs_theirs)
    if expected_weights is None:
        assert weights is None
        check_forward_backward(out, expected, inputs)
    else:
        np.testing.assert_allclose(weights.data, expected_weights.detach().numpy(),
                                   **TOL[np.float64])
        check_forward_backward(out + weights.sum() * 0.1, expected +
                               expected_weights.sum() * 0.1, inputs)
    reference = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, reference[name].grad.numpy(),
                                   err_msg=name, **TOL[np.float64])


def test_mismatched_mask_types_warn_as_pytorch():
    layer = nn.MultiheadAttention(4, 2)
    x = at.zeros(3, 1, 4)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        layer(x, x, x, key_padding_mask=at.zeros(1, 3).bool(), attn_mask=at.zeros(3, 3))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        torch.nn.MultiheadAttention(4, 2)(*[torch.zeros(3, 1, 4)] * 3,
                                          key_padding_mask=torch.zeros(1, 3).bool(),
                                          attn_mask=torch.zeros(3, 3))


def test_self_attention_in_float32_and_unbatched():
    rng = np.random.default_rng(12)
    ours, theirs = mha_pair(8, 4, dtype=np.float32)
    inputs = pairs(rng, (5, 8), dtype=np.float32)
    x_ours, x_theirs = inputs[0]
    out, weights = ours(x_ours, x_ours, x_ours)
    expected, expected_weights = theirs(x_theirs, x_theirs, x_theirs)
    assert weights.shape == (5, 5)
    np.testing.assert_allclose(weights.data, expected_weights.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    check_forward_backward(out, expected, inputs, np.float32)


def test_multihead_attention_initialisation_as_pytorch():
    at.manual_seed(0)
    layer = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))
    assert np.abs(layer.in_proj_weight.data).max() <= bound
    assert np.abs(layer.in_proj_weight.data).max() > 0.98 * bound
    assert not np.any(layer.in_proj_bias.data) and not np.any(layer.out_proj.bias.data)
    assert layer.bias_k.shape == (1, 1, 64)
    np.testing.assert_allclose(layer.bias_k.data.std(), np.sqrt(2 / 128), rtol=0.35)


def test_dropout_only_in_training():
    rng = np.random.default_rng(13)
    layer = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = at.Tensor(rng.standard_normal((4, 2, 8)).astype(np.float32))
    layer.eval()
    first, _ = layer(x, x, x)
    np.testing.assert_array_equal(layer(x, x, x)[0].data, first.data)
    layer.train()
    assert not np.allclose(layer(x, x, x)[0].data, first.data)


@pytest.mark.parametrize("call,error,match", [
    (lambda m, q, lib: m(q[0, 0], q, q), at.ShapeError, "unbatched 2D or batched 3D"),
    (lambda m, q, lib: m(q, q[0], q[0]), at.ShapeError, "expected `key` and `value` to be 3-D"),
    (lambda m, q, lib: m(q, q, q, key_padding_mask=lib.zeros(2, 4, 1).bool()), at.ShapeError,
     "`key_padding_mask` to be `None` or 2-D"),
    (lambda m, q, lib: m(q, q, q, key_padding_mask=lib.zeros(4, 2).bool()), at.ShapeError,
     "key_padding_mask of shape \\(2, 4\\)"),
    (lambda m, q, lib: m(q, q, q, attn_mask=lib.zeros(4, 5)), at.ShapeError,
     "2D attn_mask is \\(4, 5\\), but should be \\(4, 4\\)"),
    (lambda m, q, lib: m(q, q, q, attn_mask=lib.zeros(3, 4, 4)), at.ShapeError,
     "3D attn_mask is \\(3, 4, 4\\), but should be \\(4, 4, 4\\)"),
    (lambda m, q, lib: m(q, q, q, is_causal=True), RuntimeError, "Need attn_mask"),
    (lambda m, q, lib: m(q[..., :6], q[..., :6], q[..., :6]), at.ShapeError,
     "expecting embedding dimension of 8, but got 6"),
    (lambda m, q, lib: m(q, q[:3], q), at.ShapeError, "key shape .* does not match value shape"),
    (lambda m, q, lib: m(q, q, q, attn_mask=lib.zeros(4, 4).long()), TypeError,
     "only bool and floating types of attn_mask"),
])
def test_multihead_attention_errors_where_pytorch_raises(call, error, match):
    with pytest.raises(PYTORCH_ERRORS):
        call(torch.nn.MultiheadAttention(8, 2), torch.zeros(4, 2, 8), torch)
    with pytest.raises(error, match=match):
        call(nn.MultiheadAttention(8, 2), at.zeros(4, 2, 8), at)


def test_multihead_attention_constructor_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 2)
