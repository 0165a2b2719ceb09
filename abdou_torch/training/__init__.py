"""Training runs for the command line: recipes, the loop, checkpoints and plots."""
