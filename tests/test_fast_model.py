"""The default (fast) model: features, student, head, checkpoint, coherent rows, over time."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodnet.audio.patch_descriptors import (
    PATCH_SAMPLE_RATE,
    analyse_patches,
    normalise_level,
    patch_bounds,
    patch_descriptor_names,
)
from moodnet.core import quadrant_of
from moodnet.errors import CheckpointError, DataError, LyricsError, ParameterError
from moodnet.models.fast_head import LinearHead, StudentWeights, quadrant_probabilities
from moodnet.models.fast_model import (
    FastModel,
    LyricsBranches,
    patch_features,
    save_fast_checkpoint,
)
from moodnet.training.fast import concordance, fit_fusion, fit_head
from predict_helpers import FRENCH_LYRICS, HAPPY_LYRICS, SAD_LYRICS, calm, loud

SR = PATCH_SAMPLE_RATE



def write(path: Path, y: np.ndarray) -> Path:
    sf.write(path, y, SR)
    return path


def test_patch_descriptors_have_the_documented_shape_and_are_finite():
    y = normalise_level(calm(10.0, np.random.default_rng(0)))
    analysis = analyse_patches(y)
    assert analysis.rows.shape == (3, len(patch_descriptor_names()))
    assert np.isfinite(analysis.rows).all()
    assert analysis.mel.shape[1] == 96


def test_patch_bounds_cover_every_frame_once():
    for n in (10, 187, 200, 300, 1876):
        bounds = patch_bounds(n)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a < b for a, b in bounds)
        assert all(b == a2 for (_, b), (a2, _) in itertools.pairwise(bounds))


def test_a_gain_change_does_not_change_the_descriptors():
    y = loud(6.0, np.random.default_rng(1)) * 0.5
    rows = analyse_patches(normalise_level(y)).rows
    for gain_db in (-6.0, 6.0):
        other = analyse_patches(normalise_level(y * 10 ** (gain_db / 20))).rows
        np.testing.assert_allclose(other, rows, rtol=1e-3, atol=1e-3)


def test_the_fast_descriptor_paths_equal_their_plain_definitions():
    """The grouped mel product, the running-sum roll-off, the band-range chroma and the patches
    described all at once give what the textbook formulas give."""
    from moodnet.audio import patch_descriptors as pd

    y = normalise_level(loud(13.0, np.random.default_rng(2)))
    power = pd._power(y, n_fft=512, hop=256)
    np.testing.assert_allclose(pd._mel(power), power @ pd._mel_basis().T, rtol=1e-5, atol=1e-9)
    magnitude = np.sqrt(power)
    cumulative = np.cumsum(magnitude, axis=1)
    np.testing.assert_array_equal(pd._rolloff_bins(magnitude, share=0.85),
                                  np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1))
    frames = pd.frame_signal(y, frame_length=4096, hop_length=2048)
    full = np.abs(np.fft.rfft(frames * pd._hann(4096), axis=1)) ** 2
    np.testing.assert_allclose(pd._chroma(y), full @ pd._chroma_basis().T, rtol=1e-4)
    exact = (4 * pd.PATCH_FRAMES - 1) * pd.PATCH_HOP  # 4 patches that end at the last frame
    for signal in (y, y[:exact]):  # the first: 4 patches, the last one longer
        power = pd._power(signal, n_fft=512, hop=256)
        features = pd._FrameFeatures.of(power, pd._db(pd._mel(power)))
        bounds = patch_bounds(power.shape[0])
        one_by_one = np.stack([features.describe(start, stop) for start, stop in bounds])
        np.testing.assert_allclose(features.describe_patches(bounds), one_by_one, rtol=1e-5,
                                   atol=1e-6)
    assert bounds == [(i * pd.PATCH_FRAMES, (i + 1) * pd.PATCH_FRAMES) for i in range(4)]


def test_decibels_of_power_agree_with_ten_log10_and_stop_at_the_floor():
    from moodnet.audio import patch_descriptors as pd

    power = (10.0 ** np.random.default_rng(3).uniform(-14, 4, 100_000)).astype(np.float32)
    power[:10] = 0.0
    expected = np.maximum(10 * np.log10(np.maximum(power.astype(np.float64), 1e-10)), -100)
    db = pd._db(power)
    assert db.dtype == np.float32 and db.min() == -100.0
    np.testing.assert_allclose(db, expected, rtol=0, atol=2e-5)


def test_skipped_descriptor_groups_are_zero_and_leave_the_other_columns_unchanged():
    from moodnet.audio.patch_descriptors import SKIPPABLE_GROUPS, descriptor_groups

    y = normalise_level(loud(10.0, np.random.default_rng(4)))
    full = analyse_patches(y).rows
    groups = descriptor_groups()
    columns = {name: groups[name] for name in ("mfcc", "pulse", "shape")}
    columns["tonal"] = np.concatenate([groups["chroma"], groups["key"]])
    for name in sorted(SKIPPABLE_GROUPS):
        rows = analyse_patches(y, skip={name}).rows
        kept = np.setdiff1d(np.arange(full.shape[1]), columns[name])
        assert np.abs(full[:, columns[name]]).max() > 0
        np.testing.assert_array_equal(rows[:, columns[name]], 0.0)
        np.testing.assert_array_equal(rows[:, kept], full[:, kept])
    with pytest.raises(ParameterError, match="band_mean"):
        analyse_patches(y, skip={"band_mean"})


def test_a_model_skips_the_groups_its_head_does_not_read_with_the_same_logits():
    from moodnet.audio.patch_descriptors import descriptor_groups
    from moodnet.models.fast_model import unread_groups

    n = len(patch_descriptor_names())
    weights = np.random.default_rng(5).standard_normal((n, 2)).astype(np.float32)
    groups = descriptor_groups()
    for name in ("pulse", "shape", "chroma", "key", "band_mean"):
        weights[groups[name]] = 0.0
    head = LinearHead(mean=np.zeros(n, np.float32), std=np.ones(n, np.float32), weights=weights,
                      bias=np.zeros(2, np.float32), scale=np.ones(2, np.float32))
    assert unread_groups(head) == {"pulse", "shape", "tonal"}
    weights[groups["key"][0], 1] = 0.5
    assert unread_groups(head) == {"pulse", "shape"}
    weights[groups["key"][0], 1] = 0.0
    model = FastModel(None, head)
    y = loud(8.0, np.random.default_rng(6))
    full, _ = patch_features(y, student=None)
    np.testing.assert_allclose(model.patch_logits(y).logits, head.logits(full), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("kernel", [3, 5])
def test_the_strided_convolution_equals_a_padded_sliding_window_exactly(kernel):
    """Every length from 1 frame up (edges where the zero padding covers a whole tap): the
    same columns as np.pad + a sliding window, so the same product bit for bit."""
    from moodnet.models.fast_head import _conv_stride2

    rng = np.random.default_rng(kernel)
    weight = rng.standard_normal((4 * kernel, 3)).astype(np.float32)
    for n_frames in range(1, 14):
        x = rng.standard_normal((2, n_frames, 4)).astype(np.float32)
        pad = kernel // 2
        padded = np.pad(x, ((0, 0), (pad, pad), (0, 0)))
        n_out = (n_frames - 1) // 2 + 1
        windows = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=1)[:, ::2]
        expected = windows[:, :n_out].reshape(2 * n_out, -1) @ weight
        np.testing.assert_array_equal(_conv_stride2(x, weight, kernel),
                                      expected.reshape(2, n_out, 3))


def test_numpy_student_equals_the_torch_student():
    torch = pytest.importorskip("torch")
    from moodnet.models.student import Student, StudentConfig

    torch.manual_seed(0)
    model = Student(StudentConfig(channels=(16, 16, 24)))
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    model.eval()
    x = np.random.default_rng(0).random((3, 187, 96), dtype=np.float32) * 3
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.testing.assert_allclose(StudentWeights.from_state(state).embed(x), expected, atol=1e-4)


def test_fit_head_learns_a_separable_axis_and_spreads_like_the_targets():
    rng = np.random.default_rng(0)
    n = 120
    features = rng.standard_normal((n, 6))
    signs = np.stack([features[:, 0] > 0, features[:, 1] > 0], axis=1).astype(int)
    targets = np.clip(0.3 * features[:, :2] + 0.05 * rng.standard_normal((n, 2)), -1, 1)
    head, report = fit_head(features, signs, targets, groups=np.arange(n) % 30)
    logits = head.logits(features)
    assert ((logits > 0) == signs).mean() > 0.9
    assert min(report.inner_auc) > 0.9
    va = np.tanh(logits * head.scale)
    for axis in range(2):
        assert 0.7 < va[:, axis].std() / targets[:, axis].std() < 1.3
        assert concordance(va[:, axis], targets[:, axis]) > 0.7
    _, only_tiny = fit_head(features, signs, targets, groups=np.arange(n) % 30,
                            c_grid=(1e-4, 3e-4))
    assert set(only_tiny.c) <= {1e-4, 3e-4} and report.c != only_tiny.c


def test_fit_head_drops_a_noise_group_chosen_by_inner_cv_and_keeps_the_informative_ones():
    from moodnet.audio.patch_descriptors import descriptor_groups

    rng = np.random.default_rng(2)
    n = 160
    informative = rng.standard_normal((n, 2))
    noise = rng.standard_normal((n, 40))  # many pure-noise columns the head would overfit
    features = np.hstack([informative, noise])
    signs = (informative + 0.8 * rng.standard_normal((n, 2)) > 0).astype(int)
    candidates = {"signal": np.array([0, 1]), "noise": np.arange(2, 42)}
    head, report = fit_head(features, signs, np.zeros((n, 2)), groups=np.arange(n) % 40,
                            feature_groups=candidates)
    assert report.dropped_groups == ("noise",)
    assert np.all(head.weights[2:] == 0) and np.all(head.weights[:2] != 0)
    moved = features.copy()
    moved[:, 2:] += 100.0  # what a dropped column holds cannot move the logits
    np.testing.assert_allclose(head.logits(moved), head.logits(features), atol=1e-9)
    _, plain = fit_head(features, signs, np.zeros((n, 2)), groups=np.arange(n) % 40)
    assert plain.dropped_groups == ()
    groups = descriptor_groups()
    columns = np.concatenate(list(groups.values()))
    assert sorted(columns.tolist()) == list(range(len(patch_descriptor_names())))
    assert {"band_mean", "band_flux", "pulse", "shape", "chroma", "key"} <= set(groups)


def test_fit_head_refuses_a_single_class():
    features = np.random.default_rng(0).standard_normal((40, 3))
    signs = np.ones((40, 2), dtype=int)
    with pytest.raises(DataError, match="both signs"):
        fit_head(features, signs, np.zeros((40, 2)), groups=np.arange(40))


def test_quadrant_probabilities_argmax_is_the_quadrant_of_the_signs():
    for logits in ([2.0, 1.0], [-1.0, 0.5], [-0.3, -2.0], [1.5, -0.1]):
        probs = quadrant_probabilities(np.array(logits))
        assert abs(sum(probs.values()) - 1) < 1e-9
        assert max(probs, key=probs.__getitem__) == quadrant_of(*logits)


def _tiny_head(n: int) -> LinearHead:
    return LinearHead(mean=np.zeros(n, np.float32), std=np.ones(n, np.float32),
                      weights=np.zeros((n, 2), np.float32), bias=np.array([0.1, -0.1], np.float32),
                      scale=np.ones(2, np.float32))


def test_checkpoint_round_trip_and_tampered_heads(tmp_path):
    n = len(patch_descriptor_names())
    save_fast_checkpoint(tmp_path / "ok", head=_tiny_head(n), student_state=None,
                         meta={"model_id": "tiny"})
    model = FastModel.load(tmp_path / "ok")
    assert model.model_id == "tiny" and model.student is None
    save_fast_checkpoint(tmp_path / "bad", head=_tiny_head(n + 1), student_state=None, meta={})
    with pytest.raises(CheckpointError, match="features"):
        FastModel.load(tmp_path / "bad")
    (tmp_path / "bad" / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="unreadable"):
        FastModel.load(tmp_path / "bad")
    meta = json.loads((tmp_path / "ok" / "checkpoint.json").read_text())
    meta["patch_descriptor_version"] = 999
    (tmp_path / "ok" / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="v999"):
        FastModel.load(tmp_path / "ok")


def _lyrics_head(n: int, valence_weight: float) -> LinearHead:
    weights = np.zeros((n, 2), np.float32)
    weights[0, 0] = valence_weight
    return LinearHead(mean=np.zeros(n, np.float32), std=np.ones(n, np.float32), weights=weights,
                      bias=np.zeros(2, np.float32), scale=np.ones(2, np.float32))


def test_lyrics_branches_round_trip_and_one_branch_checkpoints_still_load(tmp_path):
    n = len(patch_descriptor_names())
    embedding = np.zeros(384, np.float32)
    embedding[0] = 1.0
    # sentiment head: valence logit = sentiment_mean (column 0)
    both = LyricsBranches(_lyrics_head(384, 2.0), _lyrics_head(5, 1.0),
                          np.array([[0.5, 0.0], [1.0, 0.0], [0.1, 0.2]], np.float32))
    save_fast_checkpoint(tmp_path / "two", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=both)
    model = FastModel.load(tmp_path / "two")
    happy = model.lyrics_offset(embedding, text=HAPPY_LYRICS)
    sad = model.lyrics_offset(embedding, text=SAD_LYRICS)
    assert happy[0] - sad[0] > 0.3  # the sentiment branch tells them apart
    assert happy[0] == pytest.approx(0.5 * 2.0 + 0.1 + _sentiment_mean(HAPPY_LYRICS), abs=1e-5)
    assert happy[1] == pytest.approx(0.2)
    with pytest.raises(CheckpointError, match="text"):
        model.lyrics_offset(embedding)
    # a checkpoint of the MiniLM branch alone (fusion rows: weight, bias) loads and needs no text
    one = LyricsBranches(_lyrics_head(384, 2.0), None, np.array([[0.5, 0.0], [0.1, 0.2]]))
    save_fast_checkpoint(tmp_path / "one", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=one)
    np.testing.assert_allclose(FastModel.load(tmp_path / "one").lyrics_offset(embedding),
                               [1.1, 0.2], atol=1e-6)
    bad = LyricsBranches(_lyrics_head(384, 2.0), _lyrics_head(5, 1.0), one.fusion)
    save_fast_checkpoint(tmp_path / "bad", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=bad)
    with pytest.raises(CheckpointError, match="fusion"):
        FastModel.load(tmp_path / "bad")
    # a head on all 9 sentiment columns (word statistics, then line scores) reads them all
    nine = LyricsBranches(_lyrics_head(384, 2.0), _lyrics_head(9, 1.0), both.fusion)
    save_fast_checkpoint(tmp_path / "nine", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=nine)
    assert FastModel.load(tmp_path / "nine").lyrics_offset(embedding, text=HAPPY_LYRICS)[0] == \
        pytest.approx(happy[0], abs=1e-5)
    lines_head = _lyrics_head(9, 1.0)
    lines_head.weights[5, 0] = 1.0  # line_compound_mean
    with_lines = LyricsBranches(_lyrics_head(384, 2.0), lines_head, both.fusion)
    save_fast_checkpoint(tmp_path / "lines", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=with_lines)
    from moodnet.lyrics.features import sentiment_features

    line_mean = float(sentiment_features(HAPPY_LYRICS)[5])
    assert line_mean > 0.3
    assert FastModel.load(tmp_path / "lines").lyrics_offset(embedding, text=HAPPY_LYRICS)[0] == \
        pytest.approx(happy[0] + line_mean, abs=1e-5)
    odd = LyricsBranches(_lyrics_head(384, 2.0), _lyrics_head(7, 1.0), both.fusion)
    save_fast_checkpoint(tmp_path / "odd", head=_tiny_head(n), student_state=None, meta={},
                         lyrics=odd)
    with pytest.raises(CheckpointError, match="sentiment head reads 7"):
        FastModel.load(tmp_path / "odd")


def _sentiment_mean(text: str) -> float:
    from moodnet.lyrics.features import sentiment_features

    return float(sentiment_features(text)[0])


def test_fit_fusion_weighs_an_informative_branch_and_ignores_noise():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(2000, 2))
    signs = (truth + rng.normal(size=truth.shape) > 0).astype(int)
    audio = 0.5 * truth + rng.normal(size=truth.shape)
    informative, noise = truth + rng.normal(size=truth.shape), rng.normal(size=truth.shape)
    weights, biases = fit_fusion(audio, [informative, noise], signs)
    assert weights.shape == (2, 2) and biases.shape == (2,)
    assert (weights[0] > 0.3).all() and (weights[1] < 0.1).all()


@pytest.fixture(scope="module")
def shipped():
    from moodnet import Predictor

    return Predictor.load()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    rng = np.random.default_rng(3)
    folder = tmp_path_factory.mktemp("clips")
    return {
        "calm": write(folder / "calm.wav", calm(12.0, rng)),
        "loud": write(folder / "loud.wav", loud(12.0, rng)),
        "calm_then_loud": write(folder / "cl.wav", np.concatenate([calm(15, rng), loud(15, rng)])),
        "loud_then_calm": write(folder / "lc.wav", np.concatenate([loud(15, rng), calm(15, rng)])),
    }


def test_rows_of_the_shipped_model_agree_with_themselves(shipped, clips):
    for path in clips.values():
        result = shipped.predict(path, segments=3.0)
        assert result.quadrant == quadrant_of(result.valence, result.arousal)
        assert max(result.class_probs, key=result.class_probs.__getitem__) == result.quadrant
        assert result.model_id == shipped.model_id != ""
        assert all(-1 <= v <= 1 for v in (result.valence, result.arousal))


def test_over_time_follows_calm_then_loud(shipped, clips):
    """Arousal must rise by >= 0.15 from the calm half to the loud half (and fall the other
    way), on segments of 5 s."""
    rising = shipped.predict(clips["calm_then_loud"], segments=5.0).segments
    falling = shipped.predict(clips["loud_then_calm"], segments=5.0).segments
    assert len(rising) == len(falling) == 6
    first, last = np.mean([s.arousal for s in rising[:3]]), np.mean([s.arousal for s in rising[3:]])
    assert last - first >= 0.15
    first, last = np.mean([s.arousal for s in falling[:3]]), np.mean(
        [s.arousal for s in falling[3:]])
    assert first - last >= 0.15


def test_loud_gets_higher_arousal_than_calm(shipped, clips):
    assert shipped.predict(clips["loud"]).arousal > shipped.predict(clips["calm"]).arousal + 0.2


def test_gain_moves_predictions_by_less_than_0_05(shipped, clips, tmp_path):
    """+-6 dB around a signal with 12 dB of headroom (a clipped +6 dB is another signal)."""
    y, _ = sf.read(clips["calm_then_loud"], dtype="float32")
    y = y * (0.25 / np.abs(y).max())
    base = shipped.predict(write(tmp_path / "base.wav", y))
    for gain_db in (-6.0, 6.0):
        scaled = y * 10 ** (gain_db / 20)
        other = shipped.predict(write(tmp_path / f"g{gain_db}.wav", scaled))
        assert abs(other.valence - base.valence) < 0.05
        assert abs(other.arousal - base.arousal) < 0.05


def test_mp3_at_40_and_128_kbps_agree(shipped, clips, tmp_path):
    ffmpeg = pytest.importorskip("shutil").which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is missing")
    for name in ("calm", "loud"):
        values = []
        for rate in ("128k", "40k"):
            out = tmp_path / f"{name}_{rate}.mp3"
            subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-i", str(clips[name]),
                            "-b:a", rate, str(out)], check=True)
            result = shipped.predict(out)
            values.append((result.valence, result.arousal, result.quadrant))
        assert abs(values[0][0] - values[1][0]) < 0.05
        assert abs(values[0][1] - values[1][1]) < 0.05


def test_the_default_model_predicts_without_torch_or_scipy_fft_with_and_without_lyrics(clips):
    code = (
        "import sys; from moodnet import Predictor; p = Predictor.load(); "
        f"r = p.predict({str(clips['calm'])!r}); "
        f"s = p.predict({str(clips['calm'])!r}, lyrics={HAPPY_LYRICS!r}); "
        "print('torch' in sys.modules, r.quadrant, s.used_lyrics, "
        "any(m.startswith(('scipy.fft', 'scipy.sparse', 'scipy.special')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    # neither torch nor scipy's FFT, sparse and special packages (their imports cost a cold
    # start about 0.5 s on a slow machine)
    assert out == ["False", out[1], "True", "False"] and out[1] in ("Q1", "Q2", "Q3", "Q4")



def test_lyrics_move_valence_the_way_they_mean(shipped, clips):
    """Same audio: clearly positive lyrics give valence >= 0.1 higher than clearly negative
    ones on the calm clip (the margin the lyrics issue asks for; measured 0.34 with
    moodnet-default-7), and arousal barely moves. The generated noise-burst clip is read as
    almost saturated valence (0.97), where tanh leaves lyrics little room (margin 0.016):
    there they must still move it the right way. (On 40 real 4Q clips the margin is at
    least 0.116, median 0.31: docs/results/lyrics_margin.md.)"""
    for clip in ("calm", "loud"):
        happy = shipped.predict(clips[clip], lyrics=HAPPY_LYRICS)
        sad = shipped.predict(clips[clip], lyrics=SAD_LYRICS)
        assert happy.used_lyrics and sad.used_lyrics
        assert happy.valence - sad.valence >= (0.1 if clip == "calm" else 1e-3), clip
        assert abs(happy.arousal - sad.arousal) < 0.1, clip


def test_without_usable_lyrics_the_answer_is_the_audio_answer(shipped, clips):
    audio = shipped.predict(clips["loud"])
    for lyrics in (None, "", "la la", FRENCH_LYRICS):
        result = shipped.predict(clips["loud"], lyrics=lyrics)
        assert (result.valence, result.arousal) == (audio.valence, audio.arousal)
        assert not result.used_lyrics
    assert "English" in shipped.predict(clips["loud"], lyrics=FRENCH_LYRICS).lyrics_note


def test_lyrics_only_prediction(shipped, tmp_path):
    happy = shipped.predict_lyrics(HAPPY_LYRICS)
    sad = shipped.predict_lyrics(SAD_LYRICS)
    assert happy.used_lyrics and happy.segments == () and happy.analysed_s == 0
    assert happy.valence > sad.valence
    with pytest.raises(LyricsError, match="English"):
        shipped.predict_lyrics(FRENCH_LYRICS)
    (tmp_path / "happy.txt").write_text(HAPPY_LYRICS)
    (tmp_path / "sad.lrc").write_text("[ar:moodnet]\n" + "".join(
        f"[00:{i:02d}.00]{line}\n" for i, line in enumerate(SAD_LYRICS.splitlines())))
    out = subprocess.run(
        [sys.executable, "-m", "moodnet", "predict", "--lyrics-only", str(tmp_path),
         "--format", "json"], capture_output=True, text=True, check=True).stdout
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert set(rows) == {"happy.txt", "sad.lrc"}
    assert rows["happy.txt"]["valence"] > rows["sad.lrc"]["valence"]


def test_a_str_naming_a_lyrics_file_is_warned_about(shipped, clips, tmp_path):
    from moodnet.errors import LyricsWarning

    path = tmp_path / "song.txt"
    path.write_text(HAPPY_LYRICS)
    with pytest.warns(LyricsWarning, match="pathlib.Path"):
        as_text = shipped.predict(clips["calm"], lyrics=str(path))
    from_file = shipped.predict(clips["calm"], lyrics=path)
    assert from_file.valence == shipped.predict(clips["calm"], lyrics=HAPPY_LYRICS).valence
    assert as_text.valence != from_file.valence


def test_cli_when_every_file_fails(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    run = subprocess.run([sys.executable, "-m", "moodnet", "predict", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stdout == ""  # no table header without rows
    assert "bad.mp3" in run.stderr and "possibly a pipe" not in run.stderr
    assert "part2_3_length" not in run.stderr


def test_lyrics_that_cannot_be_a_file_name(shipped):
    """Found by bench/fuzz.py: one line of 210 combining characters made the file-name check
    raise OSError (name too long); text with a NUL byte likewise."""
    zalgo = "Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤ ̖t̝͕̳̣̻̪͞h̼͓̲̦̳̘̲e͇̣̰̦̬͎" * 8
    for text in (zalgo, "love\x00joy happy sunshine"):
        try:
            result = shipped.predict_lyrics(text)
        except LyricsError:
            continue
        assert -1 <= result.valence <= 1


def test_distillation_writes_a_student_that_numpy_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from moodnet.models.student import StudentConfig
    from moodnet.training.distill import DistillConfig, distill

    rng = np.random.default_rng(0)
    files = []
    for i in range(6):  # made-up teacher targets for 6 tracks of 2 patches
        path = tmp_path / f"t{i}.npz"
        np.savez(path, mel=rng.random((400, 96)).astype(np.float16), starts=np.array([0, 93]),
                 embeddings=rng.standard_normal((2, 200)).astype(np.float32))
        files.append(path)
    # bfloat16 is asked for (the default) on a CPU taken to lack it: trained in float32
    monkeypatch.setattr("moodnet.training.distill.native_bf16", lambda device: False)
    report = distill(files, out_dir=tmp_path / "student",
                     config=DistillConfig(epochs=2, batch_size=4, bf16=True),
                     student=StudentConfig(channels=(8, 8, 8)))
    assert report["distill"]["bf16"] is False
    assert report["best_epoch"] in (1, 2) and len(report["validation_mse"]) == 2
    assert report["head_directions"] is None
    from safetensors.numpy import load_file

    stored = load_file(str(tmp_path / "student" / "student.safetensors"))
    assert {v.dtype for k, v in stored.items() if v.ndim >= 2} == {np.dtype(np.float16)}
    assert {v.dtype for k, v in stored.items() if v.ndim == 1} == {np.dtype(np.float32)}
    weights = StudentWeights.load(tmp_path / "student" / "student.safetensors")
    out = weights.embed(rng.random((3, 187, 96), dtype=np.float32))
    assert out.shape == (3, 200) and np.isfinite(out).all()


def test_a_stored_student_keeps_its_weights_to_float16_rounding(tmp_path):
    torch = pytest.importorskip("torch")
    from moodnet.models.fast_model import load_student_state
    from moodnet.models.student import Student, StudentConfig

    torch.manual_seed(0)
    state = {k: v.numpy() for k, v in Student(StudentConfig(channels=(8, 8, 8))).state_dict()
             .items() if not k.endswith("num_batches_tracked")}
    save_fast_checkpoint(tmp_path / "m", head=_tiny_head(len(patch_descriptor_names()) + 200),
                         student_state=state, meta={})
    loaded = load_student_state(tmp_path / "m")
    assert loaded.keys() == state.keys()
    for name, value in state.items():
        assert loaded[name].dtype == (np.float16 if value.ndim >= 2 else np.float32)
        np.testing.assert_allclose(loaded[name], value, rtol=1e-3, atol=1e-4)
    x = np.random.default_rng(0).random((2, 187, 96), dtype=np.float32) * 3
    np.testing.assert_allclose(StudentWeights.from_state(loaded).embed(x),
                               StudentWeights.from_state(state).embed(x), atol=0.05, rtol=0.01)


def test_augmented_log_mels_keep_the_level_and_are_reproducible():
    from moodnet.audio.musicnn_frontend import musicnn_log_mel
    from moodnet.errors import ParameterError
    from moodnet.training.augment import augment_log_mel, augmentation_rng

    mel = musicnn_log_mel(normalise_level(loud(6.0, np.random.default_rng(3))))

    def power(m: np.ndarray) -> float:
        return float(((10.0 ** m.astype(np.float64) - 1) / 1e4).mean())

    first = augment_log_mel(mel, rng=augmentation_rng("a.npz", 1))
    np.testing.assert_array_equal(first, augment_log_mel(mel, rng=augmentation_rng("a.npz", 1)))
    assert first.shape[1] == 96 and 0.85 * len(mel) <= len(first) <= 1.15 * len(mel)
    assert power(first) == pytest.approx(power(mel), rel=1e-3)
    for other in (augment_log_mel(mel, rng=augmentation_rng("a.npz", 2)),
                  augment_log_mel(mel, rng=augmentation_rng("b.npz", 1))):
        assert other.shape != first.shape or np.abs(other - first).mean() > 0.01
    with pytest.raises(ParameterError):
        augment_log_mel(mel[:1], rng=augmentation_rng("a.npz", 1))
    with pytest.raises(ParameterError):
        augmentation_rng("a.npz", 0)


def test_mixed_log_mels_keep_the_track_length_and_level_and_hold_the_partner():
    from moodnet.audio.musicnn_frontend import musicnn_log_mel
    from moodnet.errors import ParameterError
    from moodnet.training.augment import augmentation_rng, mix_log_mels

    rng = np.random.default_rng(4)
    track = musicnn_log_mel(normalise_level(loud(6.0, rng)))
    seconds = np.arange(32000) / 16000
    partner = musicnn_log_mel(normalise_level(np.sin(2 * np.pi * 3000.0 * seconds)))

    def power(m: np.ndarray) -> np.ndarray:
        return (10.0 ** m.astype(np.float64) - 1) / 1e4

    mixed = mix_log_mels(track, partner, rng=augmentation_rng("a.npz", 1))
    np.testing.assert_array_equal(mixed, mix_log_mels(track, partner,
                                                      rng=augmentation_rng("a.npz", 1)))
    assert mixed.shape == track.shape and mixed.dtype == np.float32
    assert power(mixed).mean() == pytest.approx(power(track).mean(), rel=1e-3)
    # the partner's 3 kHz tone shows in its band (these seeds draw shares well above 0)
    band = int(np.argmax(power(partner).mean(axis=0)))
    shares = [mix_log_mels(track, partner, rng=augmentation_rng(f"{i}.npz", 1))
              for i in range(5)]
    gains = [power(m)[:, band].mean() / power(track)[:, band].mean() for m in shares]
    assert min(gains) > 2.0
    with pytest.raises(ParameterError):
        mix_log_mels(track, partner[:, :40], rng=augmentation_rng("a.npz", 1))


def test_distillation_weighs_the_error_along_head_directions():
    torch = pytest.importorskip("torch")
    from moodnet.errors import DataError as Refused
    from moodnet.training.distill import DistillConfig, _objective, _unit_directions

    std = np.full(200, 2.0)
    head = np.zeros((1, 200))
    head[0, 0] = 5.0  # a head that reads dimension 0 only
    directions = _unit_directions(head, std)
    assert directions is not None
    along, across = torch.zeros(1, 200), torch.zeros(1, 200)
    along[0, 0], across[0, 1] = 1.0, 1.0
    config = DistillConfig(direction_weight=3.0)
    assert float(_objective(along, directions, config)[0]) == pytest.approx(1 / 200 + 3.0)
    assert float(_objective(across, directions, config)[0]) == pytest.approx(1 / 200)
    assert float(_objective(along, None, config)[0]) == pytest.approx(1 / 200)
    with pytest.raises(Refused, match="head directions"):
        _unit_directions(np.zeros((2, 200)), std)


def labelled_tracks(folder: Path, n: int = 16) -> list:
    """``n`` generated 4 s tracks: loud ones in Q1/Q2, calm ones in Q3/Q4, one artist each."""
    from moodnet.track import Track

    rng = np.random.default_rng(1)
    tracks = []
    for i in range(n):
        energetic = i % 2 == 0
        path = write(folder / f"t{i:02d}.wav", (loud if energetic else calm)(4.0, rng))
        label = ("Q1" if i % 4 == 0 else "Q2") if energetic else ("Q4" if i % 4 == 1 else "Q3")
        tracks.append(Track(id=f"t{i:02d}", dataset="synthetic", artist=f"artist{i}",
                            audio=str(path), label=label, split="train"))
    return tracks


def test_train_default_on_own_data_with_the_shipped_student(tmp_path):
    """``moodnet train default`` on a generated manifest: the student comes from the shipped
    model's checkpoint, and the new checkpoint loads and predicts."""
    from moodnet.cli import main
    from moodnet.data.manifest import write_manifest
    from moodnet.predict import Predictor

    tracks = labelled_tracks(tmp_path)
    manifest = write_manifest(tracks, tmp_path / "m.jsonl")
    run = tmp_path / "run"
    assert main(["train", "default", "--set", f"manifest={manifest}", "--set",
                 f"cache_dir={tmp_path / 'cache'}", "--set", "workers=1", "--set",
                 "model_id=own-data", "--out", str(run)]) == 0
    meta = json.loads((run / "checkpoint.json").read_text())
    assert meta["student_report"]["best_epoch"] >= 1  # carried over from the shipped model
    own = Predictor.load(run)
    loud_result = own.predict(tracks[0].audio)
    assert own.model_id == loud_result.model_id == "own-data"
    assert loud_result.arousal > own.predict(tracks[1].audio).arousal


