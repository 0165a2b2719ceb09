"""``abdou-torch sample``: the draws follow softmax(logits / temperature) over the top k,
the same seed gives the same text, characters are streamed, and bad input is one clear
line."""
from __future__ import annotations

import io

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import serialization
from abdou_torch.cli import main
from abdou_torch.data import CharTokenizer
from abdou_torch.models import GPT, GPTConfig
from abdou_torch.training import sampling
from abdou_torch.training.lm_files import load_language_model, save_language_model

VOCABULARY = "\n !',.:;?ABCDEIJLMORTUaehilmnorstuw"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A directory holding an (untrained) GPT saved the way a run saves it."""
    directory = tmp_path_factory.mktemp("run")
    at.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=len(VOCABULARY), block_size=8, n_layer=1, n_head=2,
                          n_embd=16))
    for param in model.parameters():  # larger weights: a distribution far from uniform
        param.data *= 20
    save_language_model(directory / "model.safetensors", model, "gpt",
                        CharTokenizer(VOCABULARY))
    return directory


def _sample(run_dir, capsys, *options):
    code = main(["sample", str(run_dir), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_same_seed_same_text_other_seed_other_text(run_dir, capsys):
    options = ("--prompt", "ROMEO:", "--tokens", "60", "--temperature", "0.8", "--top-k", "5")
    code, first, _ = _sample(run_dir, capsys, *options, "--seed", "0")
    assert code == 0
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 60 + 1
    assert set(first) <= set(VOCABULARY)
    assert _sample(run_dir, capsys, *options, "--seed", "0")[1] == first
    assert _sample(run_dir, capsys, *options, "--seed", "1")[1] != first


def test_top_k_1_is_the_most_likely_character_each_time(run_dir):
    model, tokenizer, _ = load_language_model(run_dir)
    context = list(tokenizer.encode("ROMEO:"))
    for _ in range(20):  # the greedy continuation, computed here step by step
        logits = model(at.tensor([context[-8:]])).numpy()[0, -1]
        context.append(int(np.argmax(logits)))
    greedy = tokenizer.decode(context)
    for seed in (0, 1):
        text = sampling.sample_text(model, tokenizer, "ROMEO:", 20, temperature=1.3, top_k=1,
                                    seed=seed)
        assert text == greedy


def test_each_character_is_written_and_flushed_as_it_is_drawn(run_dir):
    class Recorder(io.StringIO):
        def __init__(self):
            super().__init__()
            self.events = []

        def write(self, text):
            self.events.append(("write", text))
            return super().write(text)

        def flush(self):
            self.events.append(("flush", None))

    model, tokenizer, _ = load_language_model(run_dir)
    out = Recorder()
    text = sampling.sample_text(model, tokenizer, "JULIET:", 12, 0.8, None, 0, out)
    writes = [text for kind, text in out.events if kind == "write"]
    assert writes[0] == "JULIET:" and all(len(w) == 1 for w in writes[1:])
    assert len(writes) == 13 and "".join(writes) == text == out.getvalue()
    assert all(kind == "flush" for kind, _ in out.events[1::2])  # a flush after each write


def test_draws_follow_the_tempered_top_k_distribution():
    logits = np.array([2.0, 1.0, 0.5, -1.0, 0.0])
    generator = at.Generator(0)

    def frequencies(temperature, top_k, draws=20000):
        counts = np.bincount([sampling._draw(logits, temperature, top_k, generator)
                              for _ in range(draws)], minlength=logits.size)
        return counts / draws

    def expected(temperature, top_k):
        scaled = logits / temperature
        keep = np.argsort(-scaled)[:top_k or logits.size]
        p = np.zeros_like(scaled)
        p[keep] = np.exp(scaled[keep] - scaled.max())
        return p / p.sum()

    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, 3), (1.0, 2)]:
        observed = frequencies(temperature, top_k)
        np.testing.assert_allclose(observed, expected(temperature, top_k), atol=0.012)
        if top_k:
            assert observed[np.argsort(-logits)[top_k:]].sum() == 0


def test_generate_does_not_change_the_model_or_record_a_graph(run_dir):
    model, tokenizer, _ = load_language_model(run_dir)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    ids = list(sampling.generate(model, tokenizer.encode("A"), 30, 1.0, None, at.Generator(0)))
    assert len(ids) == 30 and all(0 <= i < len(VOCABULARY) for i in ids)
    for name, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), before[name])
        assert model.state_dict()[name].grad is None


@pytest.mark.parametrize("options, message", [
    (["--prompt", "ROMEO: ¿qué?"], "--prompt: 3 character(s) not in the vocabulary of 35: "
                                   "'¿', 'q', 'é' (first at position 7)"),
    (["--prompt", ""], "--prompt is empty; give at least one character"),
    (["--temperature", "0"], "--temperature must be a positive finite number, got 0.0 (for "
                             "the most likely character each time, use --top-k 1)"),
    (["--temperature", "-1"], "--temperature must be a positive finite number, got -1.0"),
    (["--temperature", "nan"], "--temperature must be a positive finite number, got nan"),
    (["--temperature", "inf"], "--temperature must be a positive finite number, got inf"),
    (["--top-k", "0"], "--top-k must be a positive integer, got 0"),
    (["--top-k", "-3"], "--top-k must be a positive integer, got -3"),
    (["--tokens", "-1"], "--tokens must be a non-negative integer, got -1"),
])
def test_bad_options_are_one_clear_line(run_dir, capsys, options, message):
    code, out, err = _sample(run_dir, capsys, *options)
    assert code == 2 and out == ""
    assert err.startswith(f"abdou-torch: error: {message}") and err.count("\n") == 1


def test_a_directory_without_a_model(tmp_path, capsys):
    code, out, err = _sample(tmp_path, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert f"{tmp_path} has no model.safetensors: train a model there first" in err
    code, _, err = _sample(tmp_path / "missing", capsys)
    assert code == 2 and "missing does not exist" in err and err.count("\n") == 1


def test_a_file_that_is_not_a_language_model(tmp_path, capsys):
    serialization.save({"weight": at.zeros(2, 2)}, tmp_path / "model.safetensors")
    code, _, err = _sample(tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "not a character language model (metadata format is None" in err
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 5)
    code, _, err = _sample(tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1 and "model.safetensors" in err


def test_weights_that_do_not_fit_the_shape_in_the_metadata(run_dir, tmp_path, capsys):
    tensors, metadata = serialization.load_with_metadata(run_dir / "model.safetensors")
    del tensors["lm_head.weight"]
    serialization.save(tensors, tmp_path / "model.safetensors", metadata=metadata)
    code, _, err = _sample(tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert 'the weights do not fit the model' in err and '"lm_head.weight"' in err
