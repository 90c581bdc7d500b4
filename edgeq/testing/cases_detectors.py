"""Conformance cases of the detector / OCR ops: ConvTranspose (each padding path of the
TFLite lowering), nearest Resize (the ONNX modes real models use) and SiLU as
Sigmoid · x. :mod:`edgeq.testing.cases` adds :data:`DETECTOR_CASES` to its ``CASES``."""

from __future__ import annotations

import numpy as np

from edgeq.testing.qgraph import QGraph, qp

DETECTOR_CASES: dict = {}


def _case(fn):
    DETECTOR_CASES[fn.__name__] = fn
    return fn


def _conv_transpose(x_shape, w_shape, out_shape, **attrs):
    b = QGraph("conv_transpose")
    x = b.input(x_shape, qp(1 / 64, -10))
    w = b.random_weight(w_shape, axis=1)  # W[C_in, C_out, kH, kW]: output channels on axis 1
    bias = b.bias(b.rng.normal(0, 0.2, w_shape[1]), x, w)
    b.output(b.op("ConvTranspose", [x, w, bias], out_shape, qp(0.05, 4), kernel_shape=list(w_shape[2:]),
                  **attrs))
    return b, (-1.5, 1.5)


@_case
def conv_transpose_k2s2_valid():
    return _conv_transpose((1, 4, 5, 6), (4, 6, 2, 2), (1, 6, 10, 12), strides=[2, 2])


@_case
def conv_transpose_k4s2p1_same():
    return _conv_transpose((1, 3, 5, 5), (3, 5, 4, 4), (1, 5, 10, 10), strides=[2, 2], pads=[1, 1, 1, 1])


@_case
def conv_transpose_asymmetric_pads_sliced():
    return _conv_transpose((1, 4, 5, 6), (4, 3, 3, 3), (1, 3, 10, 12), strides=[2, 2], pads=[0, 1, 2, 0],
                           output_padding=[1, 0])


@_case
def conv_transpose_relu():
    return _conv_transpose((1, 4, 4, 4), (4, 4, 3, 3), (1, 4, 9, 9), strides=[2, 2], act_min=0.0)


def _resize(scale, out_hw, **attrs):
    b = QGraph("resize")
    x = b.input((1, 3, 5, 6), qp(0.03, -4))
    sc = b.const(np.array([1, 1, scale, scale], np.float32))
    b.output(b.op("Resize", [x, "", sc], (1, 3, *out_hw), qp(0.03, -4), mode="nearest", **attrs))
    return b, (-3.0, 3.0)


@_case
def resize_nearest_asymmetric_floor():
    return _resize(2.0, (10, 12), coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@_case
def resize_nearest_half_pixel_round_prefer_ceil():
    return _resize(3.0, (15, 18), coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")


@_case
def resize_nearest_align_corners():
    return _resize(2.0, (10, 12), coordinate_transformation_mode="align_corners",
                   nearest_mode="round_prefer_ceil")


@_case
def silu_as_logistic_mul():
    b = QGraph("silu")
    x = b.input((1, 4, 6, 6), qp(0.05, 3))
    s = b.op("Sigmoid", [x], (1, 4, 6, 6), qp(1 / 256, -128))
    b.output(b.op("Mul", [x, s], (1, 4, 6, 6), qp(0.04, -100)))
    return b, (-5.0, 5.0)


def _bilinear(out_hw, **attrs):
    b = QGraph("resize_bilinear")
    x = b.input((1, 3, 5, 6), qp(0.03, -4))
    sizes = b.const(np.array([1, 3, *out_hw], np.int64))
    b.output(b.op("Resize", [x, "", "", sizes], (1, 3, *out_hw), qp(0.03, -4), mode="linear", **attrs))
    return b, (-3.0, 3.0)


@_case
def resize_bilinear_half_pixel():
    return _bilinear((10, 12), coordinate_transformation_mode="half_pixel")


@_case
def resize_bilinear_pytorch_half_pixel_odd():
    return _bilinear((13, 7), coordinate_transformation_mode="pytorch_half_pixel")


@_case
def resize_bilinear_align_corners():
    return _bilinear((9, 16), coordinate_transformation_mode="align_corners")


@_case
def resize_bilinear_asymmetric_down():
    return _bilinear((3, 4), coordinate_transformation_mode="asymmetric")
