"""Which layer pairs cross-layer equalization can rescale (:mod:`.equalize`): found on
the graph alone, before calibration, so that calibration collects the per-channel
statistics equalization needs (:func:`edgeq.calibrate.collect.collect`)."""

from __future__ import annotations

from edgeq.ir.graph import Graph


def _channel_axis(node) -> int | None:
    return {"Conv": 1, "FullyConnected": -1}.get(node.op_type)


def find_pairs(graph: Graph):
    """``(P, C, T, chain)`` for the pairs that can be equalized (see module docstring);
    ``chain`` lists P's output, the reshaped copies and ``T`` (C's input)."""
    producers, consumers = graph.producers(), graph.consumers()
    pairs = []
    for c in graph.nodes:
        if c.op_type not in ("Conv", "FullyConnected") or graph.const(c.inputs[1]) is None:
            continue
        t = c.inputs[0]
        chain = _channel_chain(graph, t, producers, consumers)
        if chain is None:
            continue
        p = producers.get(chain[0])
        if p is None or p.op_type != c.op_type:
            continue
        if graph.const(p.inputs[1]) is None or len(p.outputs) != 1:
            continue
        if p.attrs.get("act_min") != 0.0:
            # only ReLU-family outputs: a clamp with another lower bound does not commute
            # with scaling, and rescaling a linear (residual-path) output measured worse
            continue
        if c.op_type == "Conv":
            group = int(c.attr("group", 1))
            if group not in (1, graph.tensors[t].shape[1]):
                continue
        pairs.append((p, c, t, chain))
    return pairs


#: ops through which a channel axis 1 passes unchanged (conv1d lowering's Squeeze/Unsqueeze)
_PASS = frozenset({"Squeeze", "Unsqueeze", "Reshape"})


def _channel_chain(graph: Graph, t: str, producers, consumers) -> list[str] | None:
    """``[P's output, …, t]`` through single-use Squeeze/Unsqueeze/Reshape nodes that keep
    dims 0 and 1 (batch, channels), or None if ``t`` cannot be traced to one producer."""
    chain = [t]
    while True:
        name = chain[0]
        if name in graph.outputs or len(consumers.get(name, [])) != 1:
            return None
        node = producers.get(name)
        if node is None or node.op_type not in _PASS:
            return chain
        src = node.inputs[0]
        if graph.tensors[src].shape[:2] != graph.tensors[name].shape[:2]:
            return None
        chain.insert(0, src)
