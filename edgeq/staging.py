"""The output of ``edgeq.build``: staging directories, commit and rollback (all or
nothing), and the manifest / ``build_report.json`` of every target.

Every target is emitted into its own staging directory *next to* its final place
(``OUT/.<name>.<random>.tmp``, same file system, so renames are atomic). Only when every
target of the build has been emitted, reported and hashed does :meth:`Staging.commit`
rename them into ``OUT/<name>/``; an existing ``OUT/<name>/`` is first moved aside and
deleted only after all renames succeeded, and put back if one fails. Only a previous
edgeq artifact is ever replaced: a file or a foreign directory at ``OUT/<name>`` stops the
build before it starts (:func:`check_replaceable`). On any failure
:meth:`Staging.discard` removes the staging directories and an output directory the
build created, so a failed build leaves the file system as it found it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from edgeq.errors import BuildError

log = logging.getLogger(__name__)

BUILD_REPORT = "build_report.json"
BUILD_REPORT_SCHEMA = "edgeq.build-report"
BUILD_REPORT_VERSION = 1


def directory_mode() -> int:
    """The mode ``mkdir`` gives a new directory under the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def output_error(path: Path, exc: OSError, doing: str) -> BuildError:
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
            raise output_error(self.output_dir, exc, "create the output directory") from exc
        self._created = list(reversed(missing))
        if not os.access(self.output_dir, os.W_OK | os.X_OK):
            self.discard()
            raise BuildError(f"{self.output_dir}: the output directory is not writable; choose "
                             "another with -o / output_dir or fix its permissions")

    def claim(self, names: list[str]) -> None:
        """Check, before the build starts, that ``OUT/<name>`` for each of ``names`` may
        be replaced (:func:`check_replaceable`)."""
        for name in names:
            check_replaceable(self.final(name))

    def new(self, name: str) -> Path:
        """A fresh, empty staging directory for target ``name``."""
        if name in self._staged:
            raise BuildError(f"target {name!r} is staged twice in one build")
        try:
            path = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=self.output_dir))
            # mkdtemp makes 0700 directories; the artifact gets the mode any new directory
            # would (the umask's), so that a CI step running as another user can read it
            path.chmod(directory_mode())
        except OSError as exc:
            raise output_error(self.output_dir, exc, "create a staging directory") from exc
        self._staged[name] = path
        return path

    def final(self, name: str) -> Path:
        return self.output_dir / name

    def commit(self) -> dict[str, Path]:
        """Move every staged directory into place (all or none); returns name -> path.

        Commits into one output directory are serialised by an exclusive lock on it
        (:func:`_locked`), so two builds finishing at once each move a complete set of
        artifacts in turn: the last one wins whole, never a mix of the two."""
        with _locked(self.output_dir):
            return self._commit()

    def _commit(self) -> dict[str, Path]:
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
            raise output_error(self.output_dir, exc, "move the build into place") from exc
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


