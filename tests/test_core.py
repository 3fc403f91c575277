"""The shared vocabulary (moodnet.core): quadrant rule, words, numerics, devices."""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from moodnet.core import (
    AUDIO_EXTENSIONS,
    QUADRANT_RULE,
    QUADRANT_WORDS,
    QUADRANTS,
    json_safe,
    quadrant_caption,
    quadrant_ids,
    quadrant_of,
    quadrants_in_words,
    resolve_bf16,
    resolve_device,
    softmax,
    torch_threads,
)
from moodnet.errors import ParameterError
from moodnet.predict.moods import RUSSELL_1980_ANGLES


@pytest.mark.parametrize(
    ("valence", "arousal", "quadrant"),
    [
        (0.5, 0.5, "Q1"),
        (-0.5, 0.5, "Q2"),
        (0.0, 0.5, "Q2"),  # V <= 0 is negative
        (-0.5, -0.5, "Q3"),
        (0.0, 0.0, "Q3"),
        (0.5, -0.5, "Q4"),
        (0.5, 0.0, "Q4"),  # A <= 0 is low
    ],
)
def test_quadrant_rule_of_design_md(valence: float, arousal: float, quadrant: str) -> None:
    assert quadrant_of(valence, arousal) == quadrant
    assert QUADRANTS[int(quadrant_ids([[valence, arousal]])[0])] == quadrant


def test_quadrant_ids_reject_bad_shapes_and_nan() -> None:
    with pytest.raises(ParameterError, match="shape"):
        quadrant_ids(np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="non-finite"):
        quadrant_of(math.nan, 0.5)


def test_one_wording_of_the_quadrants() -> None:
    assert QUADRANT_RULE == "Q1 = V>0,A>0; Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0"
    assert quadrant_caption("Q3") == "Q3 sad / tired"
    assert "Q4 = V>0,A<=0 (calm, content)" in quadrants_in_words()
    with pytest.raises(ParameterError, match="Q5"):
        quadrant_caption("Q5")
    # every quadrant word is one of Russell's words, placed in that quadrant
    for quadrant, words in QUADRANT_WORDS.items():
        for word in words:
            angle = math.radians(RUSSELL_1980_ANGLES[word])
            assert quadrant_of(math.cos(angle), math.sin(angle)) == quadrant, word


def test_audio_extensions_are_the_union_of_the_old_sets() -> None:
    assert {".au", ".webm", ".mp3", ".wav", ".flac", ".m4a", ".opus"} <= AUDIO_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in AUDIO_EXTENSIONS)


def test_softmax_rows_sum_to_one_and_survive_large_logits() -> None:
    probs = softmax(np.array([[1000.0, 1000.0], [0.0, math.log(3.0)]]), axis=1)
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.25, 0.75]])


def test_json_safe_turns_nan_and_numpy_into_plain_json() -> None:
    value = {1: np.float32(0.5), "nan": math.nan, "inf": np.float64("inf"),
             "array": np.array([1.0, np.nan]), "tuple": (np.int64(3),)}  # fmt: skip
    text = json.dumps(json_safe(value), allow_nan=False)
    assert json.loads(text) == {"1": 0.5, "nan": None, "inf": None, "array": [1.0, None],
                                "tuple": [3]}  # fmt: skip


def test_torch_threads_are_restored_after_the_block() -> None:
    import torch

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with torch_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"), torch_threads(target):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_resolve_device() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device().type in ("cpu", "cuda")
    with pytest.raises(ParameterError, match="expected auto, cpu or cuda"):
        resolve_device("tpu")


@pytest.mark.parametrize("native", [True, False])
def test_bf16_is_used_only_where_the_device_computes_it_natively(
        native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    import torch

    from moodnet.errors import PrecisionWarning
    from moodnet.models.musicnn import MusicnnEmbedder

    monkeypatch.setattr("moodnet.core.native_bf16", lambda device: native)
    cpu = torch.device("cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert resolve_bf16(cpu, False) is False
        assert not caught
        assert resolve_bf16(cpu, True) is native
        assert MusicnnEmbedder(device="cpu", bf16=True).bf16 is native
    assert [w.category for w in caught] == ([] if native else [PrecisionWarning] * 2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_heap_tuning_applies_on_glibc_and_yields_to_the_users_settings() -> None:
    probe = "from moodnet.core import keep_heap_for_arrays; print(keep_heap_for_arrays())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    run = functools.partial(subprocess.run, [sys.executable, "-c", probe], capture_output=True,
                            text=True, check=True)
    assert run(env=env).stdout.strip() == "True"
    users = dict(env, MALLOC_TRIM_THRESHOLD_="1000000")
    assert run(env=users).stdout.strip() == "False"


FORK_PROBE = '''
import sys

def loaded(name):
    return name in sys.modules

if __name__ == "__main__":
    import moodnet.predict.fast_predict  # imported here only: a fresh interpreter lacks it
    from moodnet.core import worker_pool
    for inherit in (True, False):
        with worker_pool(1, inherit=inherit) as pool:
            print(inherit, pool.submit(loaded, "moodnet.predict.fast_predict").result())
    __import__(sys.argv[1])  # a library whose thread pools do not survive a fork
    with worker_pool(1, inherit=True) as pool:
        print("after", sys.argv[1], pool.submit(loaded, "moodnet.predict.fast_predict").result())
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork workers: Linux only")
@pytest.mark.parametrize("library", ["torch", "onnxruntime"])
def test_inheriting_workers_are_forks_until_torch_or_onnxruntime_is_imported(
        tmp_path, library) -> None:
    pytest.importorskip(library)
    script = tmp_path / "probe.py"
    script.write_text(FORK_PROBE)
    out = subprocess.run([sys.executable, str(script), library], capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()
    assert out == ["True True", "False False", f"after {library} False"]
