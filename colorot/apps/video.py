"""Video: one color map for a whole clip, applied to every frame (no flicker).

Fitting a map per frame makes the colors flicker, since every frame's
statistics differ a little. Here a single map is fitted on frames sampled
across the clip (or a look or LUT file is used), and every frame goes
through the same lookup table. Needs the ``video`` extra (PyAV, which ships
FFmpeg's libraries).

What a player sees is kept: frame rate, size and timestamps; the clip's color
description (primaries, transfer, matrix, range: ITU-T H.273), with YUV <-> RGB
converted by the matrix and range the stream declares (BT.709 for an untagged
HD clip and BT.601 below, as players assume, and then written as tags); the
bit depth (a clip of more than 8 bits is graded on 16-bit frames and written
with a 10-bit codec) and the chroma subsampling where the encoder has it.
Audio is copied, or re-encoded where the output container cannot hold its
codec (Opus for WebM, AAC for MP4/MOV). Everything that cannot be written is
refused before any frame is decoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ColorotError
from ..io import atomic_output
from ..options import STYLE_SIDE
from .streams import add_audio_streams, copy_tags, mux_audio, video_stream

__all__ = ["sample_frames", "grade_video", "frame_count", "probe_clip", "ClipInfo", "VIDEO_SUFFIXES", "HDR_MODES"]

#: Encoders tried for the output, by file extension, first available wins: (8-bit, more than 8 bits).
_ENCODERS = {
    ".mp4": (("libx264", "h264", "mpeg4"), ("libx264", "libx265")),
    ".mov": (("libx264", "h264", "mpeg4"), ("prores_ks", "libx264", "libx265")),
    ".mkv": (("libx264", "h264", "ffv1"), ("libx264", "libx265", "ffv1")),
    ".webm": (("libvpx-vp9",), ("libsvtav1", "libaom-av1")),
    ".avi": (("mpeg4",), ()),
}
VIDEO_SUFFIXES = tuple(_ENCODERS)

#: Audio codecs each container holds (None: any); others are re-encoded with the second entry.
_AUDIO = {
    ".mp4": ({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}, "aac"),
    ".mov": ({"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_s24be"}, "aac"),
    ".mkv": (None, "libopus"),
    ".webm": ({"opus", "vorbis"}, "libopus"),
    ".avi": ({"mp3", "ac3", "pcm_s16le", "pcm_u8"}, "pcm_s16le"),
}

#: How a clip with an HDR transfer (PQ, HLG) or BT.2020 primaries is graded: refused (the default: colorot's
#: maps are fitted on SDR sRGB/BT.709 colors), or its code values graded as they are (a LUT made for them).
HDR_MODES = ("refuse", "codes")

# ITU-T H.273 code points (FFmpeg's AVColorSpace, AVColorTransferCharacteristic, AVColorPrimaries, AVColorRange).
_UNSPECIFIED, _BT709, _BT601, _BT2020 = 2, 1, 5, 9
_SWSCALE_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}  # H.273 matrix -> swscale's coefficients
_HDR_TRANSFERS = {16: "PQ (SMPTE ST 2084)", 18: "HLG (ARIB STD-B67)"}
_LIMITED, _FULL = 1, 2
#: How swscale resamples the chroma planes: repeated on the way up, averaged on the way down. An identity grade
#: of lossless 4:2:0 HD bars then comes back within 2 codes of luma and 4 of chroma (8 bits; bilinear, swscale's
#: default: 38 at the bars' edges) and 1.5 and 3.5 (10 bits; area both ways: 51 at the edges).
_CHROMA_UP, _CHROMA_DOWN = "POINT", "AREA"


@dataclass(frozen=True)
class ClipInfo:
    """What :func:`probe_clip` reads of a clip's first video stream before any work.

    ``matrix``/``primaries``/``transfer``/``color_range`` are H.273 code points (``matrix`` and ``color_range``
    as used for decoding: the declared ones, or the assumed BT.709/BT.601 and limited range); ``bits`` the
    luma bit depth; ``frames`` the declared frame count, or one estimated from duration and frame rate (0 when
    neither is known); ``audio`` the audio streams' codec names; ``rotation`` the display rotation (degrees
    counter-clockwise, as phones tag portrait clips), kept as a tag on the output; ``dropped`` the kinds of the
    streams not carried into the output (subtitles, data, a second video track), one entry per stream.
    """

    width: int
    height: int
    pixel_format: str
    codec: str
    bits: int
    matrix: int
    primaries: int
    transfer: int
    color_range: int
    frames: int
    audio: tuple[str, ...]
    hdr: str | None
    rotation: int = 0
    dropped: tuple[str, ...] = ()

    @property
    def rgb_format(self) -> str:
        """The RGB format frames are graded in: 8 bits per channel, or 16 for deeper clips."""
        return "rgb24" if self.bits <= 8 else "rgb48le"


def _import_av():
    try:
        import av
    except ImportError:
        raise ColorotError("video needs the video extra: pip install 'colorot[video]'") from None
    return av


def _open(path: Path):
    av = _import_av()
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


_NO_TIMESTAMPS = 0x0080  # AVFMT_NOTIMESTAMPS: a raw elementary stream (.h264, .hevc, .m4v), frames without times


def _frame_rate(container, stream):
    """The rate a player shows the stream at: for a raw elementary stream, whose frames carry no timestamps and
    whose average rate FFmpeg sets to a default 25, the rate read from the stream itself (``r_frame_rate``, as
    ffmpeg uses); else the average rate. None when unknown."""
    if getattr(container.format, "flags", 0) & _NO_TIMESTAMPS:
        return stream.guessed_rate or stream.average_rate
    return stream.average_rate or stream.guessed_rate


def _estimated_frames(container, stream) -> int:
    if stream.frames:
        return int(stream.frames)
    rate = _frame_rate(container, stream)
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    else:
        return 0
    return max(1, round(seconds * float(rate))) if rate else 0


def probe_clip(path) -> ClipInfo:
    """Read a clip's size, depth, color description, frame count and audio codecs (no frame is graded).

    Raises
    ------
    ColorotError
        For a missing or unreadable file, or one without a video stream.

    Examples
    --------
    >>> import tempfile, os, numpy as np, av
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.mp4")
    >>> with av.open(path, "w") as container:
    ...     stream = container.add_stream("libx264", rate=10)
    ...     stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    ...     for _ in range(5):
    ...         container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")))
    ...     container.mux(stream.encode(None))
    >>> clip = probe_clip(path)
    >>> clip.width, clip.height, clip.bits, clip.frames, clip.audio
    (64, 48, 8, 5, ())
    """
    path = Path(path)
    container = _open(path)
    with container:
        stream = video_stream(container)
        context = stream.codec_context
        pixel_format = context.pix_fmt or "yuv420p"
        bits = max(component.bits for component in _import_av().VideoFormat(pixel_format).components)
        declared = context.colorspace
        matrix = declared if declared in _SWSCALE_MATRIX else (
            _BT709 if context.width >= 1280 or context.height > 576 else _BT601)
        color_range = context.color_range if context.color_range in (_LIMITED, _FULL) else (
            _FULL if pixel_format.startswith("yuvj") else _LIMITED)
        hdr = _HDR_TRANSFERS.get(context.color_trc) or ("BT.2020 primaries" if context.color_primaries == _BT2020
                                                         else None)
        return ClipInfo(context.width, context.height, pixel_format, context.name, bits, matrix,
                        context.color_primaries, context.color_trc, color_range,
                        _estimated_frames(container, stream),
                        tuple(audio.codec_context.name for audio in container.streams.audio), hdr,
                        _rotation(container, stream),
                        tuple(other.type for other in container.streams if other.type not in ("video", "audio"))
                        + ("video",) * (len(container.streams.video) - 1))


def _rotation(container, stream) -> int:
    """The display rotation of the first frame (0 when none, or when no frame decodes: that fails later)."""
    try:
        frame = next(container.decode(stream))
    except Exception:  # noqa: BLE001 - a corrupt clip is reported by the decoding that follows
        return 0
    return int(round(getattr(frame, "rotation", 0) or 0)) % 360


def frame_count(path) -> int:
    """The clip's frame count: the declared one, or an estimate from its duration and frame rate (0 when unknown)."""
    return probe_clip(path).frames


