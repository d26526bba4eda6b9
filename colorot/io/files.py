"""Files written safely and paths checked before any work: atomic writes that keep the conflict policy at the
moment of writing and the file's mode, the one guard against overwriting an input, and input checks. Torch-free.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from ..errors import ColorotError

__all__ = ["atomic_write", "atomic_output", "OutputExists", "ON_EXISTS", "check_input_file",
           "refuse_overwriting_inputs", "same_file"]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ColorotError(f"{path}: no such file")
    if path.is_dir():
        raise ColorotError(f"{path}: is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ColorotError(f"{path}: empty file")


def check_input_file(path) -> Path:
    """Refuse, before any decoding, an input that is missing, a directory or empty (one line naming it)."""
    path = Path(path)
    _check_file(path)
    return path


def refuse_overwriting_inputs(output, inputs, *, in_place=None) -> None:
    """The one overwrite guard: refuse to write ``output`` over any of ``inputs`` (the same path, or the same
    file through a link), except over ``in_place``, the input the user asked to replace.

    Raises
    ------
    ColorotError
        ``"OUTPUT: refusing to overwrite its input INPUT; ..."``.

    Examples
    --------
    >>> refuse_overwriting_inputs("photo.jpg", ["photo.jpg", "look.jpg"], in_place="photo.jpg")
    >>> refuse_overwriting_inputs("look.jpg", ["photo.jpg", "look.jpg"])
    Traceback (most recent call last):
    ...
    colorot.errors.ColorotError: look.jpg: refusing to overwrite its input look.jpg; choose another output
    """
    for path in inputs:
        if path is None or (in_place is not None and Path(path) == Path(in_place)):
            continue
        if same_file(path, output):
            raise ColorotError(f"{output}: refusing to overwrite its input {path}; choose another output")


def same_file(a, b) -> bool:
    """Whether two paths name the same file: the same path once resolved, or the same existing file
    (through a hard link, say)."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _read_umask() -> int:
    """The process's umask, read once at import (setting it to read it is not safe while threads create files)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


class OutputExists(ColorotError):
    """The output file appeared while colorot was writing it (another run, another photo), and the policy was
    not to replace it.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> _ = atomic_write(path, lambda handle: handle.write(b"first"))
    >>> try:
    ...     atomic_write(path, lambda handle: handle.write(b"second"), on_exists="fail")
    ... except OutputExists:
    ...     print(open(path, "rb").read())
    b'first'
    """


#: What :func:`atomic_write` does when the output exists at the moment of writing.
ON_EXISTS = ("replace", "fail", "rename")


def atomic_write(path, save, *, on_exists: str = "replace", through_link: bool = False) -> Path:
    """Call ``save(handle)`` on a temporary file in ``path``'s folder, then move it to ``path``.

    Nothing is left behind if ``save`` fails (or is interrupted), and a reader
    never sees a half-written file. A new file gets the mode that the user's
    umask gives new files; a file that is replaced keeps its mode (and its
    owner and group where the process may set them).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    save : callable
        Writes the content to the binary file handle it is given.
    on_exists : {"replace", "fail", "rename"}
        What to do if ``path`` exists when the file is moved into place:
        replace it atomically; raise :class:`colorot.io.OutputExists`; or write
        ``name_1.ext``, ``name_2.ext``... instead, the first name free at
        that moment. ``"fail"`` and ``"rename"`` are decided by an exclusive
        hard link, so of two processes writing one name, exactly one wins.
    through_link : bool
        Where ``path`` is a symbolic link, replace the file it points to (the
        link stays, as a shell's ``>`` does): for a photo graded in place
        through a link. Otherwise the link itself is replaced, so that an
        output never lands on a file the caller did not name.

    Returns
    -------
    pathlib.Path
        The path written (another name with ``on_exists="rename"``).

    Raises
    ------
    ColorotError
        The folder is missing or cannot be written, or the disk is full
        (one line that says which); :class:`colorot.io.OutputExists` as above.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, lambda handle: handle.write(b"graded")).read_bytes()
    b'graded'
    >>> atomic_write(path, lambda handle: handle.write(b"again"), on_exists="rename").name
    'notes_1.txt'
    """
    with atomic_output(path, on_exists=on_exists, through_link=through_link) as (temporary, written):
        with open(temporary, "wb") as handle:
            save(handle)
    return written[0]


@contextlib.contextmanager
def atomic_output(path, *, on_exists: str = "replace", suffix: str = ".tmp", through_link: bool = False):
    """A temporary path next to ``path`` to write to, moved to ``path`` (see :func:`atomic_write`, which says what
    ``through_link`` does) when the block ends without an error, removed otherwise. Yields ``(temporary path,
    written)``, where ``written[0]`` is the final path once the block has ended (for writers, such as video
    muxers, that need a file name)."""
    if on_exists not in ON_EXISTS:
        raise ValueError(f"on_exists is one of {', '.join(ON_EXISTS)}, not {on_exists!r}")
    path = named = Path(path)
    if through_link and on_exists == "replace" and path.is_symlink():  # the file it points to is replaced
        path = Path(os.path.realpath(path))
    folder = path.parent
    if not folder.exists():
        raise ColorotError(f"{folder}: output folder does not exist")
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=folder)
    except OSError as error:
        raise _cannot_write(folder, error, what="cannot write into this folder") from None
    os.close(descriptor)
    temporary, written = Path(name), [named]
    try:
        yield temporary, written
        moved = _move_into_place(temporary, path, on_exists)
        written[0] = named if path != named else moved
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _cannot_write(path, error) from None
        raise


def _move_into_place(temporary: Path, path: Path, on_exists: str) -> Path:
    """Give ``temporary`` the mode it should have and move it to ``path`` (or the name that ``on_exists`` picks)."""
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    if existing is not None and on_exists == "replace":
        os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        with contextlib.suppress(OSError):  # only root, or the owner keeping its own group, may do this
            os.chown(temporary, existing.st_uid, existing.st_gid)
        os.replace(temporary, path)
        return path
    os.chmod(temporary, 0o666 & ~_UMASK)
    if on_exists == "replace":
        os.replace(temporary, path)
        return path
    candidates = [path] if on_exists == "fail" else _names_from(path)
    for candidate in candidates:
        try:
            os.link(temporary, candidate)  # fails if the name exists: exactly one writer gets it
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A file system without hard links: reserve the name with an exclusive create, then replace it.
            try:
                os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                continue
            os.replace(temporary, candidate)
            return candidate
        temporary.unlink()
        return candidate
    raise OutputExists(f"{path}: output exists (another run wrote it first); use --on-conflict skip, overwrite "
                       "or rename")


def _names_from(path: Path):
    """``path``, then ``name_1.ext``, ``name_2.ext``..."""
    yield path
    number = 1
    while True:
        yield path.with_name(f"{path.stem}_{number}{path.suffix}")
        number += 1


def _cannot_write(path: Path, error: OSError, what: str = "cannot write") -> ColorotError:
    if isinstance(error, PermissionError):
        return ColorotError(f"{path}: {what} (permission denied)")
    if error.errno == errno.ENOSPC:
        return ColorotError(f"{path}: {what} (no space left on the device)")
    if error.errno == errno.EROFS:
        return ColorotError(f"{path}: {what} (read-only file system)")
    return ColorotError(f"{path}: {what} ({error.strerror or error})")
