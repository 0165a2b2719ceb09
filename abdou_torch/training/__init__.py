"""Training runs for the command line: recipes, the loop, checkpoints and plots.

The pieces that keep a run safe serve any training loop, not only :class:`.trainer.
TrainingRun`::

    from abdou_torch.training import nan_guard, run_dir
    from abdou_torch.training.signals import DeferredStop, exit_code

    with run_dir.RunDirectory(out):            # creates and locks: one run per directory
        run_dir.refuse_to_replace(checkpoint, describe_unfinished, resume=resume,
                                  overwrite=overwrite, resume_command=command)
        with DeferredStop() as stop:           # Ctrl-C and SIGTERM set stop.signum
            for step, batch in enumerate(loader, 1):
                loss = ...
                nan_guard.check_loss(loss.item(), step=step, epoch=epoch)
                ...
                if stop.requested:
                    save_checkpoint()           # after nan_guard.check_state(...)
                    return exit_code(stop.signum)   # 130 or 143
        run_dir.write_json(out / "metrics.json", metrics)   # atomic, strict JSON

Failures are :class:`.run_dir.RunDirectoryError` (a write, the lock, the directory),
:class:`.nan_guard.NonFiniteError` and :class:`.checkpoint.CheckpointError`, each with a
one-line message that says what to do.
"""
