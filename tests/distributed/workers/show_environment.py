"""Writes OUT/env-RANK.json: the variables the launcher set and the BLAS threads in use
(OUT is the first argument)."""
import json
import os
import sys

from threadpoolctl import threadpool_info

names = ["RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
         "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
blas = sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
with open(os.path.join(sys.argv[1], f"env-{os.environ['RANK']}.json"), "w") as handle:
    json.dump({"env": {n: os.environ.get(n) for n in names}, "argv": sys.argv,
               "name": __name__, "blas_threads": blas}, handle)
