"""torch.set_num_threads / get_num_threads: the BLAS's threads."""
import pytest

import abdou_torch as at


def test_set_num_threads_changes_the_blas_count_and_get_reads_it():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = at.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=None):  # restores the count afterwards
        at.set_num_threads(1)
        assert at.get_num_threads() == 1
        blas = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]
        assert blas and all(n == 1 for n in blas)
    assert at.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_non_positive_or_non_integer_counts_raise_like_pytorch(bad):
    with pytest.raises(RuntimeError, match="positive integer"):
        at.set_num_threads(bad)
    with pytest.raises(RuntimeError, match="positive integer"):
        at.set_num_interop_threads(bad)


def test_interop_threads_are_remembered():
    before = at.get_num_interop_threads()
    at.set_num_interop_threads(3)
    try:
        assert at.get_num_interop_threads() == 3
    finally:
        at.set_num_interop_threads(before)