@contextlib.contextmanager
def _locked(directory: Path):
    """An exclusive ``flock`` on ``directory`` itself (no lock file is left), held while
    the block runs; a no-op where ``fcntl`` does not exist."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def check_replaceable(final: Path) -> None:
    """``final`` is free or a previous edgeq artifact (a directory with a manifest.json),
    the only thing a build replaces. A file, a link or a directory of someone's own files
    there raises BuildError, and is never touched."""
    from edgeq.contracts import MANIFEST_NAME

    if not (final.exists() or final.is_symlink()):
        return
    if final.is_symlink() or not final.is_dir():
        raise BuildError(f"{final}: exists and is not a directory (an edgeq artifact goes there); "
                         "move it away, or choose another output directory with -o / output_dir")
    if not (final / MANIFEST_NAME).is_file():
        raise BuildError(f"{final}: exists and is not an edgeq artifact (no {MANIFEST_NAME}); edgeq "
                         "replaces only its own artifacts - move the directory away, or choose "
                         "another output directory with -o / output_dir")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not remove the previous build %s: %s", path, exc)


# -- manifest and build report ------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def source_info(model) -> dict[str, Any]:
    """What ``edgeq.profile`` needs to find and feed the FP32 reference."""
    from edgeq.data.resolve import PREPROCESSING_KEYS, zoo_name_of

    path = Path(model.path).resolve() if model.path is not None else None
    pre = None
    for key in PREPROCESSING_KEYS:
        if key in model.graph.metadata:
            try:
                pre = json.loads(model.graph.metadata[key])
            except (TypeError, ValueError):
                continue
            break
    return {"model": str(path) if path else None, "sha256": model.sha256, "name": model.name,
            "bytes": path.stat().st_size if path and path.is_file() else None,
            "input_shapes": {s.name: list(s.shape) for s in model.input_specs},
            "inputs": [s.to_dict() for s in model.input_specs],
            "outputs": [s.to_dict() for s in model.output_specs],
            "zoo": zoo_name_of(model.graph), "preprocessing": pre}


def _quant_summary(group, shared: list[str]) -> dict[str, Any] | None:
    if group is None:
        return None
    qm = group.qmodel
    keep = ("spec", "options", "calibration_samples", "int16_nodes", "float_nodes", "ops",
            "timings", "build_s", "auto_mixed")
    out = {k: v for k, v in qm.report.items() if k in keep}
    out.update(calibration_fingerprint=qm.calibration_fingerprint, nodes=len(qm.graph.nodes),
               shared_with=[t for t in shared], quantize_s=round(group.seconds, 3))
    if group.layers is not None:
        out["per_layer_sqnr"] = group.layers
    if getattr(group, "origin", None):
        out["origin"] = group.origin  # "given" QuantizedModel, or "requantized" for this target
        if group.reasons:
            out["requantized_because"] = group.reasons
    return out


def finish(job, artifact, group, placement, calib_info,
            source: dict[str, Any]) -> None:
    """Write build_report.json and complete manifest.json in the staging directory of
    ``job`` (an edgeq.build target); ``group`` is its quantization (None for float)."""
    import edgeq
    from edgeq.profile.report import jsonable

    files = {f.relative_to(artifact.path).as_posix(): f.stat().st_size
             for f in sorted(artifact.path.rglob("*")) if f.is_file() and f.name != "manifest.json"}
    model_file = artifact.manifest.get("model_file")
    # a model "file" may be a directory (a .mlpackage): its files together
    main_bytes = sum(b for f, b in files.items() if f == model_file or f.startswith(f"{model_file}/")) \
        if model_file else sum(files.values())
    sizes = {"files": files, "artifact_bytes": sum(files.values()), "model_bytes": main_bytes,
             "source_bytes": source["bytes"],
             "ratio_to_source": (main_bytes / source["bytes"]) if main_bytes and source["bytes"] else None}
    report = {
        "schema": BUILD_REPORT_SCHEMA, "schema_version": BUILD_REPORT_VERSION,
        "edgeq_version": edgeq.__version__, "created_utc": _now(),
        "target": job.name, "plugin_target": job.resolved.target.name,
        "plugin": job.resolved.plugin, "profile_source": job.resolved.source,
        "options": {"precision": job.options.precision, "io_dtype": job.options.io_dtype,
                    "chip": job.options.chip, "extra": job.options.extra},
        "source": source, "calibration": calib_info if group is not None else None,
        "quantization": _quant_summary(group, [t for t in (group.targets if group else [])
                                               if t != job.name]),
        "placement": placement, "sizes": sizes,
        "timings_s": {**dict(job.timings), **{f"{job.name}.{k}": v for k, v in artifact.timings.items()}},
        "tool_versions": artifact.manifest.get("tool_versions", {}),
    }
    (artifact.path / BUILD_REPORT).write_text(json.dumps(jsonable(report), indent=2) + "\n")
    m = artifact.manifest
    m.setdefault("edgeq_version", edgeq.__version__)
    m.setdefault("profile", job.name)
    if group is not None:
        m.setdefault("calibration_fingerprint", group.qmodel.calibration_fingerprint)
    m["source"] = source
    # what the build made, not how long it took or when: the same inputs give the same
    # manifest bytes (timings and the time stay in build_report.json, which is not hashed)
    stable_calib = ({k: v for k, v in calib_info.items() if k not in ("seconds", "cached")}
                    if group is not None and calib_info else None)
    m["build"] = {"profile": job.name, "profile_source": job.resolved.source,
                  "precision": job.options.precision, "io_dtype": job.options.io_dtype,
                  "report": BUILD_REPORT, "calibration": stable_calib}
    artifact.write_manifest()  # hashes the artifact's files (not build_report.json)


def emit_atomically(target, qmodel, out_dir: str | os.PathLike, options) -> Any:
    """``target.emit`` into ``out_dir`` all-or-nothing, for one target outside
    :func:`edgeq.build`: a sibling temporary directory (the umask's mode) is filled and
    renamed into place; on any error nothing is left, and an existing ``out_dir`` is
    replaced only after the new one is complete. OSErrors become BuildErrors naming it."""
    out_dir = Path(out_dir)
    parent = out_dir.parent
    check_replaceable(out_dir)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent))
        tmp.chmod(directory_mode())  # the umask's mode, not mkdtemp's 0700
    except OSError as exc:
        raise BuildError(f"{out_dir}: cannot create the output directory ({exc.strerror or exc}); "
                         "choose a writable location with -o") from exc
    old = None
    try:
        artifact = target.emit(qmodel, tmp, options)
        with _locked(parent):  # one swap at a time (see Staging.commit)
            if out_dir.exists():
                old = parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(out_dir, old)
            os.replace(tmp, out_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out_dir.exists():
            os.replace(old, out_dir)
        if isinstance(exc, OSError):
            raise BuildError(f"{out_dir}: cannot write the artifact ({exc.strerror or exc}); "
                             "check permissions and free space") from exc
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    artifact.path = out_dir
    return artifact
