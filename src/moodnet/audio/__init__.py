"""Audio decoding, log-mel features and classical descriptors (numpy/scipy; no torch).

``log_mel_torch`` imports torch only when called.
"""

from moodnet.audio.descriptors import descriptor_names, descriptors
from moodnet.audio.features import (
    FeatureConfig,
    clip_for_file,
    crop_or_pad,
    features_for_file,
    log_mel,
    log_mel_torch,
    mel_spectrogram,
)
from moodnet.audio.io import AudioInfo, audio_info, load_audio

__all__ = [
    "AudioInfo",
    "FeatureConfig",
    "audio_info",
    "clip_for_file",
    "crop_or_pad",
    "descriptor_names",
    "descriptors",
    "features_for_file",
    "load_audio",
    "log_mel",
    "log_mel_torch",
    "mel_spectrogram",
]
