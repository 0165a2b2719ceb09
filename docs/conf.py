"""Sphinx configuration of the abdou_torch documentation (``make docs``).

The API pages are generated at build time from the live packages (``_ext/api_pages.py``),
so a function added to the library appears without editing the docs. The tutorials are
MyST notebooks (``tutorials/*.md``) executed while the site builds: a failing cell fails
the build, and their plots are rendered into the pages.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))
# the executed notebooks import the library and the examples from the checkout (their
# kernels inherit this environment); one BLAS thread keeps a shared machine responsive
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(DOCS.parent), str(DOCS / "_ext")] + os.environ.get("PYTHONPATH", "").split(os.pathsep))

project = "abdou_torch"
author = "the abdou_torch authors"
copyright = "the abdou_torch authors"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "sphinx-mathjax-offline",  # MathJax served with the site: pages render offline too
    "myst_nb",
    "api_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "README.md", "**.ipynb_checkpoints", "jupyter_execute",
                    "**/recorded/*"]
root_doc = "index"

# -- API pages -------------------------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autosummary_generate = False
python_maximum_signature_line_length = 88
add_module_names = False
# cross-references are checked (a broken link is an error), except to types that live
# outside this project (NumPy, the standard library): there is no network for intersphinx
nitpicky = True
nitpick_ignore_regex = [
    (r"py:(class|obj|data|exc|func|meth|attr)",
     r"(np|numpy|typing|collections|os|io|pathlib|types|enum|datetime|threading|argparse|"
     r"contextlib|abc|collections\.abc|numpy\.typing|_io|concurrent|torch|matplotlib|"
     r"tensorboardX|mpi4py|safetensors)\..*"),
    (r"py:(class|obj|data)",
     r"(Any|Callable|Iterable|Iterator|Sequence|Mapping|MutableMapping|Optional|Union|"
     r"Generator|Literal|Self|TypeVar|Tuple|List|Dict|Type|Hashable|ndarray|ArrayLike|"
     r"DTypeLike|PathLike|BinaryIO|IO|T|T_co|K|V|timedelta|Path|Enum|ContextManager|"
     r"ellipsis|EllipsisType|NoneType|array|Buffer|TextIO|Number|SupportsIndex|"
     r"Executor|Future|Lock|RLock|Event|Thread|Namespace|ArgumentParser|"
     r"[a-z_][a-z0-9_]*)"),
]

# -- executed tutorials ------------------------------------------------------------------------
nb_execution_mode = os.environ.get("NB_EXECUTION_MODE", "cache")
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True  # checkpoints and runs written by a tutorial vanish after it
nb_merge_streams = True
# plots keep their own size (a small figure is not blown up), shrunk to fit narrow screens
nb_render_image_options = {}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "abdou_torch"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": True,
}
pygments_style = "friendly"
pygments_dark_style = "monokai"
