"""A clip's streams beside its picture: audio copied or re-encoded (with its own timing), descriptive tags copied.

Used by :mod:`colorot.apps.video`; PyAV objects in, nothing returned but what is muxed.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["add_audio_streams", "mux_audio", "copy_tags"]

#: Container and stream tags that describe the file's encoding, not its content: not copied.
_ENCODING_TAGS = {"encoder", "major_brand", "minor_version", "compatible_brands", "duration", "bps",
                  "number_of_frames", "number_of_bytes", "_statistics_tags", "_statistics_writing_app",
                  "_statistics_writing_date_utc", "vendor_id"}

#: The usual layout for a channel count, for a stream whose layout is only a count (Matroska's PCM: "1 channels").
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _named_layout(context):
    """The audio layout to encode with: the stream's own, or the usual one for its channel count (an encoder
    such as AAC refuses an unnamed layout)."""
    layout = context.layout
    if layout.name.endswith("channels") and context.channels in _DEFAULT_LAYOUTS:
        return _DEFAULT_LAYOUTS[context.channels]
    return layout


def add_audio_streams(target, encoders: tuple, source) -> dict:
    """Per input audio stream index: (output stream, whether its packets are copied, the re-encoding's sample
    counter); ``encoders``: per audio stream, None to copy it, else the encoder to re-encode it with."""
    streams = {}
    for stream, encoder in zip(source.streams.audio, encoders):
        if encoder is None:
            streams[stream.index] = (target.add_stream_from_template(stream), True, [])
            continue
        rate = stream.codec_context.sample_rate or 48000
        if encoder == "libopus" and rate not in (48000, 24000, 16000, 12000, 8000):
            rate = 48000
        out = target.add_stream(encoder, rate=rate)
        out.layout = _named_layout(stream.codec_context)
        streams[stream.index] = (out, False, [])
    return streams


def video_stream(container):
    """The clip's video stream as players and ffmpeg pick it (``av_find_best_stream``): not a cover picture stored
    as a first video stream, for one."""
    return container.streams.best("video") or container.streams.video[0]


def copy_tags(source, target) -> None:
    """The clip's and its streams' descriptive tags (creation time, location, title, language) onto the output."""
    def descriptive(tags) -> dict:  # Matroska's statistics tags carry a language: NUMBER_OF_FRAMES-eng
        return {key: value for key, value in tags.items() if key.lower().split("-")[0] not in _ENCODING_TAGS}

    target.metadata.update(descriptive(source.metadata))
    for stream_in, stream_out in zip((video_stream(source), *source.streams.audio), target.streams):
        stream_out.metadata.update(descriptive(stream_in.metadata))


def mux_audio(target, packet, stream, copied: bool, samples: list) -> None:
    """Copy an audio packet, or re-encode it with contiguous timestamps from the stream's own start (picture and
    sound stay in sync; ``samples``: [the next frame's pts in samples], set here from the first frame)."""
    if copied:
        if packet.dts is not None:
            packet.stream = stream
            target.mux(packet)
        return
    for frame in packet.decode():
        at = max(0, round((frame.time or 0.0) * frame.sample_rate))  # a codec's priming (a start < 0): 0
        if not samples or (frame.time is not None and abs(at - samples[0]) > frame.samples):
            samples[:] = [at]  # the start, or after a gap in the sound: from the frame's own time again
        frame.pts, frame.time_base = samples[0], Fraction(1, frame.sample_rate)
        samples[0] += frame.samples
        target.mux(stream.encode(frame))
