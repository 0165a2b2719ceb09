"""examples/char_gpt.py runs as written: it learns (the loss falls from ln 83) and writes
300 characters after its prompt."""
import math
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "char_gpt.py"


def test_char_gpt_example_trains_and_samples():
    result = subprocess.run([sys.executable, str(EXAMPLE), "--steps", "60"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("112,768 parameters\n")
    losses = [float(v) for v in re.findall(r"validation loss ([\d.]+)", result.stdout)]
    assert len(losses) == 3 and abs(losses[0] - math.log(83)) < 0.1
    assert losses[-1] < losses[0] - 1.0
    sample = result.stdout[result.stdout.index("ROMEO:"):].rstrip("\n")
    assert len(sample) >= len("ROMEO:") + 290  # 300 characters, trailing newlines stripped
