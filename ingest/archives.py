"""Archives that senders attach (zip, 7z, rar), unpacked in memory under the limits of CONTRACT §3."""

# Each archive attached to a mail is unpacked in a forked child (`core.children`), nested
# archives included, so a bomb or a decoder stuck in a loop costs one finding. Members are
# read in chunks and reading stops the moment a limit is crossed; nothing is written to disk
# except the archive itself for the rar tool, in a private folder that is removed afterwards.
# The first unsafe finding stops all unpacking for the message: it is rejected anyway, and
# what was safely read is kept.

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field

from campaigns.limits import Limits
from core import children
from ingest import names
from ingest.sniff import RAR, SEVEN_ZIP, ZIP, sniff
from ingest.types import Attachment, UnreadableArchive, UnsafeContent

ARCHIVE_TYPES = frozenset({ZIP, SEVEN_ZIP, RAR})
# the header of an AppleDouble file (a Mac's resource fork: `._推荐表.docx`, application/applefile)
APPLE_DOUBLE = b"\x00\x05\x16\x07"
_CHUNK = 1 << 20
# zipfile builds an object per central-directory record before we can count anything, so a
# zip that declares ten times more records than we would ever read is refused unopened
_DECLARED_ENTRIES_SLACK = 10


@dataclass
class Budget:
    """What is left of the per-message archive limits; travels to each child and back."""

    entries_left: int
    bytes_left: int


@dataclass
class Expansion:
    """The flat attachment list after unpacking, with what was refused or could not be read."""

    attachments: list[Attachment] = field(default_factory=list)
    unsafe: list[UnsafeContent] = field(default_factory=list)
    unreadable: list[UnreadableArchive] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


class _Unsafe(Exception):
    def __init__(self, archive: Attachment, reason: str, entry: str = "", figure: float | None = None):
        super().__init__(reason)
        self.content = UnsafeContent(filename=archive.path, reason=reason, entry=entry, figure=figure)


class _Unreadable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def expand_attachments(attachments: list[Attachment], limits: Limits) -> Expansion:
    """Replace each archive in `attachments` by its members, in a child process per archive.

    An archive that was read stays out of the list (its name lives on in the members'
    `archive`); one that could not be read, or held no file, stays in as material.
    """
    result = Expansion()
    budget = Budget(limits.archive_max_entries, limits.archive_total_bytes)
    for attachment in attachments:
        if attachment.media_type not in ARCHIVE_TYPES or result.unsafe:
            result.attachments.append(attachment)
            continue
        _expand_one(attachment, limits, budget, result)
    return result


def _expand_one(attachment: Attachment, limits: Limits, budget: Budget, result: Expansion) -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="intake-archive-") as scratch:
            child: _Child = children.run(
                _unpack, attachment, limits, budget, scratch,
                seconds=limits.file_parse_seconds, memory_bytes=limits.file_parse_memory_bytes,
            )
    except children.LimitExceeded as exc:
        child = _Child(budget=budget, keep_raw=True, unreadable=[UnreadableArchive(attachment.path, exc.kind)])
    except children.ChildCrashed:
        child = _Child(budget=budget, keep_raw=True, unreadable=[UnreadableArchive(attachment.path, "corrupt")])
    except Exception as exc:  # noqa: BLE001 - a bug of ours in the child: the archive is kept and staff told
        child = _Child(budget=budget, keep_raw=True, unreadable=[UnreadableArchive(attachment.path, "corrupt")])
        result.defects.append(f"archive {attachment.filename}: {type(exc).__name__}")
    budget.entries_left, budget.bytes_left = child.budget.entries_left, child.budget.bytes_left
    if child.keep_raw:
        result.attachments.append(attachment)
    result.attachments.extend(child.members)
    result.unsafe.extend(child.unsafe)
    result.unreadable.extend(child.unreadable)


@dataclass
class _Child:
    """What one child hands back: members read, findings, and the budget it left."""

    budget: Budget
    keep_raw: bool = False
    members: list[Attachment] = field(default_factory=list)
    unsafe: list[UnsafeContent] = field(default_factory=list)
    unreadable: list[UnreadableArchive] = field(default_factory=list)


def _unpack(archive: Attachment, limits: Limits, budget: Budget, scratch: str) -> _Child:
    """Runs in the child: unpack one attached archive and everything nested in it."""
    unpacker = _Unpacker(limits, budget, scratch)
    try:
        keep_raw = unpacker.expand(archive, depth=1)
    except _Unsafe as exc:
        unpacker.found.unsafe.append(exc.content)
        keep_raw = not unpacker.found.members
    unpacker.found.keep_raw = keep_raw
    return unpacker.found


