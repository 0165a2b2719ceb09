"""Ready-made models for the command line: ``CNN`` for images (``abdou-torch train mnist
--model cnn``), ``GPT`` and ``CharLSTM`` for characters (``abdou-torch train shakespeare``).

Each model's state-dict names match what the same ``torch.nn`` code would produce, so
weights move between the two libraries by name.
"""
from .char_lstm import CharLSTM, CharLSTMConfig
from .cnn import CNN
from .gpt import GPT, GPTConfig

__all__ = ["CNN", "GPT", "GPTConfig", "CharLSTM", "CharLSTMConfig"]
