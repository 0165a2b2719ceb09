"""DataLoader worker threads never hang a program: a worker stuck in ``__getitem__`` raises
after ``timeout`` and the process still exits; Ctrl-C while waiting on a stuck worker
stops the program; an error in ``worker_init_fn`` comes up as that error. The hang cases
run in subprocesses, with a generous wall-clock limit standing for "it did not hang"."""
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import abdou_torch.data as at_data
from abdou_torch.data.sampler import draw_seed
from abdou_torch.random import Generator

STUCK_DATASET = textwrap.dedent("""
    import sys, threading
    import abdou_torch.data as data

    class Stuck(data.Dataset):
        def __len__(self):
            return 8
        def __getitem__(self, index):
            if index >= 2:
                threading.Event().wait()  # a dead network share, a deadlock: never returns
            return index
""")


def _python(code: str, **options):
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


@pytest.mark.parametrize("workers", [1, 3])
def test_stuck_worker_times_out_and_the_process_still_exits(workers):
    process = _python(STUCK_DATASET + textwrap.dedent(f"""
        loader = data.DataLoader(Stuck(), batch_size=1, num_workers={workers}, timeout=0.5)
        seen = []
        try:
            for batch in loader:
                seen.append(int(batch.item()))
        except RuntimeError as error:
            print("caught:", error, "after", seen, flush=True)
        print("end of script", flush=True)
    """))
    stdout, stderr = process.communicate(timeout=120)  # the old pool blocked exit forever
    assert process.returncode == 0, stderr
    assert "caught: DataLoader timed out after 0.5 seconds after [0, 1]" in stdout
    assert stdout.rstrip().endswith("end of script")


def test_ctrl_c_while_waiting_on_a_stuck_worker_stops_the_program():
    process = _python(STUCK_DATASET + textwrap.dedent("""
        loader = data.DataLoader(Stuck(), batch_size=1, num_workers=2)  # no timeout
        iterator = iter(loader)
        next(iterator), next(iterator)
        print("waiting", flush=True)
        next(iterator)
    """))
    deadline = time.time() + 120
    line = process.stdout.readline()
    assert line == "waiting\n", process.stderr.read()
    time.sleep(0.3)  # let it block on the third batch
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=max(deadline - time.time(), 1))
    assert process.returncode in (-signal.SIGINT, 130, 1), stderr
    assert "KeyboardInterrupt" in stderr


def test_worker_init_fn_error_is_raised_as_itself():
    def init(worker_id):
        if worker_id == 1:
            raise ValueError(f"cannot open the shard of worker {worker_id}")

    loader = at_data.DataLoader(list(range(10)), batch_size=2, num_workers=2,
                                worker_init_fn=init)
    with pytest.raises(ValueError, match="cannot open the shard of worker 1") as raised:
        list(loader)
    notes = getattr(raised.value, "__notes__", [])
    assert not notes or "in worker_init_fn in DataLoader worker thread 1" in notes[0]


def test_dataset_error_in_a_worker_keeps_its_type_and_message():
    class Broken(at_data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            if index == 4:
                raise KeyError("sample 4 is broken")
            return np.float32(index)

    with pytest.raises(KeyError, match="sample 4 is broken"):
        list(at_data.DataLoader(Broken(), batch_size=2, num_workers=2))


def test_worker_info_in_workers_and_none_outside():
    seen = {}

    class Who(at_data.Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, index):
            info = at_data.get_worker_info()
            seen.setdefault(info.id, info)
            return index

    assert at_data.get_worker_info() is None
    loader = at_data.DataLoader(Who(), batch_size=2, num_workers=3, generator=Generator(4))
    expected_base = draw_seed(Generator(4))  # the iterator's base seed
    assert [b.numpy().tolist() for b in loader] == [[i, i + 1] for i in range(0, 12, 2)]
    assert sorted(seen) == [0, 1, 2]
    for worker_id, info in seen.items():
        assert info.num_workers == 3 and info.seed == expected_base + worker_id
        assert isinstance(info.dataset, Who)
        with pytest.raises(RuntimeError, match="Cannot assign attributes"):
            info.id = 7


def test_worker_threads_are_daemons():
    import threading
    loader = at_data.DataLoader(list(range(6)), batch_size=2, num_workers=2)
    iterator = iter(loader)
    next(iterator)
    workers = [t for t in threading.enumerate() if t.name.startswith("DataLoader-worker")]
    assert workers and all(t.daemon for t in workers)
    del iterator