def test_train_default_distils_its_own_student_and_resumes_from_the_teacher_cache(tmp_path):
    """``moodnet train default --set distill=true``: musicnn labels the training audio and an
    augmented copy of it, a new student is distilled on that, and the checkpoint carries it;
    a second run reuses the cached teacher files."""
    pytest.importorskip("torch")
    from moodnet.cli import main
    from moodnet.data.manifest import write_manifest
    from moodnet.errors import ConfigError
    from moodnet.predict import Predictor
    from moodnet.training.fast_train import FastTrainConfig

    tracks = labelled_tracks(tmp_path, n=12)
    manifest = write_manifest(tracks, tmp_path / "m.jsonl")
    cache = tmp_path / "cache"

    def train(run: Path) -> dict:
        assert main(["train", "default", "--set", f"manifest={manifest}", "--set",
                     f"cache_dir={cache}", "--set", "workers=1", "--set", "distill=true",
                     "--set", "distill_epochs=2", "--set", "distill_channels=[16, 16, 16]",
                     "--set", "model_id=own-student", "--out", str(run)]) == 0
        return json.loads((run / "checkpoint.json").read_text())

    meta = train(tmp_path / "run")
    report = meta["student_report"]
    assert report["student"]["channels"] == [16, 16, 16] and len(report["validation_mse"]) == 2
    assert report["n_tracks"] == 24  # 12 tracks and one augmented copy of each
    assert (cache / "teacher-v1-aug1" / "t00.npz").exists()
    own = Predictor.load(tmp_path / "run")
    assert own.predict(tracks[0].audio).arousal > own.predict(tracks[1].audio).arousal
    teacher_files = sorted(cache.glob("teacher-v1*/*.npz"))
    stamps = [f.stat().st_mtime_ns for f in teacher_files]
    train(tmp_path / "again")
    assert [f.stat().st_mtime_ns for f in sorted(cache.glob("teacher-v1*/*.npz"))] == stamps
    with pytest.raises(ConfigError, match="student_dir or distill"):
        FastTrainConfig(manifest=str(manifest), distill=True, student_dir=str(tmp_path / "run"))


