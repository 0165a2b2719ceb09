"""Grad mode belongs to the thread that sets it, as in PyTorch."""
from __future__ import annotations

import threading

import abdou_torch as at


def _records() -> bool:
    x = at.ones(2, requires_grad=True)
    return (x * 2).requires_grad


def test_no_grad_in_one_thread_leaves_another_recording():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with at.no_grad():
            seen["worker"] = _records()
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    seen["main"] = _records()  # while the worker is inside no_grad
    release.set()
    thread.join(5)
    assert seen == {"worker": False, "main": True}
    assert at.is_grad_enabled()


def test_interleaved_blocks_in_two_threads_restore_each_threads_mode():
    """Thread A enters no_grad, B enters, A leaves, B leaves: with one process-wide flag
    this left grad off for good."""
    steps = [threading.Event() for _ in range(4)]
    modes = {}

    def thread_a():
        with at.no_grad():
            steps[0].set()
            steps[1].wait(5)
        modes["a_after"] = at.is_grad_enabled()
        steps[2].set()

    def thread_b():
        steps[0].wait(5)
        with at.no_grad():
            steps[1].set()
            steps[2].wait(5)
        modes["b_after"] = at.is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert modes == {"a_after": True, "b_after": True}
    assert at.is_grad_enabled() and _records()


def test_a_new_thread_starts_with_grad_enabled_whatever_its_parent_set():
    seen = {}
    with at.no_grad():
        thread = threading.Thread(target=lambda: seen.setdefault("child", _records()))
        thread.start()
        thread.join(5)
        seen["parent"] = _records()
    assert seen == {"child": True, "parent": False}


def test_set_grad_enabled_in_a_thread_does_not_leak():
    def worker():
        at.set_grad_enabled(False)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert at.is_grad_enabled()
