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
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

__all__ = ["main", "build_parser"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text}")
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
    train.add_argument("--subset", type=_positive_int, default=None, metavar="N",
                       help="train on the first N training examples only (quick tries)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    train.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="BLAS threads (default: 1 for the MLP and blobs, whose matrices "
                            "are too small to gain from more, and the BLAS default for the "
                            "CNN)")
    add_language_model_arguments(train)
    add_sample_command(commands)
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


def _train(args: argparse.Namespace) -> int:
    from .training.language_model import LM_DATASETS, train_from_args
    if args.dataset in LM_DATASETS:
        return train_from_args(args)
    from .training.recipes import recipe_for
    from .training.trainer import Interrupted, TrainingRun
    args.model = args.model or "mlp"
    recipe = recipe_for(args.dataset, args.model).with_overrides(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay)
    out = args.out or os.path.join("runs", f"{args.dataset}-{args.model}")
    _limit_blas_threads(args.threads, recipe.model)
    run = TrainingRun(recipe, out, seed=args.seed, checkpoint_every=args.checkpoint_every,
                      subset=args.subset, progress=not args.no_progress)
    if args.resume:
        run.resume()
    print(f"training {recipe.model} on {recipe.dataset}: {recipe.epochs} epochs, batch "
          f"{recipe.batch_size}, lr {recipe.lr}, seed {args.seed} -> {out}", flush=True)
    try:
        metrics = run.fit()
    except Interrupted:
        resume = " ".join([os.path.basename(sys.argv[0]) or "abdou-torch"] + [
            a for a in sys.argv[1:] if a != "--resume"] + ["--resume"])
        print(f"\ninterrupted: checkpoint saved to {run.checkpoint_path}\n"
              f"resume with: {resume}", file=sys.stderr)
        return 130
    print(f"test accuracy: {100 * metrics['test_accuracy']:.2f}%")
    print(f"trained in {metrics['seconds']:.1f} s; metrics, plots and model.safetensors in {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "sample":
            from .training.sampling import run_sample
            return run_sample(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"abdou-torch: error: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
