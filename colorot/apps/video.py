"""Video: one color map for a whole clip, applied to every frame (no flicker).

Fitting a map per frame makes the colors flicker, since every frame's
statistics differ a little. Here a single map is fitted on frames sampled
across the clip (or a look or LUT file is used), and every frame goes
through the same lookup table. Audio streams are copied untouched; frame
rate, size and timestamps are kept. Needs the ``video`` extra (PyAV, which
ships FFmpeg's libraries).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ColorotError
from ..io import atomic_output
from ..options import STYLE_SIDE

__all__ = ["sample_frames", "grade_video", "frame_count", "VIDEO_SUFFIXES"]

#: Encoders tried for the output, by file extension, first available wins.
_ENCODERS = {
    ".mp4": ("libx264", "h264", "mpeg4"),
    ".mov": ("libx264", "h264", "mpeg4"),
    ".mkv": ("libx264", "h264", "ffv1"),
    ".webm": ("libvpx-vp9",),
    ".avi": ("mpeg4",),
}
VIDEO_SUFFIXES = tuple(_ENCODERS)


def frame_count(path) -> int:
    """The number of frames the container declares for its first video stream (0 when unknown)."""
    container = _open(Path(path))
    with container:
        return container.streams.video[0].frames or 0


def _open(path: Path):
    try:
        import av
    except ImportError:
        raise ColorotError("video needs the video extra: pip install 'colorot[video]'") from None
    if not path.exists():
        raise ColorotError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except Exception as error:  # noqa: BLE001 - FFmpeg's errors on unreadable input
        raise ColorotError(f"{path}: not a video colorot can read ({error})") from None
    if not container.streams.video:
        container.close()
        raise ColorotError(f"{path}: has no video stream")
    return container


def sample_frames(path, count: int = 24, max_side: int = STYLE_SIDE) -> list[np.ndarray]:
    """``count`` RGB frames spread evenly over the clip (decoded once, downscaled to ``max_side``)."""
    path = Path(path)
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        step = max(1, total // count) if total else 1
        frames = []
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % step == 0:
                    scale = min(1.0, max_side / max(frame.width, frame.height))
                    if scale < 1:
                        frame = frame.reformat(width=round(frame.width * scale), height=round(frame.height * scale))
                    frames.append(frame.to_ndarray(format="rgb24"))
        except Exception as error:  # noqa: BLE001
            raise ColorotError(f"{path}: corrupt video ({error})") from None
    if not frames:
        raise ColorotError(f"{path}: no frames could be decoded")
    if len(frames) > count:  # an unknown frame count: thin the sample evenly
        frames = [frames[i] for i in np.linspace(0, len(frames) - 1, count).round().astype(int)]
    return frames


def grade_video(
    path,
    output,
    apply: Callable[[np.ndarray], np.ndarray],
    *,
    crf: int = 18,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Apply ``apply`` (RGB uint8 array -> array) to every frame of ``path``, writing ``output`` atomically.

    Video is re-encoded (H.264 for .mp4/.mov/.mkv at ``crf``, VP9 for .webm),
    at the input's size, frame rate and timestamps; audio streams are copied.

    Examples
    --------
    >>> import tempfile, os, numpy as np, av
    >>> folder = tempfile.mkdtemp()
    >>> clip = os.path.join(folder, "clip.mp4")
    >>> with av.open(clip, "w") as container:
    ...     stream = container.add_stream("libx264", rate=10)
    ...     stream.width = stream.height = 32
    ...     for i in range(5):
    ...         frame = np.full((32, 32, 3), 40 * i, np.uint8)
    ...         _ = [container.mux(p) for p in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24"))]
    ...     _ = [container.mux(p) for p in stream.encode()]
    >>> out = grade_video(clip, os.path.join(folder, "inverted.mp4"), lambda frame: 255 - frame)
    >>> frame_count(out)
    5
    """
    import av

    path, output = Path(path), Path(output)
    encoders = _ENCODERS.get(output.suffix.lower())
    if encoders is None:
        raise ColorotError(f"{output}: unknown video format; use one of {', '.join(sorted(_ENCODERS))}")
    if not output.parent.exists():
        raise ColorotError(f"{output.parent}: output folder does not exist")
    codec = next((name for name in encoders if name in av.codecs_available), None)
    if codec is None:
        raise ColorotError(f"{output}: no encoder for {output.suffix} in this FFmpeg build")
    source = _open(path)
    try:
        with source, atomic_output(output, suffix=output.suffix) as (temporary, _), \
                av.open(str(temporary), mode="w") as target:
            video_in = source.streams.video[0]
            video_out = target.add_stream(codec, rate=video_in.average_rate or 25)
            video_out.width, video_out.height = video_in.codec_context.width, video_in.codec_context.height
            video_out.pix_fmt = "yuv420p" if codec != "ffv1" else "yuv444p"
            video_out.time_base = video_in.time_base
            if codec in ("libx264", "libvpx-vp9"):
                video_out.options = {"crf": str(crf)}
            audio = {stream.index: target.add_stream_from_template(stream) for stream in source.streams.audio}
            for packet in source.demux(video_in, *source.streams.audio):
                if packet.stream.index in audio:
                    if packet.dts is not None:
                        packet.stream = audio[packet.stream.index]
                        target.mux(packet)
                    continue
                for frame in packet.decode():
                    graded = av.VideoFrame.from_ndarray(apply(frame.to_ndarray(format="rgb24")), format="rgb24")
                    graded.pts, graded.time_base = frame.pts, frame.time_base
                    target.mux(video_out.encode(graded))
                    if progress is not None:
                        progress(1)
            target.mux(video_out.encode(None))
    except BaseException as error:
        if isinstance(error, ColorotError):
            raise
        if isinstance(error, Exception):
            raise ColorotError(f"{path}: video processing failed ({type(error).__name__}: {error})") from None
        raise
    return output


def lut_applier(table, device) -> Callable[[np.ndarray], np.ndarray]:
    """A frame function applying a :class:`~colorot.transport_map.ColorLUT` (tabulated at every 8-bit
    color first on the CPU: a clip has many frames)."""
    from ..io.arrays import image_to_pixels
    from ..maps.kernels import apply_table

    if device.type == "cpu":
        table.densify()

    return lambda frame: apply_table(table, image_to_pixels(frame, "frame"), device)
