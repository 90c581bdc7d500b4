"""User-given input shapes: parsing ``--input NAME:1x3x224x224`` and checking them
against a model's declared inputs.

Contract:

* :func:`parse_input_spec` turns one ``NAME:D0xD1x…`` string into ``(name, dims)``;
  :func:`parse_input_specs` turns several into a dict. Anything malformed (no colon,
  empty name, a non-integer or non-positive dim, a name given twice) raises
  :class:`~edgeq.errors.UsageError` quoting the offending text.
* :func:`normalize_input_shapes` validates an ``input_shapes=`` argument from the
  Python API (a mapping of name to a sequence of positive ints, or to a
  ``"1x3x224x224"`` string) the same way.
* :func:`resolve_input_shape` decides the static shape of one model input from its
  declared dims and an optional user shape: the user shape wins where the model is
  dynamic and must agree where the model is static; a dynamic dim left unresolved
  raises :class:`~edgeq.errors.ShapeError` naming the input and dim and showing the
  ``--input`` / ``input_shapes=`` syntax to fix it.

Names may themselves contain colons (TensorFlow-exported models use ``input:0``), so
the shape is taken after the *last* colon.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from edgeq.errors import InputShapeError, ShapeError, UsageError

_DIM_SEPARATORS = re.compile(r"[x,]")

#: a declared dim: a positive int (static) or a str / None (dynamic: dim_param or unset)
DeclaredDim = int | str | None


def parse_shape(text: str, *, context: str) -> tuple[int, ...]:
    """Parse ``"1x3x224x224"`` (``,`` is accepted as a separator too) into a tuple."""
    body = text.strip()
    if not body:
        raise UsageError(f"{context}: the shape is empty; write it as dims joined by 'x', "
                         f"e.g. 1x3x224x224")
    dims = []
    for part in _DIM_SEPARATORS.split(body):
        part = part.strip()
        if not re.fullmatch(r"[0-9]+", part):
            raise UsageError(f"{context}: dimension '{part}' in shape '{text}' is not a positive "
                             f"integer; write the shape as dims joined by 'x', e.g. 1x3x224x224")
        value = int(part)
        if value <= 0:
            raise UsageError(f"{context}: dimension {value} in shape '{text}' must be positive")
        dims.append(value)
    return tuple(dims)


def parse_input_spec(spec: str) -> tuple[str, tuple[int, ...]]:
    """Parse one ``NAME:1x3x224x224`` spec (as given to ``--input``)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise UsageError(f"--input '{spec}': expected NAME:SHAPE, e.g. --input x:1x3x224x224")
    name, _, shape = spec.rpartition(":")
    name = name.strip()
    if not name:
        raise UsageError(f"--input '{spec}': the input name before ':' is empty; expected "
                         f"NAME:SHAPE, e.g. --input x:1x3x224x224")
    return name, parse_shape(shape, context=f"--input '{spec}'")


