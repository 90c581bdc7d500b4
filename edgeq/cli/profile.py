"""``edgeq profile ARTIFACT``: latency and accuracy of a built artifact, reports and gates.

The profiling flags are shared with ``edgeq build --profile`` (:func:`profile_options`);
both end in :func:`edgeq.profile`. Every flag overrides the matching ``profile.`` field of
``--config edgeq.yaml``.
"""

from __future__ import annotations

from typing import Any

import click

#: flag -> ProfileConfig field (edgeq.yaml's profile section)
_CONFIG_FIELDS = ("runner", "device", "runner_bin", "runs", "warmup", "threads", "delegate",
                  "op_profiling", "timeout_s", "num_samples", "junit")


def _kv(values: tuple[str, ...], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` flags -> dict; values are read as YAML (numbers, lists, booleans)."""
    import yaml

    from edgeq.errors import UsageError

    out: dict[str, Any] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {text!r}: expected KEY=VALUE, e.g. {flag} mean=[0.5,0.5,0.5]")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise UsageError(f"{flag} {text!r}: cannot read the value ({exc})") from None
    return out


def profile_options(func=None, *, report_dir_short: bool = False):
    """The profiling flags; the command receives them as keyword arguments.
    ``report_dir_short`` adds ``-o`` for ``--report-dir`` (``edgeq profile``; ``edgeq build``
    uses ``-o`` for its output root)."""
    if func is None:
        return lambda f: profile_options(f, report_dir_short=report_dir_short)
    report_dir_flags = ("-o", "--report-dir") if report_dir_short else ("--report-dir",)
    options = [
        click.option("--runner", help="Runner: host (this machine) or adb (an Android device). "
                                      "Default: profile.runner, else host."),
        click.option("--data", metavar="DIR|zoo:NAME",
                     help="Evaluation data for accuracy against the FP32 model: a directory "
                          "(kind detected from the files) or zoo:NAME[:SPLIT]. Default: the zoo's "
                          "eval split for zoo models, else latency only on a random input."),
        click.option("--data-kind", metavar="KIND", help="Kind of --data (images, audio, npy, text) "
                                                         "instead of detecting it."),
        click.option("--data-opt", multiple=True, metavar="KEY=VALUE",
                     help="Option of the --data data set (as in edgeq.yaml), repeatable."),
        click.option("--samples", "num_samples", type=click.IntRange(min=1),
                     help="Evaluation samples to use (default: all; 100 of the zoo's eval split)."),
        click.option("--runs", type=click.IntRange(min=1), help="Timed runs (default 50)."),
        click.option("--warmup", type=click.IntRange(min=0), help="Untimed runs first (default 5)."),
        click.option("--threads", type=int, help="Runtime threads (default: the target profile's)."),
        click.option("--delegate", help="Runtime delegate, e.g. xnnpack, reference, gpu, nnapi."),
        click.option("--device", metavar="SERIAL|all", help="adb device serial, or all."),
        click.option("--runner-bin", metavar="PATH", help="On-device runner binary (benchmark_model)."),
        click.option("--op-profiling", is_flag=True, default=None, help="Per-operator latency table."),
        click.option("--timeout", "timeout_s", type=float, help="Limit of one device command (s)."),
        click.option("--gate", "gates", multiple=True, metavar="METRIC<=N",
                     help="Pass/fail condition, e.g. 'latency_p50_ms<=12' (repeatable; replaces "
                          "profile.gates and targets[].gates). A failed gate exits 3."),
        click.option("--junit", metavar="FILE", help="Write the gates as JUnit XML."),
        click.option(*report_dir_flags, "report_dir", metavar="DIR", help="Where report.json/.md/.html go "
                                                         "(default: the artifact directory)."),
        click.option("--baseline", metavar="fp32|DIR",
                     help="Compare with a baseline: fp32 (the source model as an FP32 artifact of "
                          "the same target) or another artifact directory."),
        click.option("--reference", metavar="MODEL",
                     help="FP32 ONNX reference (default: the model recorded in the manifest)."),
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


def profile_kwargs(flags: dict[str, Any], config=None, target: str | None = None) -> dict[str, Any]:
    """Keyword arguments of :func:`edgeq.profile` from the flags over ``config.profile``,
    with the ``targets`` entry of ``target`` (its gates, samples, runs) applied first."""
    kw: dict[str, Any] = {}
    section = config.profile_for(target) if config is not None else None
    if section is not None:
        for name in _CONFIG_FIELDS:
            value = getattr(section, name)
            if value is not None:
                kw[name] = str(value) if name in ("runner_bin", "junit") else value
        if not section.op_profiling:
            kw.pop("op_profiling", None)
        if section.data is not None:
            kw["data"] = section.data
        kw["gates"] = list(section.gates)
        kw["report_formats"] = list(section.report_formats)
    for name in _CONFIG_FIELDS + ("data", "data_kind"):
        if flags.get(name) is not None:
            kw[name] = flags[name]
    if flags.get("gates"):
        kw["gates"] = list(flags["gates"])
    if flags.get("data_opt"):
        kw["data_options"] = _kv(flags["data_opt"], "--data-opt")
    for flag, key in (("report_dir", "report_dir"), ("baseline", "baseline"),
                      ("reference", "reference_model")):
        if flags.get(flag) is not None:
            kw[key] = flags[flag]
    kw.setdefault("runner", "host")
    from edgeq.profile.gates import parse_gates

    parse_gates(kw.get("gates"))  # a malformed gate is a usage error before any work
    return kw


def run_profile(artifact_dir, kw: dict[str, Any], console) -> Any:
    """Call edgeq.profile and say where the reports are (also when a gate fails)."""
    import edgeq.profile.api as api
    from edgeq.errors import GateFailure

    try:
        report = api.profile(artifact_dir, console=console, **kw)
    except GateFailure as exc:
        _where(console, getattr(exc, "paths", {}))
        raise
    _where(console, {k: str(v) for k, v in report.paths.items()})
    return report


def _where(console, paths) -> None:
    from rich.markup import escape

    for fmt in ("html", "md", "json", "junit"):
        if fmt in paths:
            console.print(f"{fmt:5} report: {escape(str(paths[fmt]))}", soft_wrap=True)


@click.command("profile", short_help="Measure latency and accuracy of a built artifact; gates.")
@click.argument("artifact", metavar="ARTIFACT_DIR")
@click.option("--config", "config_path", metavar="EDGEQ_YAML",
              help="Take the profile section (runner, data, gates …) from an edgeq.yaml.")
@profile_options(report_dir_short=True)
def profile(artifact: str, config_path: str | None, **flags: Any) -> None:
    """Profile the artifact in ARTIFACT_DIR (e.g. build/tflite) with a runner: latency
    (p50/p90/min/max/std, load time), peak memory, and accuracy against the FP32 ONNX
    model on evaluation data. Writes report.json, report.md and report.html, checks the
    gates and exits 3 if one fails (the reports are still written).
    """
    from rich.console import Console

    config = None
    if config_path:
        from edgeq.config import load_config

        config = load_config(config_path)
    run_profile(artifact, profile_kwargs(flags, config, _artifact_target(artifact) if config else None),
                Console())


def _artifact_target(artifact_dir: str) -> str | None:
    """The target profile an artifact was built with (its manifest's ``profile``, else its
    ``target``): the ``targets`` entry of edgeq.yaml whose settings apply to it."""
    from edgeq.contracts import Artifact

    manifest = Artifact.load(artifact_dir).manifest
    return manifest.get("profile") or manifest.get("target")