def _to_rgb(frame, info: ClipInfo, **size) -> np.ndarray:
    """A decoded frame as RGB (uint8, or uint16 for deep clips) through the clip's matrix and range."""
    rgb = frame.reformat(format=info.rgb_format, src_colorspace=_SWSCALE_MATRIX[info.matrix],
                         src_color_range=info.color_range, interpolation=_CHROMA_UP, **size)
    return rgb.to_ndarray()


def sample_frames(path, count: int = 24, max_side: int = STYLE_SIDE, *, clip: ClipInfo | None = None
                  ) -> list[np.ndarray]:
    """``count`` RGB frames spread evenly over the clip (decoded once, downscaled to ``max_side``).

    Frames are uint8, or uint16 for clips of more than 8 bits, converted with the clip's matrix and range
    (``clip``: :func:`probe_clip`'s reading of ``path``, read here when not given).
    """
    path = Path(path)
    info = clip or probe_clip(path)
    container = _open(path)
    with container:
        stream = video_stream(container)
        step = max(1, info.frames // count) if info.frames else 1
        frames = []
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % step == 0:
                    scale = min(1.0, max_side / max(frame.width, frame.height))
                    size = dict(width=round(frame.width * scale), height=round(frame.height * scale)) \
                        if scale < 1 else {}
                    frames.append(_to_rgb(frame, info, **size))
        except Exception as error:  # noqa: BLE001
            raise ColorotError(f"{path}: corrupt video ({error})") from None
    if not frames:
        raise ColorotError(f"{path}: no frames could be decoded")
    if len(frames) > count:  # an unknown frame count: thin the sample evenly
        frames = [frames[i] for i in np.linspace(0, len(frames) - 1, count).round().astype(int)]
    return frames


@dataclass(frozen=True)
class _Plan:
    codec: str
    pixel_format: str
    audio: tuple[str | None, ...]  # per audio stream: None to copy, else the encoder to re-encode with


def _pick_pixel_format(codec: str, info: ClipInfo) -> str:
    """The clip's own pixel format where the encoder has it, else the same depth in 4:2:0 (or 4:2:2)."""
    av = _import_av()
    available = [fmt.name for fmt in av.codec.Codec(codec, "w").video_formats or []]
    wanted = info.pixel_format.replace("yuvj", "yuv")
    depth = "" if info.bits <= 8 else "10le"
    for name in (wanted, f"yuv420p{depth}", f"yuv422p{depth}", f"yuv444p{depth}"):
        if name in available:
            return name
    raise ColorotError(f"{codec} cannot write {info.bits}-bit frames")


def plan_output(info: ClipInfo, output: Path, hdr: str = "refuse") -> _Plan:
    """Choose the encoders and pixel format for ``output`` from the clip, or refuse, before any work."""
    av = _import_av()
    suffix = output.suffix.lower()
    if suffix not in _ENCODERS:
        raise ColorotError(f"{output}: unknown video format; use one of {', '.join(sorted(_ENCODERS))}")
    if hdr not in HDR_MODES:
        raise ColorotError(f"hdr must be one of {HDR_MODES}, not {hdr!r}")
    if info.hdr is not None and hdr == "refuse":
        raise ColorotError(f"the clip is HDR or wide gamut ({info.hdr}): colorot's maps are fitted on SDR "
                           "colors; tone-map it to SDR BT.709 first, or pass --hdr codes to grade its code "
                           "values with a LUT made for them")
    deep = info.bits > 8
    names = _ENCODERS[suffix][deep]
    codec = next((name for name in names if name in av.codecs_available), None)
    if codec is None:
        what = f"{info.bits}-bit" if deep else "video"
        raise ColorotError(f"{output}: FFmpeg has no {what} encoder for {suffix} here"
                           + ("; use .mov, .mkv or .mp4" if deep else ""))
    allowed, fallback = _AUDIO[suffix]
    audio = tuple(None if allowed is None or name in allowed else fallback for name in info.audio)
    if any(name is not None and name not in av.codecs_available for name in audio):
        raise ColorotError(f"{output}: its audio ({', '.join(info.audio)}) must be re-encoded for {suffix}, "
                           "and this FFmpeg build has no encoder for it")
    pixel_format = _pick_pixel_format(codec, info)
    # 4:2:0 halves the chroma both ways, 4:2:2 across: the encoders refuse an odd size there, after the work.
    odd = info.width % 2 if "420" in pixel_format or "422" in pixel_format else 0
    odd = odd or (info.height % 2 if "420" in pixel_format else 0)
    if odd:
        raise ColorotError(f"{output}: {codec} writes {pixel_format}, which needs an even width and height, and "
                           f"the clip is {info.width}x{info.height}; crop it to even first (ffmpeg -i CLIP -vf "
                           "crop=trunc(iw/2)*2:trunc(ih/2)*2 ...)")
    return _Plan(codec, pixel_format, audio)


def _add_video_stream(target, plan: _Plan, info: ClipInfo, video_in, crf: int, rate):
    stream = target.add_stream(plan.codec, rate=rate or 25)
    stream.width, stream.height, stream.pix_fmt = info.width, info.height, plan.pixel_format
    stream.time_base = video_in.time_base
    context = stream.codec_context
    context.time_base = video_in.time_base  # each frame's own timestamp (variable frame rate kept)
    if info.rotation:
        stream.set_display_rotation(info.rotation)
    context.colorspace = info.matrix
    context.color_range = info.color_range
    context.color_primaries = info.primaries if info.primaries != _UNSPECIFIED else (
        _BT709 if info.matrix == _BT709 else _UNSPECIFIED)
    context.color_trc = info.transfer if info.transfer != _UNSPECIFIED else (
        _BT709 if info.matrix == _BT709 else _UNSPECIFIED)
    if plan.codec in ("libx264", "libx265", "libvpx-vp9"):
        stream.options = {"crf": str(crf)}
    elif plan.codec == "libsvtav1":
        stream.options = {"crf": str(min(63, crf + 12))}
        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1's own log: errors only, unless the user asked for more
    elif plan.codec == "mpeg4":  # no CRF: a fixed quantizer of about the same quality (crf 18 -> 2, 51 -> 8)
        context.qmin = context.qmax = max(2, min(31, round(crf / 6) - 1))
        context.bit_rate = 1 << 30  # the quantizer, not a bit rate, sets the quality
    return stream


def _encode_frame(rgb: np.ndarray, frame, pts: int, info: ClipInfo, plan: _Plan, stream):
    import av

    graded = av.VideoFrame.from_ndarray(rgb, format=info.rgb_format)
    graded = graded.reformat(format=plan.pixel_format, dst_colorspace=_SWSCALE_MATRIX[info.matrix],
                             dst_color_range=info.color_range, interpolation=_CHROMA_DOWN)
    graded.pts, graded.time_base = pts, frame.time_base
    return stream.encode(graded)


def grade_video(
    path,
    output,
    apply: Callable[[np.ndarray], np.ndarray],
    *,
    crf: int = 18,
    hdr: str = "refuse",
    progress: Callable[[int], None] | None = None,
    clip: ClipInfo | None = None,
) -> Path:
    """Apply ``apply`` (an RGB frame ``(H, W, 3)`` -> the same shape and dtype) to every frame of ``path``.

    Frames are uint8, or uint16 when the clip has more than 8 bits; they are converted from YUV with the
    clip's matrix and range (:func:`probe_clip`), and back with the same, which are written as tags with
    the primaries and transfer. Video is re-encoded (H.264 for .mp4/.mkv/.mov at ``crf``, VP9 for .webm;
    deep clips: 10-bit H.264, ProRes for .mov, AV1 for .webm), at the input's size, frame rate and
    timestamps; audio is copied, or re-encoded where the container needs it. ``output`` is written atomically.
    ``clip`` is :func:`probe_clip`'s reading of ``path`` when the caller has it.

    Raises
    ------
    ColorotError
        Before any work: an unreadable clip, an output format, depth or audio pairing that cannot be
        written, an HDR clip with ``hdr="refuse"``; then a corrupt frame (nothing is left behind).

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
    path, output = Path(path), Path(output)
    info = clip or probe_clip(path)
    plan = plan_output(info, output, hdr)
    if not output.parent.exists():
        raise ColorotError(f"{output.parent}: output folder does not exist")
    source, written = _open(path), [output]
    try:
        with source, atomic_output(output, suffix=output.suffix) as (temporary, _), \
                _import_av().open(str(temporary), mode="w") as target:
            written.append(temporary)
            video_in = video_stream(source)
            rate = _frame_rate(source, video_in)
            video_out = _add_video_stream(target, plan, info, video_in, crf, rate)
            audio = add_audio_streams(target, plan.audio, source)
            copy_tags(source, target)
            last_pts, step = None, _frame_ticks(video_in, rate)
            for packet in source.demux(video_in, *source.streams.audio):
                if packet.stream.index in audio:
                    mux_audio(target, packet, *audio[packet.stream.index])
                    continue
                for frame in packet.decode():
                    # Timestamps strictly increase (a clip may repeat one, or restart): a frame later, then.
                    last_pts = frame.pts if frame.pts is not None and (last_pts is None or frame.pts > last_pts) \
                        else (last_pts + step if last_pts is not None else 0)
                    target.mux(_encode_frame(apply(_to_rgb(frame, info)), frame, last_pts, info, plan, video_out))
                    if progress is not None:
                        progress(1)
            target.mux(video_out.encode(None))
            for stream, copied, _ in audio.values():
                if not copied:
                    target.mux(stream.encode(None))
    except BaseException as error:
        if isinstance(error, ColorotError):
            raise
        if isinstance(error, Exception):
            message = str(error).replace(str(written[-1]), str(output))  # not the temporary file's name
            raise ColorotError(f"{path}: video processing failed ({type(error).__name__}: {message})") from None
        raise
    return output


def _frame_ticks(stream, rate) -> int:
    """One frame's duration at ``rate`` in the stream's time base (1 tick when unknown)."""
    time_base = stream.time_base
    return max(1, round(1 / (rate * time_base))) if rate and time_base else 1


def lut_applier(table, device, frames: int = 1 << 30) -> Callable[[np.ndarray], np.ndarray]:
    """A frame function applying a :class:`~colorot.maps.lut.ColorLUT` (tabulated at every 8-bit color first
    where :func:`colorot.maps.dense.tabulates` says so for ``frames`` frames: a clip has many)."""
    from ..maps.dense import tabulates
    from ..maps.kernels import apply_table
    from ..pixels import image_to_pixels

    if tabulates(frames, device):
        table.densify()

    return lambda frame: apply_table(table, image_to_pixels(frame, "frame"), device)

