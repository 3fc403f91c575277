"""Convert musicnn's TensorFlow checkpoints (MSD_musicnn, MTT_musicnn) to safetensors; verify.

A one-off developer tool; nothing in moodnet imports it. Three subcommands:

``convert`` (needs TensorFlow and the ``musicnn`` 0.1.0 package, installed apart from
moodnet's venv)::

    python scripts/convert_musicnn.py convert \
        --out src/moodnet/assets/musicnn/msd_musicnn.safetensors

``reference`` (same TensorFlow venv, plus librosa and ``tf-keras`` with
``TF_USE_LEGACY_KERAS=1``): runs musicnn's own graph on audio files and stores the inputs and
outputs in an ``.npz`` per file::

    TF_USE_LEGACY_KERAS=1 python scripts/convert_musicnn.py reference --out-dir /tmp/ref a.mp3 ...

``compare`` (moodnet's venv, torch only): compares moodnet's port against those files::

    python scripts/convert_musicnn.py compare [--weights mtt] /tmp/ref/*.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

# TF variable scope -> moodnet.models.musicnn.Musicnn module, in graph-construction order.
CONVS = {
    "conv2d": "timbral.0.conv",
    "conv2d_1": "timbral.1.conv",
    "conv2d_2": "temporal.0.conv",
    "conv2d_3": "temporal.1.conv",
    "conv2d_4": "temporal.2.conv",
    "conv2d_5": "midend.0.conv",
    "conv2d_6": "midend.1.conv",
    "conv2d_7": "midend.2.conv",
}
BATCH_NORMS = {
    "batch_normalization": "input_bn",
    "batch_normalization_1": "timbral.0.bn",
    "batch_normalization_2": "timbral.1.bn",
    "batch_normalization_3": "temporal.0.bn",
    "batch_normalization_4": "temporal.1.bn",
    "batch_normalization_5": "temporal.2.bn",
    "batch_normalization_6": "midend.0.bn",
    "batch_normalization_7": "midend.1.bn",
    "batch_normalization_8": "midend.2.bn",
    "batch_normalization_9": "pool_bn",
    "batch_normalization_10": "dense_bn",
}
DENSES = {"dense": "dense", "dense_1": "tags"}
BN_FIELDS = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
MIDEND = {"conv2d_5", "conv2d_6", "conv2d_7"}
# The three largest weight matrices (650k of 792k values) in float16: 1.87 MB in all, and
# tag probabilities within 4e-4 of float32 weights (all weights float16: 9e-4; the
# 4-value input batch norm alone in float16 costs 1.7e-3).
FLOAT16_TENSORS = ["midend.0.conv.weight", "dense.weight", "timbral.1.conv.weight"]


def checkpoint_prefix(model: str) -> str:
    import musicnn

    # musicnn's checkpoint files are named ".index", ".data-..." inside the model folder
    return str(Path(musicnn.__file__).parent / model) + "/"


def read_checkpoint(prefix: str) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    names = reader.get_variable_to_shape_map()
    return {name: reader.get_tensor(name) for name in names if "Adam" not in name}


def convert_variables(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TF (NHWC, kernel [h, w, in, out]) -> torch (NCHW, weight [out, in, h, w]) names."""
    state: dict[str, np.ndarray] = {}
    for scope, module in CONVS.items():
        kernel = variables[f"{scope}/kernel"]  # (time, freq or channels, 1, out)
        if scope in MIDEND:  # a 2-D conv spanning all channels == a 1-D conv over time
            weight = kernel[:, :, 0, :].transpose(2, 1, 0)  # (out, in, time)
        else:
            weight = kernel.transpose(3, 2, 0, 1)  # (out, 1, time, freq)
        state[f"{module}.weight"] = weight
        state[f"{module}.bias"] = variables[f"{scope}/bias"]
    for scope, module in BATCH_NORMS.items():
        for tf_field, torch_field in BN_FIELDS.items():
            state[f"{module}.{torch_field}"] = variables[f"{scope}/{tf_field}"]
    for scope, module in DENSES.items():
        state[f"{module}.weight"] = variables[f"{scope}/kernel"].T
        state[f"{module}.bias"] = variables[f"{scope}/bias"]
    used = {f"{scope}/" for scope in (*CONVS, *BATCH_NORMS, *DENSES)}
    left = [n for n in variables if n.rsplit("/", 1)[0] + "/" not in used and "power" not in n]
    if left:
        raise SystemExit(f"unmapped checkpoint variables: {left}")
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def cmd_convert(args: argparse.Namespace) -> None:
    from safetensors.numpy import save_file

    state = convert_variables(read_checkpoint(checkpoint_prefix(args.model)))
    stored = {
        name: value.astype(np.float16 if name in args.float16 else np.float32)
        for name, value in state.items()
    }
    worst = max(
        float(np.abs(stored[n].astype(np.float64) - state[n]).max() / np.abs(state[n]).max())
        for n in state
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(stored, str(args.out), metadata={"source": f"musicnn 0.1.0 {args.model}"})
    n_params = sum(v.size for v in state.values())
    print(f"{args.out}: {len(state)} tensors, {n_params} values, {args.out.stat().st_size} bytes")
    print(f"float16: {sorted(args.float16)}; largest rounding error / tensor max {worst:.2e}")


def tf_graph(model: str, n_frames: int) -> tuple[Any, Any, list[Any]]:
    import tensorflow as tf
    from musicnn import models

    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, 96])
        is_training = tf.compat.v1.placeholder(tf.bool)
        outputs = models.define_model(x, is_training, model, 50)
    session = tf.compat.v1.Session()
    tf.compat.v1.train.Saver().restore(session, checkpoint_prefix(model))
    wanted = [tf.nn.sigmoid(outputs[0]), outputs[0], outputs[8]]  # probs, logits, penultimate
    return session, (x, is_training), wanted


