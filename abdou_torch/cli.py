"""The command line: ``abdou-torch train DATASET`` (also ``python -m abdou_torch``).

Examples::

    abdou-torch train mnist                      # the default MLP, about 98% in under a minute
    abdou-torch train mnist --model cnn          # a small CNN, past 99.2%
    abdou-torch train fashion-mnist --epochs 5
    abdou-torch train blobs --out runs/blobs
    abdou-torch train mnist --checkpoint-every 200 --out runs/a   # then, after a crash:
    abdou-torch train mnist --checkpoint-every 200 --out runs/a --resume
    abdou-torch train shakespeare                # a small GPT on characters (--model lstm)
    abdou-torch sample runs/shakespeare-gpt --prompt "ROMEO:" --top-k 40

A run holds a lock on its --out directory, refuses to replace an unfinished run there
(--resume it, or --overwrite), stops with a non-zero status when the loss stops being
finite, and answers Ctrl-C or SIGTERM by saving a checkpoint and printing the command that
resumes it. Every problem is one line on stderr: status 2 for what the user can fix in the
command or the files, 1 for a run that failed, 128 + N for signal N.
"""
from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Sequence

from .training.outcome import error as _error

__all__ = ["main", "build_parser"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite non-negative number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .training.language_model import LM_DATASETS, LM_MODELS, add_language_model_arguments
    from .training.recipes import DATASETS, MODELS
    from .training.sampling import add_sample_command
    parser = argparse.ArgumentParser(prog="abdou-torch",
                                     description="Train models with abdou_torch.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model and report its test accuracy")
    train.add_argument("dataset", choices=DATASETS + LM_DATASETS)
    train.add_argument("--model", choices=MODELS + LM_MODELS, default=None,
                       help="default: mlp for images and blobs, gpt for shakespeare")
    train.add_argument("--epochs", type=_positive_int, help="default: the recipe's")
    train.add_argument("--batch-size", type=_positive_int, help="default: the recipe's")
    train.add_argument("--lr", type=_non_negative_float,
                       help="peak learning rate (default: the recipe's)")
    train.add_argument("--weight-decay", type=_non_negative_float)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="output directory (default: runs/DATASET-MODEL)")
    train.add_argument("--checkpoint-every", type=_positive_int, default=0, metavar="N",
                       help="save DIR/checkpoint.safetensors every N steps (and each epoch)")
    train.add_argument("--resume", action="store_true",
                       help="continue from DIR/checkpoint.safetensors")
    train.add_argument("--overwrite", action="store_true",
                       help="start over even if DIR holds an unfinished run's checkpoint")
    train.add_argument("--subset", type=_positive_int, default=None, metavar="N",
                       help="train on the first N training examples only (quick tries)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    train.add_argument("--no-compile", action="store_true",
                       help="run the training step eagerly (default: abdou_torch.compile, for "
                            "the models where it is faster; the results are the same)")
    train.add_argument("--nproc", type=_positive_int, default=1, metavar="N",
                       help="train with N processes over MPI (data parallel; the batch size "
                            "stays the global one)")
    train.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="BLAS threads (default: 1 for the MLP and blobs, whose matrices "
                            "are too small to gain from more, and the BLAS default for the "
                            "CNN)")
    add_language_model_arguments(train)
    add_sample_command(commands)
    from .distributed.launch import add_arguments as add_launch_arguments
    add_launch_arguments(commands.add_parser(
        "launch", help="run a script as N processes over MPI (torchrun-like)"))
    commands.add_parser("run", add_help=False,
                        help="run a PyTorch program with `import torch` giving abdou_torch: "
                             "run SCRIPT [ARGS] | run -m MODULE [ARGS]")
    return parser


def _limit_blas_threads(threads: int | None, model: str):
    """Cap NumPy's BLAS threads: on a busy machine, spinning BLAS threads that outnumber the
    cores can make small matrix products many times slower."""
    if threads is None and model != "mlp":
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional dependency (the 'train' extra); run unlimited
        return None
    return threadpool_limits(limits=threads or 1, user_api="blas")


