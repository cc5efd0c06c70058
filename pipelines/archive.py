"""A workbook (a zip archive) judged by what it holds, before anything reads it: every entry is inflated in
small steps and its bytes counted, whatever the zip's directory declares and wherever the part lives, with a
cap on the total and on the ratio to the packed size. A zip bomb is refused within seconds and within a few
MB of memory (a sheet outside `xl/` named by the workbook's relationships, or an entry that declares 1 kB
and inflates to gigabytes, counts like any other)."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from store.errors import TandemError

STEP = 1 << 20  # bytes inflated per step: memory stays at a few steps whatever the entry holds
RATIO_FLOOR = 32 << 20  # the ratio is judged once this much has been inflated (small parts compress a lot)
DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')
_LOCAL = struct.Struct("<4s5H3I2H")  # a zip local file header: signature ... name length, extra length


@dataclass(frozen=True)
class Limits:
    """What one file may cost before it is read: its size after decompression, how much more that is than
    on disk, and the rows a sheet may declare."""

    xlsx_unpacked_mb: int = 512
    xlsx_rows: int = 1_048_576  # Excel's own limit per sheet
    xlsx_ratio: int = 100  # inflated / packed, over the whole workbook (sheets rarely pass 20)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Inflated:
    """What a workbook holds: bytes inflated in all, packed bytes, and the rows its sheets declare."""

    unpacked: int
    packed: int
    declared_rows: dict[str, int]




def _data_start(fh, info: zipfile.ZipInfo) -> int:  # noqa: ANN001 - a binary file
    """Where an entry's packed bytes begin: after its local header, whose lengths may differ from the directory's."""
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL.size)
    if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"entry {info.filename} has no local header")
    fields = _LOCAL.unpack(head)
    return info.header_offset + _LOCAL.size + fields[-2] + fields[-1]


def _judge(path: Path, info: zipfile.ZipInfo, total: int, packed: int, limits: Limits) -> None:
    if total > limits.xlsx_unpacked_mb << 20:
        raise TandemError(f"{path.name}: the workbook unpacks to over {limits.xlsx_unpacked_mb:,} MB, the limit "
                          "(TANDEM_MAX_XLSX_UNPACKED_MB); export it as CSV instead, or raise the limit if the machine "
                          "has the memory.")
    if total > RATIO_FLOOR and total > limits.xlsx_ratio * max(packed, 1):
        raise TandemError(f"{path.name}: its part {info.filename} inflates to over {limits.xlsx_ratio} times its "
                          "packed size, as a zip bomb does; nothing was read: export the data as CSV instead.")


def inflate_all(path: Path, limits: Limits) -> Inflated:
    """Inflate every entry of the archive step by step, counting bytes, refusing as soon as a limit is passed.

    The packed stream is read until the deflate stream itself ends (or the file does), not for as many
    bytes as the directory says: a reader that trusts the stream (calamine does) would see all of it.
    """
    total = packed = 0
    rows: dict[str, int] = {}
    size = path.stat().st_size
    with zipfile.ZipFile(path) as z, path.open("rb") as fh:
        for info in z.infolist():
            if info.is_dir():
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise TandemError(f"{path.name}: the part {info.filename} is compressed in a way workbooks are "
                                  f"not (method {info.compress_type}); save it again from the spreadsheet program.")
            start = _data_start(fh, info)
            fh.seek(start)
            left = size - start  # the stream may run past what the directory declares: read to its end
            if info.compress_type == zipfile.ZIP_STORED:  # stored: its declared bytes are what a reader takes
                n = min(info.compress_size, left)
                head = fh.read(min(n, 4096))
                total, packed = total + n, packed + n
                _judge(path, info, total, packed, limits)
            else:
                head = b""
                inflate = zlib.decompressobj(-15)
                while not inflate.eof and left > 0:
                    data = fh.read(min(STEP, left))
                    left -= len(data)
                    packed += len(data)
                    while data and not inflate.eof:
                        out = inflate.decompress(data, STEP)
                        total += len(out)
                        if len(head) < 4096:
                            head += out[: 4096 - len(head)]
                        _judge(path, info, total, packed, limits)
                        data = inflate.unconsumed_tail
                    packed -= len(inflate.unused_data)  # the next entry's bytes, read with this one's end
            if info.filename.endswith(".xml"):
                found = DIMENSION.search(head)
                if found:
                    rows[info.filename] = int(found.group(1)) - 1
    return Inflated(total, packed, rows)


def check_workbook(path: Path, limits: Limits) -> Inflated:
    """Refuse a workbook that unpacks past the limits or declares more rows than a sheet may hold."""
    try:
        found = inflate_all(path, limits)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, struct.error) as exc:
        raise TandemError(f"{path.name}: not a readable XLSX workbook ({exc}).") from None
    for part, n in found.declared_rows.items():
        if n > limits.xlsx_rows:
            raise TandemError(
                f"{path.name}: the sheet {part.rsplit('/', 1)[-1]} declares {n:,} rows, over the limit of "
                f"{limits.xlsx_rows:,} (TANDEM_MAX_XLSX_ROWS); export it as CSV instead.")
    return found
