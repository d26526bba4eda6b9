"""The page's requests checked before any work: a look (file ids with weights) and a grade's options, with the
types and defaults of the CLI's ``transfer`` options; every refusal is one line."""

from __future__ import annotations

from ..errors import ColorotError
from ..options import TransferOptions, offered_name, offered_options

__all__ = ["GRADE_FIELDS", "GRADE_OPTIONS", "CUBE_SIZES", "check_look", "check_options", "check_table", "engine_options"]

#: The options a grade takes from the page, by their names there (the CLI's, without dashes), with the fields of
#: :class:`colorot.options.TransferOptions` they set.
GRADE_FIELDS = {offered_name(field): field for field in offered_options(
    "method", "space", "keep_luma", "reach", "regrain_radius", "refine", "seed")}

#: Those options' types and defaults, as the options object has them.
GRADE_OPTIONS = {name: ("boolean" if field.metadata["kind"] is bool else field.metadata["kind"], field.default)
                 for name, field in GRADE_FIELDS.items()}


#: The .cube sizes the page offers (nodes per axis).
CUBE_SIZES = (17, 33, 65)


def check_table(kind: str, size: int) -> None:
    """Refuse a table export the page cannot ask for: ``kind`` ``"cube"`` (of a size in :data:`CUBE_SIZES`) or
    ``"look"``."""
    if kind not in ("cube", "look"):
        raise ColorotError(f"unknown table kind {kind!r}: cube or look")
    if kind == "cube" and size not in CUBE_SIZES:
        raise ColorotError(f".cube size must be 17, 33 or 65, not {size}")


def check_look(look) -> list:
    """The page's look as ``[(file id, weight)]``, or a one-line refusal."""
    if not isinstance(look, list):
        raise ColorotError("look must be a list of [file id, weight]")
    checked = []
    for entry in look:
        weight = entry[1] if isinstance(entry, (list, tuple)) and len(entry) == 2 else None
        try:  # NaN, infinity and a JSON integer too large for a float all fail the range
            valid = isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= float(weight) <= 1e6
        except OverflowError:
            valid = False
        if not valid:
            raise ColorotError(f"each look entry must be [file id, weight in [0, 1e6]], not {entry!r:.60}")
        checked.append((str(entry[0]), float(weight)))
    return checked


def _boolean(value) -> bool:
    """A checkbox's value: a JSON boolean, or one of true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    if str(value).strip().lower() in words:
        return words[str(value).strip().lower()]
    raise ValueError(value)


def check_options(options: dict) -> dict:
    """The page's options as the types a grade takes; their values are checked where the CLI's and the library's
    are, by :class:`colorot.options.TransferOptions` (even for a table look, which does not use them)."""
    if not isinstance(options, dict):
        raise ColorotError("options must be a JSON object")
    checked = {}
    for name, (kind, default) in GRADE_OPTIONS.items():
        value = options.get(name, default)
        if value is None or value == "" and default is None:
            checked[name] = None
            continue
        try:
            if kind is int and (isinstance(value, bool) or not float(value).is_integer()):
                raise ValueError(value)  # 2.5 rounds of refine: refused, not truncated
            if kind is int and not isinstance(value, int):
                value = float(value)
            checked[name] = _boolean(value) if kind == "boolean" else kind(value)
        except (TypeError, ValueError, OverflowError):
            wanted = {int: "a whole number", float: "a number", str: "text", "boolean": "true or false"}[kind]
            raise ColorotError(f"{name} must be {wanted}, not {value!r:.40}") from None
    TransferOptions(**engine_options(checked))
    return checked


def engine_options(options: dict) -> dict:
    """Checked options as :class:`colorot.ColorTransfer`'s arguments."""
    return {field.name: options[name] for name, field in GRADE_FIELDS.items()}