def _train(args: argparse.Namespace, argv: list[str], program: list[str]) -> int:
    from .training.checkpoint import describe_unfinished
    from .training.outcome import fit
    from .training.recipes import recipe_for
    from .training.run_dir import RunDirectory, refuse_to_replace
    from .training.trainer import TrainingRun
    from .training.language_model import LM_DATASETS, train_from_args
    if args.dataset in LM_DATASETS:
        return train_from_args(args, _resume_command(program, argv))
    args.model = args.model or "mlp"
    recipe = recipe_for(args.dataset, args.model).with_overrides(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay)
    out = args.out or os.path.join("runs", f"{args.dataset}-{args.model}")
    resume = _resume_command(program, argv)
    from .distributed.launch import launched_by_mpi
    if args.nproc > 1 and not launched_by_mpi():
        # this process starts the ranks and holds the run directory for them
        from .training.parallel import join_or_relaunch
        with RunDirectory(out):
            refuse_to_replace(os.path.join(out, "checkpoint.safetensors"), describe_unfinished,
                              resume=args.resume, overwrite=args.overwrite,
                              resume_command=resume)
            status = join_or_relaunch(args.nproc, argv)
            assert isinstance(status, int)  # not in an MPI job: the ranks' exit status
            return status
    make_run: Callable[..., TrainingRun]
    directory: AbstractContextManager[Any]
    make_run, directory = TrainingRun, RunDirectory(out)
    if args.nproc > 1:  # a rank: the process that started the job holds the directory
        from .training.parallel import Parallel, join_or_relaunch
        rank = join_or_relaunch(args.nproc, argv)
        assert isinstance(rank, Parallel)  # launched by MPI: this rank joined the job
        make_run, directory = rank.training_run, nullcontext()
    with directory:
        if args.nproc == 1:
            refuse_to_replace(os.path.join(out, "checkpoint.safetensors"), describe_unfinished,
                              resume=args.resume, overwrite=args.overwrite,
                              resume_command=resume)
        _limit_blas_threads(args.threads, recipe.model)
        # a data-parallel rank runs eagerly (its model's hooks all-reduce)
        compiling: dict[str, Any] = {"compile": not args.no_compile} if args.nproc == 1 else {}
        run = make_run(recipe, out, seed=args.seed, checkpoint_every=args.checkpoint_every,
                       subset=args.subset, progress=not args.no_progress, **compiling)
        if args.resume:
            run.resume()
        print(f"training {recipe.model} on {recipe.dataset}: {recipe.epochs} epochs, batch "
              f"{recipe.batch_size}, lr {recipe.lr}, seed {args.seed} -> {out}", flush=True)
        metrics, status = fit(run, resume)
        if metrics is None:
            return status
    print(f"test accuracy: {100 * metrics['test_accuracy']:.2f}%")
    print(f"trained in {metrics['seconds']:.1f} s; metrics, plots and model.safetensors in {out}")
    return 0


def _program(argv_given: bool) -> list[str]:
    """How this process was started, as a command a shell can run again."""
    if argv_given or not sys.argv or not sys.argv[0]:
        return ["abdou-torch"]
    started = os.path.abspath(sys.argv[0])
    if os.path.basename(started) == "__main__.py":  # python -m abdou_torch
        python = sys.executable
        found = shutil.which("python")
        if found and os.path.abspath(found) == os.path.abspath(python):
            python = "python"
        return [python, "-m", "abdou_torch"]
    name = os.path.basename(started)
    found = shutil.which(name)
    return [name if found and os.path.abspath(found) == started else sys.argv[0]]


def _resume_command(program: list[str], argv: list[str]) -> str:
    """The command that continues this run: the same arguments with --resume."""
    def is_flag(token: str, flag: str) -> bool:  # argparse accepts unique prefixes
        return len(token) > 3 and flag.startswith(token)
    kept = [a for a in argv if not (is_flag(a, "--resume") or is_flag(a, "--overwrite"))]
    return shlex.join(program + kept + ["--resume"])


def _train_command(args: argparse.Namespace, argv: list[str], argv_given: bool) -> int:
    """``abdou-torch train``: every expected failure is one line, never a traceback."""
    from .training.run_dir import RunDirectoryError
    from .training.signals import Stopped, stop_immediately
    try:
        with stop_immediately():
            return _train(args, argv, _program(argv_given))
    except Stopped as stop:
        print(f"\nabdou-torch: stopped ({stop}); nothing more was saved", file=sys.stderr)
        return stop.exit_code
    except (RunDirectoryError, ValueError, OSError, RuntimeError) as error:
        _error(str(error))
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["run"]:  # its arguments belong to the program: no parsing here
        from .compat.runner import main as run_program
        return run_program(arguments[1:])
    args = build_parser().parse_args(arguments)
    if args.command == "train":
        return _train_command(args, arguments, argv is not None)
    if args.command == "sample":
        from .training.sampling import run_sample
        try:
            return run_sample(args)
        except (ValueError, OSError) as error:
            _error(str(error))
            return 2
    if args.command == "launch":
        from .distributed.launch import run
        try:
            return run(args)
        except (FileNotFoundError, ValueError) as error:
            print(f"abdou-torch launch: error: {error}", file=sys.stderr)
            return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