class _Unpacker:
    def __init__(self, limits: Limits, budget: Budget, scratch: str):
        self.limits = limits
        self.budget = budget
        self.scratch = scratch
        self.found = _Child(budget=budget)

    def expand(self, archive: Attachment, depth: int) -> bool:
        """Unpack one archive into self.found; True when the archive itself must stay as material."""
        before = len(self.found.members)
        reader = {ZIP: self._zip, SEVEN_ZIP: self._seven_zip, RAR: self._rar}[archive.media_type]
        try:
            reader(archive, depth)
        except _Unreadable as exc:
            self.found.unreadable.append(UnreadableArchive(archive.path, exc.reason))
            return True
        except _Unsafe:
            raise
        except Exception as exc:  # noqa: BLE001 - every library has its own way to say "corrupt"
            self.found.unreadable.append(UnreadableArchive(archive.path, _reason(exc)))
            return True
        return len(self.found.members) == before

    def entry(self, archive: Attachment, name: str) -> tuple[tuple[str, ...], str] | None:
        """(folders, file name) of an entry worth reading; None for folders and junk.

        Raises _Unsafe for names that leave the archive and for one entry too many.
        """
        problem = names.entry_problem(name)
        if problem:
            raise _Unsafe(archive, problem, entry=name)
        if names.is_directory_entry(name):
            return None
        folders, filename = names.split_entry(name)
        if not filename or names.is_junk(folders, filename):
            return None
        self.budget.entries_left -= 1
        if self.budget.entries_left < 0:
            raise _Unsafe(archive, "too_many_entries", entry=name, figure=self.limits.archive_max_entries + 1)
        return folders, filename

    def sink(self, archive: Attachment, name: str, packed: int) -> "_Sink":
        return _Sink(self, archive, name, max(1, min(packed, len(archive.data))))

    def add(self, archive: Attachment, name: str, place: tuple[tuple[str, ...], str], data: bytes, depth: int) -> None:
        """Keep one member; unpack it in turn when it is an archive itself."""
        if is_apple_double(data):
            return  # a resource fork under a name of its own: nobody meant to send it
        folders, filename = place
        member = Attachment(
            filename=filename, data=data, media_type=sniff(data, filename),
            folder=(*archive.folder, *folders), archive=(*archive.archive, archive.filename),
        )
        if member.media_type not in ARCHIVE_TYPES:
            self.found.members.append(member)
            return
        if depth + 1 > self.limits.archive_max_depth:
            self.found.members.append(member)
            raise _Unsafe(archive, "nesting_too_deep", entry=name, figure=depth + 1)
        if self.expand(member, depth + 1):
            self.found.members.append(member)

    # -- one reader per format -------------------------------------------------------------

    def _zip(self, archive: Attachment, depth: int) -> None:
        declared = _declared_zip_entries(archive.data)
        if declared is not None and declared > _DECLARED_ENTRIES_SLACK * max(self.budget.entries_left, 1):
            raise _Unsafe(archive, "too_many_entries", figure=declared)
        encrypted = False
        with zipfile.ZipFile(io.BytesIO(archive.data)) as package:
            for info in package.infolist():
                name = names.zip_entry_name(info)
                place = self.entry(archive, name)
                if place is None:
                    continue
                if info.flag_bits & 0x1:  # password-protected: the names are readable, the data not
                    encrypted = True
                    continue
                sink = self.sink(archive, name, info.compress_size)
                with package.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        sink.write(chunk)
                self.add(archive, name, place, sink.data(), depth)
        if encrypted:
            raise _Unreadable("encrypted")

    def _seven_zip(self, archive: Attachment, depth: int) -> None:
        import py7zr
        from py7zr.helpers import get_sanitized_output_path

        with py7zr.SevenZipFile(io.BytesIO(archive.data)) as package:
            if package.needs_password():
                raise _Unreadable("encrypted")
            wanted: dict[str, tuple[str, tuple[str, ...], str, int]] = {}
            for info in package.list():
                place = None if info.is_directory else self.entry(archive, info.filename)
                if place is not None:
                    key = get_sanitized_output_path(info.filename, None).as_posix()
                    wanted[key] = (info.filename, *place, info.compressed or len(archive.data))
            factory = _SinkFactory(self, archive, wanted)
            try:
                if wanted:
                    package.extract(targets=[entry[0] for entry in wanted.values()], factory=factory)
            except _Unsafe:
                factory.sinks.popitem()  # the member being read when the limit struck
                self._add_sunk(archive, wanted, factory, depth)
                raise
        self._add_sunk(archive, wanted, factory, depth)

    def _add_sunk(self, archive: Attachment, wanted: dict, factory: "_SinkFactory", depth: int) -> None:
        for key, sink in factory.sinks.items():
            name, folders, filename, _packed = wanted.get(key, (key, *names.split_entry(key), 0))
            self.add(archive, name, (folders, filename), sink.data(), depth)

    def _rar(self, archive: Attachment, depth: int) -> None:
        import rarfile

        rarfile.HACK_TMP_DIR = self.scratch  # the rar tool reads the archive from a file, here
        try:
            package = rarfile.RarFile(io.BytesIO(archive.data))
            if package.needs_password():
                raise _Unreadable("encrypted")
            for info in package.infolist():
                place = None if info.is_dir() else self.entry(archive, info.filename)
                if place is None:
                    continue
                if info.needs_password():
                    raise _Unreadable("encrypted")
                sink = self.sink(archive, info.filename, info.compress_size or len(archive.data))
                with package.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        sink.write(chunk)
                self.add(archive, info.filename, place, sink.data(), depth)
        except rarfile.RarCannotExec:
            raise _Unreadable("unsupported") from None


