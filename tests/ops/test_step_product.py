"""The recurrent step product (ops/step_product.py): every layout it can choose computes
x @ weight."""
import numpy as np
import pytest

from abdou_torch.ops import step_product
from abdou_torch.ops.step_product import StepProduct


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, k, n, transposed", [(32, 256, 1024, True), (32, 1024, 256, False),
                                                    (16, 200, 750, True)])
def test_every_candidate_layout_computes_the_product(rows, k, n, transposed, dtype):
    generator = np.random.default_rng(0)
    weight = generator.standard_normal((n, k) if transposed else (k, n)).astype(dtype)
    weight = weight.T if transposed else weight  # as the kernels pass W_hh^T: a view
    layouts = step_product._candidates(rows, k, n)
    assert len(layouts) == 3 and layouts[1][0] < n  # the split candidates are tried here
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-11)
    for layout in layouts:
        product = StepProduct(weight, rows, layout)
        for active in (rows, 5):  # a packed batch's later steps use fewer rows
            x = generator.standard_normal((active, k)).astype(dtype)
            out = np.full((rows, n), np.nan, dtype)
            result = product(x, out[:active])
            np.testing.assert_allclose(out[:active], x.astype(np.float64) @ weight, **tol)
            assert np.shares_memory(result, out) and np.isnan(out[active:]).all()
        strided = np.full((2 * rows, n), np.nan, dtype)[::2]  # not contiguous: block by block
        x = generator.standard_normal((rows, k)).astype(dtype)
        product(x, strided)
        np.testing.assert_allclose(strided, x.astype(np.float64) @ weight, **tol)


def test_the_plan_is_measured_once_and_is_a_candidate():
    key = (8, 512, 1024, np.dtype(np.float32).str)
    step_product._plans.pop(key, None)
    chosen = step_product.plan(8, 512, 1024, np.float32)
    assert chosen in step_product._candidates(8, 512, 1024)
    step_product._plans[key] = (128, "F")  # the cached plan is what a new product uses
    product = StepProduct(np.ones((512, 1024), np.float32), 8)
    assert len(product.blocks) == 8 and product.blocks[0].flags.f_contiguous
    step_product._plans.pop(key)


def test_a_small_product_or_a_large_batch_is_never_split():
    assert step_product._candidates(4, 16, 64) == [(64, "C")]
    assert step_product._candidates(1024, 256, 1024) == [(1024, "C")]  # blocks of 2 columns
    assert step_product.plan(4, 16, 64, np.float64) == (64, "C")