def test_teacher_cache_goes_on_past_a_bad_file_and_mixes_with_partners(tmp_path):
    pytest.importorskip("torch")
    from moodnet.track import Track
    from moodnet.training.teacher import cache_teacher
    from predict_helpers import write_corrupt

    tracks = labelled_tracks(tmp_path, n=4)
    bad = Track(id="bad", dataset="synthetic", audio=str(write_corrupt(tmp_path / "bad.mp3")))
    result = cache_teacher([*tracks, bad], cache=tmp_path / "c", workers=1, mix=1,
                           partners=tracks[:3])
    assert sorted(result.tracks) == [t.id for t in tracks]
    assert len(result.problems) == 1 and "bad.mp3" in result.problems[0]
    assert [f.parent.name for f in result.files()] == ["teacher-v1"] * 4 + ["teacher-v1-mix1"] * 4
    for track in tracks:
        with np.load(tmp_path / "c" / "teacher-v1-mix1" / f"{track.id}.npz") as mixed, \
                np.load(tmp_path / "c" / "teacher-v1" / f"{track.id}.npz") as own:
            partner = str(mixed["partner"])
            assert partner in {"t00", "t01", "t02"} and partner != track.id
            assert mixed["embeddings"].shape == own["embeddings"].shape
            assert np.abs(mixed["embeddings"] - own["embeddings"]).mean() > 0
