"""Convert a PyTorch checkpoint (``torch.save``'s pickle) into abdou_torch's safe format.

Run it with PyTorch installed, once per file::

    python -m abdou_torch.compat.convert model.pt model.safetensors

PyTorch reads the file with ``torch.load(..., weights_only=True)`` (its restricted
unpickler: tensors, containers and numbers only, no code), the tensors become arrays, and
:func:`abdou_torch.save` writes the result; ``abdou_torch.load`` (or ``torch.load`` under
``abdou-torch run``) then reads it. bfloat16 tensors are widened to float32, which holds
every bfloat16 value exactly.
"""
from __future__ import annotations

import argparse
import sys
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

__all__ = ["convert", "main"]


def convert(source: str, destination: str) -> None:
    """Read ``source`` with PyTorch's weights-only loader and save it to ``destination``."""
    import torch  # the real PyTorch: this tool runs outside `abdou-torch run`

    from ..serialization import save
    obj = torch.load(source, map_location="cpu", weights_only=True)
    save(_to_abdou(obj, torch), destination)


def _to_abdou(value: Any, torch: Any) -> Any:
    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    if isinstance(value, torch.Tensor):
        array = _to_numpy(value.detach(), torch)
        if isinstance(value, torch.nn.Parameter):
            return Parameter(array, requires_grad=value.requires_grad)
        return Tensor(array, requires_grad=value.requires_grad and array.dtype.kind == "f")
    if isinstance(value, torch.dtype):
        return np.dtype(str(value).replace("torch.", ""))
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, OrderedDict):
        return OrderedDict((k, _to_abdou(v, torch)) for k, v in value.items())
    if isinstance(value, dict):
        return {k: _to_abdou(v, torch) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_abdou(v, torch) for v in value)
    return value


def _to_numpy(tensor: Any, torch: Any) -> np.ndarray:
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.cpu().contiguous().numpy().copy()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m abdou_torch.compat.convert",
        description="Convert a PyTorch .pt/.pth checkpoint to abdou_torch's safetensors file "
                    "(needs PyTorch).")
    parser.add_argument("source", help="the file torch.save wrote")
    parser.add_argument("destination", help="the file to write (safetensors + structure)")
    args = parser.parse_args(argv)
    try:
        convert(args.source, args.destination)
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        print("convert: PyTorch is needed to read a PyTorch checkpoint (pip install torch)",
              file=sys.stderr)
        return 1
    print(f"wrote {args.destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
