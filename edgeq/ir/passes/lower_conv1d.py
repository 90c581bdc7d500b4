"""1-D convolutions become 2-D ones over a unit height, as the TFLite converter does
(CONV_2D has no 1-D form): ``Conv(x[N,C,L], W[O,I,k])`` →
``Squeeze(Conv(Unsqueeze(x, 2)[N,C,1,L], W[O,I,1,k]), 2)`` with the attributes
(``kernel_shape``, ``strides``, ``dilations``, ``pads [b, e]`` → ``[0, b, 0, e]``)
extended by the unit height. The fused clamp stays on the Conv. On a quantized graph the
new tensors keep the dtype and quantization of the ones they reshape (the weight its
per-output-channel scales on axis 0), so the pass is exact there too.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Tensor
from edgeq.ir.passes._emitter import Emitter


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "Conv" and not n.domain]:
        x = node.inputs[0]
        xs = graph.tensors[x].shape
        w = graph.const(node.inputs[1])
        if len(xs) != 3 or w is None or w.ndim != 3 or node.attr("auto_pad", "NOTSET") != "NOTSET":
            continue
        n, c, length = xs
        out = node.outputs[0]
        os_ = graph.tensors[out].shape
        em = Emitter(graph, node.name)
        axes = em.const("axes", [2], np.int64)
        x4 = em.node("Unsqueeze", [x, axes], (n, c, 1, length), "input_2d")
        w4 = em.const("weight_2d", w[:, :, None, :], dtype=w.dtype)
        pads = list(node.attr("pads", [0, 0]))
        attrs = dict(node.attrs)
        attrs.update(kernel_shape=[1, int(w.shape[2])], strides=[1, *node.attr("strides", [1])],
                     dilations=[1, *node.attr("dilations", [1])], pads=[0, pads[0], 0, pads[1]])
        attrs.pop("auto_pad", None)
        inputs = [x4, w4] + list(node.inputs[2:])
        y4 = em.node("Conv", inputs, (os_[0], os_[1], 1, os_[2]), "conv_2d", **attrs)
        em.node("Squeeze", [y4, axes], os_, "output_1d", output=out)
        for new, old in ((x4, x), (w4, node.inputs[1]), (y4, out)):
            t, src = graph.tensors[new], graph.tensors[old]
            graph.tensors[new] = Tensor(new, src.dtype, t.shape, t.data, src.quant)
        em.commit(node)
        changed = True
    if changed:
        graph.remove_unused()
    return changed
