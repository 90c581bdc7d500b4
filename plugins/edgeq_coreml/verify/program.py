"""Read a saved ``.mlpackage`` back into a MIL Program with numpy constants.

``coremltools.models.MLModel(path, skip_model_load=True).get_spec()`` gives the
``Model`` proto (no Core ML framework needed, so it works on Linux);
``coremltools.converters.mil.frontend.milproto.load.load`` turns its ``mlProgram`` into
a pymil Program whose constants (weights from ``Data/com.apple.CoreML/weights``) are
numpy arrays. The values are exactly what the package stores: fp16-rounded scales, the
uint8 zero point the converter substituted for an int8 -128, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeq.sdk import BuildError, require_module


@dataclass
class LoadedProgram:
    """The ``main`` function of a saved program and the model's I/O description."""

    path: Path
    function: object  # pymil Function
    inputs: list[str]
    outputs: list[str]
    image_inputs: dict  # input name -> {"scale", "bias", "color"} of an ImageType input
    spec: object

    @property
    def operations(self):
        return list(self.function.operations)


def _weights_dir(package: Path) -> Path:
    return package / "Data" / "com.apple.CoreML" / "weights"


def load_program(path: str | Path) -> LoadedProgram:
    """Load ``path`` (a ``.mlpackage``); raise BuildError naming the file if it is not one."""
    ct = require_module("coremltools", "coremltools", "reading Core ML packages")
    from coremltools.converters.mil.frontend.milproto.load import load

    path = Path(path)
    if not (path / "Manifest.json").is_file():
        raise BuildError(f"{path}: not a .mlpackage (no Manifest.json); rebuild with 'edgeq build'")
    try:
        spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
        prog = load(spec, specification_version=spec.specificationVersion,
                    file_weights_dir=str(_weights_dir(path)))
    except Exception as exc:  # coremltools raises many types for a damaged package
        raise BuildError(f"{path}: cannot read the ML Program ({type(exc).__name__}: {exc}); "
                         "rebuild the artifact") from exc
    images = {}
    for f in spec.description.input:
        if f.type.WhichOneof("Type") == "imageType":
            images[f.name] = _image_preprocessing(spec, f.name)
    return LoadedProgram(path, prog.functions["main"], [f.name for f in spec.description.input],
                         [f.name for f in spec.description.output], images, spec)


def _image_preprocessing(spec, name: str) -> dict:
    """Scale/bias of an ImageType input: ML Programs carry them as ops the converter
    inserted (``mul``/``add`` on the input), which the interpreter runs like any op, so
    only the pixel layout is needed here."""
    for f in spec.description.input:
        if f.name == name:
            kind = f.type.imageType.colorSpace
            return {"color_space": int(kind), "height": f.type.imageType.height,
                    "width": f.type.imageType.width}
    return {}
