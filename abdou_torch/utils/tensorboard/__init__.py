"""``torch.utils.tensorboard``: ``SummaryWriter`` writing real TensorBoard event files.

The event files are written by tensorboardX, a well-kept writer of TensorBoard's format
that needs neither PyTorch nor TensorFlow (the optional ``tensorboard`` extra:
``pip install 'abdou_torch[tensorboard]'``). This module adds only what abdou_torch needs:
its tensors become NumPy arrays before they reach the writer, and the constructor takes
PyTorch's arguments. View the runs with ``tensorboard --logdir runs``.

``add_graph`` needs PyTorch's JIT tracer and is not available; everything else
(``add_scalar``, ``add_scalars``, ``add_histogram``, ``add_image(s)``, ``add_text``,
``add_hparams``, ``add_figure``, ``add_embedding`` ...) is tensorboardX's.
"""
from __future__ import annotations

import functools
import os
import time
from typing import Any

try:
    import tensorboardX as _tensorboardX
except ModuleNotFoundError as error:  # an optional extra: say how to get it
    if error.name != "tensorboardX":
        raise
    raise ImportError("torch.utils.tensorboard (abdou_torch.utils.tensorboard) needs the "
                      "tensorboardX package: pip install 'abdou_torch[tensorboard]' (or pip "
                      "install tensorboardX)") from None

from ...tensor import Tensor

__all__ = ["SummaryWriter"]


def _as_numpy(value: Any) -> Any:
    """Tensors (also inside lists, tuples and dicts) as the NumPy arrays tensorboardX takes."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, dict):
        return {key: _as_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_numpy(item) for item in value)
    return value


def _converting(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *(_as_numpy(a) for a in args),
                      **{key: _as_numpy(value) for key, value in kwargs.items()})
    return wrapper


class SummaryWriter(_tensorboardX.SummaryWriter):
    """``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10,
    flush_secs=120, filename_suffix='')``: as PyTorch's; without ``log_dir`` the run goes
    to ``runs/CURRENT_DATETIME_HOSTNAME`` (plus ``comment``)."""

    def __init__(self, log_dir: str | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        super().__init__(logdir=log_dir, comment=comment, purge_step=purge_step,
                         max_queue=max_queue, flush_secs=flush_secs,
                         filename_suffix=filename_suffix)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Several curves in one chart, laid out as PyTorch does: each key is a run of its
        own in ``LOG_DIR/MAINTAG_KEY`` (slashes in the main tag become underscores)."""
        from tensorboardX.summary import scalar
        from tensorboardX.writer import FileWriter
        walltime = time.time() if walltime is None else walltime
        log_dir = str(self._get_file_writer().get_logdir())
        for tag, value in tag_scalar_dict.items():
            path = os.path.join(log_dir, main_tag.replace("/", "_") + "_" + tag)
            writer = self.all_writers.get(path)
            if writer is None:
                writer = self.all_writers[path] = FileWriter(
                    logdir=path, max_queue=self._max_queue, flush_secs=self._flush_secs,
                    filename_suffix=self._filename_suffix)
            writer.add_summary(scalar(main_tag, _as_numpy(value)), global_step, walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        raise NotImplementedError("torch.utils.tensorboard.SummaryWriter.add_graph is not "
                                  "available in abdou_torch (it needs PyTorch's JIT tracer); "
                                  "torch.onnx.export the model and open the file in Netron")


for _name in dir(_tensorboardX.SummaryWriter):
    if _name.startswith("add_") and _name not in ("add_graph", "add_scalars"):
        setattr(SummaryWriter, _name, _converting(getattr(_tensorboardX.SummaryWriter, _name)))
