"""Side-by-side benchmarks of abdou_torch against PyTorch eager (``make bench``)."""
