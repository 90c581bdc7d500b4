"""Move an int -> float ``Cast`` of a graph input above the data-movement ops between
them, so that the cast is the input boundary and the moves run on quantized values.

Transformer exports reshape the int64 attention mask before casting it
(``Cast(Expand(Unsqueeze(attention_mask)))`` for mean pooling, ``Cast(Unsqueeze(
Unsqueeze(mask)))`` for the attention bias). An integer target has no kernel for int64
shape ops feeding float compute, while the same moves on the cast (then quantized)
mask are same-scale int8 ops, and a Cast reading a graph input is the boundary every
emitter accepts (docs/quantization.md).

Contract: for ``Cast(to=float)`` whose input is reached from an integer graph input
``x`` through ops in ``MOVES`` whose other inputs are constants, the Cast's output is
recomputed as the same moves applied to ``Cast(x)`` (one Cast per input, shared). The
values are identical (the moves copy elements; the cast is elementwise). The original
int ops stay only if something else reads them.
"""

from __future__ import annotations


from edgeq.ir.graph import Graph, Node, Tensor

MOVES = frozenset({"Unsqueeze", "Squeeze", "Reshape", "Expand", "Transpose", "Tile", "Flatten",
                   "Identity"})


def _chain(graph: Graph, start: str, producers) -> list[Node] | None:
    """The move ops from a graph input to ``start`` (input first), or None."""
    chain, name = [], start
    while name not in graph.inputs:
        node = producers.get(name)
        if node is None or node.op_type not in MOVES or node.domain:
            return None
        if any(i and not graph.is_constant(i) for i in node.inputs[1:]):
            return None
        chain.append(node)
        name = node.inputs[0]
    return chain[::-1]


def run(graph: Graph) -> bool:
    changed = False
    casts: dict[tuple[str, int], str] = {}
    producers = graph.producers()
    for cast in [n for n in graph.nodes if n.op_type == "Cast" and not n.domain]:
        out = graph.tensors[cast.outputs[0]]
        if out.dtype.kind != "f" or cast.inputs[0] in graph.inputs:
            continue
        chain = _chain(graph, cast.inputs[0], producers)
        if not chain:
            continue
        x = chain[0].inputs[0]
        if graph.tensors[x].dtype.kind not in "iub":
            continue
        key = (x, int(cast.attrs.get("to", 1)))
        new_nodes = []
        if key not in casts:
            name = graph.unique_name(f"{x}_as_{out.dtype.name}")
            graph.tensors[name] = Tensor(name, out.dtype, graph.tensors[x].shape)
            new_nodes.append(Node(graph.unique_name(f"{x}/cast"), "Cast", [x], [name], dict(cast.attrs)))
            casts[key] = name
        cur = casts[key]
        for i, node in enumerate(chain):
            last = i == len(chain) - 1
            dst = cast.outputs[0] if last else graph.unique_name(f"{node.outputs[0]}_{out.dtype.name}")
            if not last:
                graph.tensors[dst] = Tensor(dst, out.dtype, graph.tensors[node.outputs[0]].shape)
            new_nodes.append(Node(graph.unique_name(f"{node.name}/{out.dtype.name}"), node.op_type,
                                  [cur, *node.inputs[1:]], [dst], dict(node.attrs)))
            cur = dst
        at = graph.nodes.index(cast)
        graph.nodes[at:at + 1] = new_nodes
        changed = True
    if changed:
        graph.remove_unused()
        graph.toposort()
    return changed