def librosa_log_mel(y: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    rounded = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000.0) * rounded + np.float32(1.0))


def cmd_reference(args: argparse.Namespace) -> None:
    import librosa
    from musicnn.extractor import extractor

    session, (x, is_training), wanted = tf_graph(args.model, 187)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path in args.files:
        y, _ = librosa.load(path, sr=16000)
        mel = librosa_log_mel(y)
        starts = range(0, mel.shape[0] - 187 + 1, 187)
        patches = np.stack([mel[s : s + 187] for s in starts])
        probs, logits, penultimate = session.run(wanted, feed_dict={x: patches, is_training: False})
        # musicnn's own entry point (its float16 log overflows to inf on loud bins)
        taggram, _, features = extractor(str(path), model=args.model, extract_features=True)
        out = args.out_dir / f"{Path(path).stem}.npz"
        np.savez_compressed(
            out, path=str(path), y=y, patches=patches, probs=probs, logits=logits,
            penultimate=penultimate, extractor_probs=taggram,
            extractor_penultimate=features["penultimate"],
        )  # fmt: skip
        print(f"{out}: {patches.shape[0]} patches")


def _ranking_agreement(ours: np.ndarray, theirs: np.ndarray, k: int = 5) -> tuple[float, float]:
    from scipy.stats import spearmanr

    top_ours = np.argsort(-ours)[:k]
    top_theirs = np.argsort(-theirs)[:k]
    overlap = len(set(top_ours) & set(top_theirs)) / k
    return overlap, float(spearmanr(ours, theirs).statistic)


def _report(name: str, ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
    prob_diff = float(np.abs(ours["probs"] - theirs["probs"]).max())
    emb_diff = float(np.abs(ours["penultimate"] - theirs["penultimate"]).max())
    overlap, rho = _ranking_agreement(ours["probs"].mean(0), theirs["probs"].mean(0))
    print(
        f"  {name:<34} max|dprob| {prob_diff:.2e}  max|demb| {emb_diff:.2e}  "
        f"top5 overlap {overlap:.2f}  spearman {rho:.4f}"
    )


def cmd_compare(args: argparse.Namespace) -> None:
    import torch

    from moodnet.audio import load_audio
    from moodnet.audio.musicnn_frontend import musicnn_log_mel, musicnn_patches
    from moodnet.models.musicnn import MusicnnEmbedder

    torch.set_num_threads(args.threads)
    embedder = MusicnnEmbedder(device="cpu", weights=args.weights)
    for ref_path in args.refs:
        ref = np.load(ref_path)
        tf_out = {"probs": ref["probs"], "penultimate": ref["penultimate"]}
        print(f"{ref_path} ({ref['patches'].shape[0]} patches of 3 s)")
        emb, probs = embedder.forward_patches(ref["patches"])
        _report("network only (same patches)", {"probs": probs, "penultimate": emb}, tf_out)
        patches = musicnn_patches(musicnn_log_mel(ref["y"]))
        mel_diff = float(np.abs(patches - ref["patches"]).max())
        emb, probs = embedder.forward_patches(patches)
        _report("+ our mel (same samples)", {"probs": probs, "penultimate": emb}, tf_out)
        print(f"  {'':<34} max|dlogmel| {mel_diff:.2e}")
        y = load_audio(str(ref["path"]), sr=16000)
        patches = musicnn_patches(musicnn_log_mel(y))
        n = min(patches.shape[0], ref["patches"].shape[0])
        emb, probs = embedder.forward_patches(patches[:n])
        both = {"probs": tf_out["probs"][:n], "penultimate": tf_out["penultimate"][:n]}
        _report("+ moodnet.load_audio (end to end)", {"probs": probs, "penultimate": emb}, both)
        # musicnn 0.1.0's extractor repeats the first patch's features for every patch
        # (a stale variable in its loop) and takes the log in float16: compare its taggram,
        # and its features for the first patch only
        emb, probs = embedder.forward_patches(ref["patches"])
        ours = {"probs": probs, "penultimate": emb[:1]}
        theirs = {"probs": ref["extractor_probs"], "penultimate": ref["extractor_penultimate"][:1]}
        _report("vs musicnn extractor (fp16 log)", ours, theirs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    convert = sub.add_parser("convert", help="checkpoint -> safetensors")
    convert.add_argument("--model", default="MSD_musicnn")
    convert.add_argument("--out", type=Path, required=True)
    convert.add_argument(
        "--float16", nargs="*", default=FLOAT16_TENSORS,
        help="tensors stored as float16 (the rest float32); default keeps the file < 2 MB",
    )  # fmt: skip
    reference = sub.add_parser("reference", help="musicnn's TF outputs for audio files")
    reference.add_argument("--model", default="MSD_musicnn")
    reference.add_argument("--out-dir", type=Path, required=True)
    reference.add_argument("files", nargs="+", type=Path)
    compare = sub.add_parser("compare", help="moodnet's port against reference .npz files")
    compare.add_argument("--threads", type=int, default=1)
    compare.add_argument("--weights", default="msd", help="moodnet's checkpoint: msd or mtt")
    compare.add_argument("refs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    {"convert": cmd_convert, "reference": cmd_reference, "compare": cmd_compare}[args.command](args)


if __name__ == "__main__":
    main()