class _Sink:
    """One member's bytes, collected until a limit is crossed: sizes declared in headers lie."""

    def __init__(self, unpacker: _Unpacker, archive: Attachment, name: str, packed: int):
        self.unpacker, self.archive, self.name, self.packed = unpacker, archive, name, packed
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, chunk: bytes) -> int:
        limits, budget = self.unpacker.limits, self.unpacker.budget
        self.size += len(chunk)
        budget.bytes_left -= len(chunk)
        if budget.bytes_left < 0:
            raise _Unsafe(self.archive, "total_too_large", self.name, float(limits.archive_total_bytes - budget.bytes_left))
        ratio = self.size / self.packed
        if self.size > limits.archive_ratio_min_bytes and ratio > limits.archive_max_ratio:
            raise _Unsafe(self.archive, "compression_ratio", self.name, round(ratio, 1))
        self.chunks.append(bytes(chunk))
        return len(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _sink_io_class():
    from py7zr.io import Py7zIO

    class SinkIO(Py7zIO):
        """py7zr pushes each member's bytes into one of these."""

        def __init__(self, sink: _Sink):
            self.sink = sink

        def write(self, s: bytes | bytearray) -> int:
            return self.sink.write(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.sink.size

    return SinkIO


class _SinkFactory:
    """A py7zr writer factory that hands each member to a _Sink, remembering them in order."""

    def __init__(self, unpacker: _Unpacker, archive: Attachment, wanted: dict):
        self.unpacker, self.archive, self.wanted = unpacker, archive, wanted
        self.sinks: dict[str, _Sink] = {}
        self.sink_io = _sink_io_class()

    def create(self, filename: str):
        name, _folders, _file, packed = self.wanted.get(filename, (filename, (), "", len(self.archive.data)))
        sink = self.sinks[filename] = self.unpacker.sink(self.archive, name, packed)
        return self.sink_io(sink)


def is_apple_double(data: bytes) -> bool:
    return data[:4] == APPLE_DOUBLE and data[4:8] in (b"\x00\x01\x00\x00", b"\x00\x02\x00\x00")


def _declared_zip_entries(data: bytes) -> int | None:
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        return None
    total = struct.unpack_from("<H", data, end + 10)[0]
    zip64 = data.rfind(b"PK\x06\x06", max(0, end - 20 - 56), end)
    if total == 0xFFFF and zip64 >= 0 and len(data) >= zip64 + 40:
        total = struct.unpack_from("<Q", data, zip64 + 32)[0]
    return total


def _reason(exc: Exception) -> str:
    """UnreadableArchive.reason for whatever a zip, 7z or rar library raised."""
    kind = type(exc).__name__.lower()
    text = str(exc).lower()
    if "password" in kind or "encrypt" in text or "password" in text or "nocrypto" in kind:
        return "encrypted"
    if isinstance(exc, NotImplementedError) or "unsupported" in kind or "unsupported" in text:
        return "unsupported"
    if isinstance(exc, MemoryError):
        return "memory"
    return "corrupt"
