"""The all-or-nothing output of ``edgeq.build``: staging directories, commit, rollback.

Every target is emitted into its own staging directory *next to* its final place
(``OUT/.<name>.<random>.tmp``, same file system, so renames are atomic). Only when every
target of the build has been emitted, reported and hashed does :meth:`Staging.commit`
rename them into ``OUT/<name>/``; an existing ``OUT/<name>/`` is first moved aside and
deleted only after all renames succeeded, and put back if one fails. On any failure
:meth:`Staging.discard` removes the staging directories and an output directory the
build created, so a failed build leaves the file system as it found it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from edgeq.errors import BuildError

log = logging.getLogger(__name__)


def _oserror(path: Path, exc: OSError, doing: str) -> BuildError:
    return BuildError(f"{path}: cannot {doing} ({exc.strerror or exc}); choose a writable "
                      "output directory with -o / output_dir, or check permissions and free space")


class Staging:
    """Staging directories of one build under ``output_dir`` (see the module doc)."""

    def __init__(self, output_dir: str | os.PathLike) -> None:
        self.output_dir = Path(output_dir).expanduser()
        self._created: list[Path] = []  # directories this build created, outermost first
        self._staged: dict[str, Path] = {}

    def prepare(self) -> None:
        """Create ``output_dir`` (remembering what was created) and check it is writable."""
        missing = []
        p = self.output_dir.absolute()
        while not p.exists():
            missing.append(p)
            p = p.parent
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _oserror(self.output_dir, exc, "create the output directory") from exc
        self._created = list(reversed(missing))
        if not os.access(self.output_dir, os.W_OK | os.X_OK):
            self.discard()
            raise BuildError(f"{self.output_dir}: the output directory is not writable; choose "
                             "another with -o / output_dir or fix its permissions")

    def new(self, name: str) -> Path:
        """A fresh, empty staging directory for target ``name``."""
        if name in self._staged:
            raise BuildError(f"target {name!r} is staged twice in one build")
        try:
            path = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=self.output_dir))
        except OSError as exc:
            raise _oserror(self.output_dir, exc, "create a staging directory") from exc
        self._staged[name] = path
        return path

    def final(self, name: str) -> Path:
        return self.output_dir / name

    def commit(self) -> dict[str, Path]:
        """Move every staged directory into place (all or none); returns name -> path."""
        moved: list[tuple[Path, Path | None]] = []  # (final, previous build moved aside)
        try:
            for name, tmp in self._staged.items():
                final = self.final(name)
                old = None
                if final.exists() or final.is_symlink():
                    old = final.with_name(f".{name}.old-{uuid.uuid4().hex[:8]}")
                    os.replace(final, old)
                try:
                    os.replace(tmp, final)
                except OSError:
                    if old is not None:
                        os.replace(old, final)
                    raise
                moved.append((final, old))
        except OSError as exc:
            for final, old in reversed(moved):  # undo the targets already in place
                shutil.rmtree(final, ignore_errors=True)
                if old is not None:
                    os.replace(old, final)
            self.discard()
            raise _oserror(self.output_dir, exc, "move the build into place") from exc
        for _, old in moved:
            if old is not None:
                _remove(old)
        done = {name: self.final(name) for name in self._staged}
        self._staged.clear()
        self._created.clear()
        return done

    def discard(self) -> None:
        """Remove the staging directories and any directory this build created."""
        for tmp in self._staged.values():
            shutil.rmtree(tmp, ignore_errors=True)
        self._staged.clear()
        for d in reversed(self._created):  # innermost first; only if still empty
            try:
                d.rmdir()
            except OSError:
                break
        self._created.clear()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not remove the previous build %s: %s", path, exc)
