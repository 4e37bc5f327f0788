"""Strip the debug symbols from the shared libraries inside wheels, rewriting each RECORD.

Many manylinux wheels ship their extension modules unstripped: here that was 87 MB of .so
files in the image, 34 MB once stripped. Stripping happens on the host (binutils' `strip`)
because the image's build stage has no binutils and must not need a compiler toolchain.
Only symbols are removed (`--strip-unneeded`), so the libraries load and run unchanged.
Usage: python3 image/strip_wheels.py WHEEL_DIR
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def _record_line(root: Path, path: Path) -> list[str]:
    data = path.read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [path.relative_to(root).as_posix(), f"sha256={digest}", str(len(data))]


def strip_wheel(wheel: Path) -> int:
    """Strip `wheel` in place; returns the bytes saved (0 when it holds no shared library)."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
        if not any(".so" in Path(name).suffixes for name in names):
            return 0
        work = Path(tempfile.mkdtemp())
        try:
            archive.extractall(work)
            before = wheel.stat().st_size
            libraries = [work / name for name in names if ".so" in Path(name).suffixes]
            subprocess.run(["strip", "--strip-unneeded", *map(str, libraries)], check=True)
            record = next(name for name in names if name.endswith(".dist-info/RECORD"))
            rows = io.StringIO()
            writer = csv.writer(rows, lineterminator="\n")
            for name in names:
                writer.writerow([name, "", ""] if name == record else _record_line(work, work / name))
            (work / record).write_text(rows.getvalue())
            with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as out:
                for name in names:
                    out.write(work / name, name)
            return before - wheel.stat().st_size
        finally:
            shutil.rmtree(work)


def main() -> None:
    if shutil.which("strip") is None:
        print("strip (binutils) not found: shared libraries stay unstripped", file=sys.stderr)
        return
    saved = sum(strip_wheel(wheel) for wheel in sorted(Path(sys.argv[1]).glob("*.whl")))
    print(f"stripped the wheels' shared libraries: {saved / 1e6:.0f} MB less to copy")


if __name__ == "__main__":
    main()