def parse_input_specs(specs: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """Parse several ``--input`` specs; a name given twice is a UsageError."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, dims = parse_input_spec(spec)
        if name in shapes:
            raise UsageError(f"--input '{spec}': input '{name}' is given more than once")
        shapes[name] = dims
    return shapes


def normalize_input_shapes(input_shapes: Mapping[str, object] | None) -> dict[str, tuple[int, ...]]:
    """Validate the ``input_shapes=`` API argument into ``{name: tuple of ints}``."""
    if input_shapes is None:
        return {}
    if not isinstance(input_shapes, Mapping):
        raise UsageError(f"input_shapes must be a dict of input name to shape, e.g. "
                         f"{{'x': (1, 3, 224, 224)}}; got {type(input_shapes).__name__}")
    result: dict[str, tuple[int, ...]] = {}
    for name, shape in input_shapes.items():
        context = f"input_shapes[{name!r}]"
        if not isinstance(name, str) or not name:
            raise UsageError(f"{context}: input names must be non-empty strings")
        if isinstance(shape, str):
            result[name] = parse_shape(shape, context=context)
            continue
        if not isinstance(shape, Sequence):
            raise UsageError(f"{context}: expected a sequence of positive ints such as "
                             f"(1, 3, 224, 224); got {shape!r}")
        dims = []
        for d in shape:
            if isinstance(d, bool) or not isinstance(d, int) and not _is_integral(d) or int(d) <= 0:
                raise UsageError(f"{context}: dimension {d!r} in {tuple(shape)!r} is not a "
                                 f"positive integer")
            dims.append(int(d))
        result[name] = tuple(dims)
    return result


def _is_integral(value: object) -> bool:
    """numpy integer scalars count as ints."""
    try:
        import numpy as np

        return isinstance(value, np.integer)
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        return False


def format_shape(dims: Sequence[DeclaredDim]) -> str:
    """``[1, 'N', None]`` -> ``"1xNx?"`` (as in an ``--input`` spec)."""
    return "x".join(str(d) if isinstance(d, int) and d >= 0 else (d or "?") for d in dims)


def _example(dims: Sequence[DeclaredDim]) -> tuple[int, ...]:
    """An example static shape: the model's static dims, 1 for a leading dynamic dim
    (the batch) and 224 for other dynamic dims (only to show the syntax)."""
    return tuple(d if isinstance(d, int) and d > 0 else (1 if i == 0 else 224)
                 for i, d in enumerate(dims))


def resolve_input_shape(name: str, declared: Sequence[DeclaredDim],
                        user: tuple[int, ...] | None, *, source: str) -> tuple[int, ...]:
    """The static shape of input ``name`` given its declared dims and a user shape.

    ``source`` names the model (file) in messages.
    """
    if user is not None:
        if len(user) != len(declared):
            raise InputShapeError(
                f"{source}: input '{name}' has rank {len(declared)} (shape "
                f"{format_shape(declared)}), but the given shape {format_shape(user)} has rank "
                f"{len(user)}; give one size per dimension")
        for i, (d, u) in enumerate(zip(declared, user)):
            if isinstance(d, int) and d > 0 and d != u:
                raise InputShapeError(
                    f"{source}: input '{name}' dimension {i} is fixed to {d} by the model, but the "
                    f"given shape {format_shape(user)} says {u}; use "
                    f"--input {name}:{format_shape(_merge(declared, user))}")
        return tuple(user)
    dynamic = [i for i, d in enumerate(declared) if not (isinstance(d, int) and d > 0)]
    if dynamic:
        example = _example(declared)
        labels = ", ".join(f"{i} ('{declared[i] or '?'}')" for i in dynamic)
        raise ShapeError(
            f"{source}: input '{name}' has dynamic dimension(s) {labels} in shape "
            f"{format_shape(declared)}; edgeq needs a static shape. Give one, e.g. "
            f"--input {name}:{format_shape(example)} on the command line or "
            f"input_shapes={{{name!r}: {example}}} in the Python API")
    return tuple(int(d) for d in declared)  # type: ignore[arg-type]


def _merge(declared: Sequence[DeclaredDim], user: Sequence[int]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else u for d, u in zip(declared, user))


# -- applying shapes to an ONNX model -------------------------------------------------
#: ONNX element types that are not numbers (onnx.TensorProto.UNDEFINED = 0, STRING = 8)
_NON_NUMERIC = frozenset({0, 8})


def _declared_with_zero(value_info) -> list:
    """The declared dims with size-0 dims kept as 0 (for messages)."""
    return [int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or None)
            for d in value_info.type.tensor_type.shape.dim]


def declared_dims(value_info) -> list[DeclaredDim]:
    """The declared dims of an ONNX graph input: int if static (> 0), else the
    dim_param (str) or None."""
    dims: list[DeclaredDim] = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        else:
            dims.append(d.dim_param or None)
    return dims


def specialize_inputs(model, input_shapes: Mapping[str, tuple[int, ...]], *, source: str) -> dict[str, tuple[int, ...]]:
    """Fix every graph input of ``model`` (an ``onnx.ModelProto``, edited in place) to a
    static shape and forget the declared shapes of outputs and intermediates (they are
    re-inferred for the new input shapes). Returns ``{input: shape}``.

    Unknown names in ``input_shapes`` raise UsageError listing the real inputs.
    """
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in initializers]
    names = [vi.name for vi in inputs]
    unknown = sorted(set(input_shapes) - set(names))
    if unknown:
        raise UsageError(f"{source}: no model input named {', '.join(map(repr, unknown))}; "
                         f"the model's inputs are {', '.join(map(repr, names)) or '(none)'}")
    resolved = {}
    for vi in inputs:
        if not vi.type.HasField("tensor_type"):
            raise ShapeError(f"{source}: input '{vi.name}' is not a tensor (it is a "
                             f"{vi.type.WhichOneof('value')}); edgeq imports tensor inputs only")
        elem = vi.type.tensor_type.elem_type
        if elem in _NON_NUMERIC:
            import onnx

            raise ShapeError(f"{source}: input '{vi.name}' has element type "
                             f"{onnx.TensorProto.DataType.Name(elem)}; edgeq quantizes models with "
                             "numeric inputs only (tokenize or decode outside the model, and feed "
                             "the numbers)")
        zero = [i for i, d in enumerate(vi.type.tensor_type.shape.dim)
                if d.HasField("dim_value") and d.dim_value == 0]
        if zero:
            raise ShapeError(f"{source}: input '{vi.name}' declares a dimension of size 0 (axis "
                             f"{zero[0]}, shape {format_shape(_declared_with_zero(vi))}): an input with "
                             "no elements cannot be calibrated or run; fix the model's input shape")
        if not vi.type.tensor_type.HasField("shape"):
            if vi.name not in input_shapes:
                raise ShapeError(f"{source}: input '{vi.name}' declares no shape at all; give one, "
                                 f"e.g. --input {vi.name}:1x3x224x224 on the command line or "
                                 f"input_shapes={{{vi.name!r}: (1, 3, 224, 224)}} in the Python API")
            declared: list[DeclaredDim] = [None] * len(input_shapes[vi.name])
        else:
            declared = declared_dims(vi)
        shape = resolve_input_shape(vi.name, declared, input_shapes.get(vi.name), source=source)
        _check_input_size(vi.name, shape, elem, source)
        resolved[vi.name] = shape
        vi.type.tensor_type.ClearField("shape")
        vi.type.tensor_type.shape.SetInParent()  # rank 0 is a shape too
        for d in shape:
            vi.type.tensor_type.shape.dim.add().dim_value = d
    for vi in list(graph.output) + list(graph.value_info):
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    return resolved


#: the largest input edgeq accepts (bytes): shape inference probes the model with an
#: input of this size, calibration holds batches of them; an edge model's input is far
#: smaller, so a larger one is a wrong declared or given shape
MAX_INPUT_BYTES = 1 << 31


def _check_input_size(name: str, shape: tuple[int, ...], elem: int, source: str) -> None:
    import math

    from onnx import helper

    itemsize = helper.tensor_dtype_to_np_dtype(elem).itemsize if elem else 4
    size = math.prod(shape) * itemsize
    if size > MAX_INPUT_BYTES:
        raise ShapeError(f"{source}: input '{name}' has shape {format_shape(shape)} "
                         f"({size:,} bytes, over edgeq's limit of {MAX_INPUT_BYTES:,}); the model "
                         f"declares (or was given) a wrong input shape: give a real one, e.g. "
                         f"--input {name}:1x3x224x224 or input_shapes={{{name!r}: (1, 3, 224, 224)}}")


#: ops whose output shape depends on input *values*: specialising them to one run's
#: shape would be wrong for other inputs
DATA_DEPENDENT_OPS = frozenset({"NonZero", "NonMaxSuppression", "Unique", "Compress",
                                "StringSplit", "RegexFullMatch"})

_MAX_ROUNDS = 10


def infer_static_shapes(model, *, source: str, check=None):
    """Make every value of ``model`` statically shaped; returns the new ModelProto.

    Rounds of onnx shape inference (with data propagation) and constant folding
    (:func:`edgeq.ir.passes.fold_constants.fold_model`) until nothing folds any more;
    then ``check(model)`` runs (the importer rejects leftover control flow there);
    values still without a static shape (ops onnx cannot infer, custom domains) get it
    from one onnxruntime run of the fixed-shape model on zero inputs. A value whose
    shape depends on data (NonZero, …) raises ShapeError naming the node.
    """
    import onnx

    from edgeq.ir.passes.fold_constants import fold_model, value_shapes

    for _ in range(_MAX_ROUNDS):
        try:
            model = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception as exc:  # inconsistent shapes: usually the user's input shapes
            raise ShapeError(f"{source}: shape inference failed for the given input shapes: "
                             f"{_first_line(exc)}; check the --input shapes") from None
        if not fold_model(model):
            break
    if check is not None:
        check(model)
    graph = model.graph
    known = value_shapes(graph)
    missing = [o for n in graph.node for o in n.output if o and o not in known]
    if missing:
        for node in graph.node:
            if node.op_type in DATA_DEPENDENT_OPS and any(o in missing for o in node.output):
                raise ShapeError(
                    f"{source}: node '{node.name}' ({node.op_type}) produces a tensor whose shape "
                    f"depends on the input data, so it has no static shape; edgeq needs "
                    f"static shapes (export the model without {node.op_type})")
        _shapes_from_onnxruntime(model, missing, source=source)
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _shapes_from_onnxruntime(model, names: list[str], *, source: str) -> None:
    """Learn the shapes/dtypes of ``names`` by running ``model`` once in onnxruntime."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper

    from edgeq.ir.passes.fold_constants import static_shape

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    outputs = {o.name for o in probe.graph.output}
    for name in names:
        if name not in outputs:
            probe.graph.output.append(helper.ValueInfoProto(name=name))
    options = ort.SessionOptions()
    # keep every intermediate value: no fusion may remove the tensors we ask for
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # failures are reported as ShapeError below
    feeds = {}
    initializers = {init.name for init in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        dtype = helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
        feeds[vi.name] = np.zeros(static_shape(vi.type), dtype=dtype)
    try:
        session = ort.InferenceSession(probe.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        values = session.run(names, feeds)
    except Exception as exc:
        raise ShapeError(f"{source}: could not determine the static shapes of "
                         f"{', '.join(names[:5])}{' …' if len(names) > 5 else ''}: onnxruntime "
                         f"failed to run the model at the given input shapes: {_first_line(exc)}") from None
    by_name = {vi.name: vi for vi in list(model.graph.value_info) + list(model.graph.output)}
    for name, value in zip(names, values):
        value = np.asarray(value)
        elem = helper.np_dtype_to_tensor_dtype(value.dtype)
        vi = by_name.get(name)
        if vi is None:
            vi = model.graph.value_info.add()
            vi.name = name
        vi.type.tensor_type.elem_type = elem
        vi.type.tensor_type.ClearField("shape")
        vi.type.tensor_type.shape.SetInParent()
        for d in value.shape:
            vi.type.tensor_type.shape.dim.add().dim_value = d
