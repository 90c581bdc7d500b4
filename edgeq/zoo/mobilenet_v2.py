"""torchvision's ImageNet MobileNetV2 as ONNX, built from its ``.pth`` state dict.

The architecture follows torchvision/models/mobilenetv2.py (Sandler et al., 2018,
"MobileNetV2: Inverted Residuals and Linear Bottlenecks", table 2):

* ``features.0``: 3x3 conv stride 2 (3 -> 32) + BN + ReLU6;
* ``features.1..17``: inverted residuals ``(t, c, n, s)`` = (1,16,1,1) (6,24,2,2)
  (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1): optional 1x1 expansion
  (+BN+ReLU6), 3x3 depthwise (+BN+ReLU6), 1x1 linear projection (+BN); a residual add
  when stride is 1 and the channel count is unchanged;
* ``features.18``: 1x1 conv (320 -> 1280) + BN + ReLU6;
* global average pool (``adaptive_avg_pool2d(x, 1)``), flatten, ``classifier.1``
  linear 1280 -> 1000 (the dropout before it is the identity at inference).

BatchNorm (eps 1e-5, torch.nn.BatchNorm2d's default) is folded into the preceding
conv in float64, exactly as torch.onnx.export does in eval mode; the graph is what
torch's exporter would write: Conv, Clip(0, 6), Add, GlobalAveragePool, Flatten, Gemm.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx

from edgeq.errors import ModelLoadError
from edgeq.zoo.onnx_build import FLOAT, GraphWriter, value_info

BN_EPS = 1e-5
#: (expansion t, output channels c, repeats n, first stride s) per stage
INVERTED_RESIDUAL_SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                             (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
INPUT_SHAPE = (1, 3, 224, 224)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def fold_bn(weight: np.ndarray, sd: Mapping[str, np.ndarray], bn: str) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight and bias with BatchNorm ``bn`` folded in (float64 math, float32 out).

    y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta
      = conv_{w * k}(x) + (beta - mean * k),  k = gamma / sqrt(var + eps)
    """
    gamma = sd[f"{bn}.weight"].astype(np.float64)
    beta = sd[f"{bn}.bias"].astype(np.float64)
    mean = sd[f"{bn}.running_mean"].astype(np.float64)
    var = sd[f"{bn}.running_var"].astype(np.float64)
    k = gamma / np.sqrt(var + BN_EPS)
    w = weight.astype(np.float64) * k.reshape(-1, *([1] * (weight.ndim - 1)))
    b = beta - mean * k
    return w.astype(np.float32), b.astype(np.float32)


class _Builder:
    def __init__(self, sd: Mapping[str, np.ndarray]):
        self.sd = sd
        self.g = GraphWriter("mobilenet_v2")

    def conv_bn(self, x: str, conv: str, bn: str, stride: int, relu6: bool) -> str:
        """Conv ``conv`` (+ folded BN ``bn``), padding (k-1)//2, optional ReLU6."""
        weight = self.sd[f"{conv}.weight"]
        out_c, in_per_group, kh, kw = weight.shape
        in_c = self._channels[x]
        group = in_c // in_per_group
        w, b = fold_bn(weight, self.sd, bn)
        pad = (kh - 1) // 2
        y = self.g.node("Conv", [x, self.g.const(f"{conv}.weight", w), self.g.const(f"{conv}.bias", b)],
                        name=conv, kernel_shape=[kh, kw], strides=[stride, stride],
                        pads=[pad, pad, pad, pad], group=group, dilations=[1, 1])
        self._channels[y] = out_c
        if relu6:
            # ReLU6 as Clip(min=0, max=6), the form torch.onnx.export writes for nn.ReLU6
            y6 = self.g.node("Clip", [y, self._zero, self._six], name=f"{conv}.relu6")
            self._channels[y6] = out_c
            return y6
        return y

    def build(self) -> onnx.ModelProto:
        g = self.g
        self._zero = g.const("clip.min", np.array(0.0, np.float32))
        self._six = g.const("clip.max", np.array(6.0, np.float32))
        self._channels = {"input": 3}
        x = self.conv_bn("input", "features.0.0", "features.0.1", stride=2, relu6=True)
        index = 1
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            for i in range(n):
                x = self.inverted_residual(x, index, t, c, s if i == 0 else 1)
                index += 1
        x = self.conv_bn(x, f"features.{index}.0", f"features.{index}.1", stride=1, relu6=True)
        x = g.node("GlobalAveragePool", [x], name="pool")
        x = g.node("Flatten", [x], name="flatten", axis=1)
        w = self.sd["classifier.1.weight"].astype(np.float32)
        b = self.sd["classifier.1.bias"].astype(np.float32)
        g.node("Gemm", [x, g.const("classifier.1.weight", w), g.const("classifier.1.bias", b)],
               name="logits", transB=1)
        return g.model([value_info("input", FLOAT, INPUT_SHAPE)],
                       [value_info("logits", FLOAT, (1, w.shape[0]))],
                       doc="torchvision MobileNetV2 (ImageNet-1k), BN folded; input RGB NCHW "
                           "normalised with ImageNet mean/std; output logits")

    def inverted_residual(self, x: str, index: int, t: int, c: int, stride: int) -> str:
        p = f"features.{index}.conv"
        in_c = self._channels[x]
        y = x
        layer = 0
        if t != 1:
            y = self.conv_bn(y, f"{p}.0.0", f"{p}.0.1", stride=1, relu6=True)
            layer = 1
        y = self.conv_bn(y, f"{p}.{layer}.0", f"{p}.{layer}.1", stride=stride, relu6=True)
        y = self.conv_bn(y, f"{p}.{layer + 1}", f"{p}.{layer + 2}", stride=1, relu6=False)
        if self._channels[y] != c:
            raise ModelLoadError(f"{p}: projects to {self._channels[y]} channels, the "
                                 f"MobileNetV2 table says {c}")
        if stride == 1 and in_c == c:
            y = self.g.node("Add", [x, y], name=f"features.{index}.add")
            self._channels[y] = c
        return y


def build(state_dict: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """The ONNX MobileNetV2 for a torchvision ``mobilenet_v2`` state dict.

    Raises :class:`ModelLoadError` naming the missing weight when the state dict is not
    torchvision's MobileNetV2 (width multiplier 1.0).
    """
    try:
        return _Builder(state_dict).build()
    except KeyError as exc:
        raise ModelLoadError(f"state dict lacks {exc.args[0]!r}: not torchvision's "
                             f"mobilenet_v2 (width 1.0)") from None
