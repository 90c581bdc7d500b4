"""Parsing benchmark_model output (edgeq_tflite.runners.benchmark_output).

The texts below follow the tool's print statements (benchmark_model.cc,
benchmark_tflite_model.cc, tsl::Stat::OutputToStream, StatsCalculator tables) with
numbers made up for the test; expected values are derived by hand from them.
"""

from __future__ import annotations

import pytest

from edgeq.errors import DeviceError
from edgeq_tflite.runners.benchmark_output import RunStats, parse_benchmark_output
from edgeq_tflite.runners.benchmark_output import latency_from_benchmark

CURRENT = """INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [4]
INFO: Graph: [/data/local/tmp/edgeq-1/model.tflite]
INFO: Enable op profiling: [1]
INFO: #threads used for CPU inference: [4]
INFO: Loaded model /data/local/tmp/edgeq-1/model.tflite
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate.
INFO: The input model file size (MB): 3.51234
INFO: Initialized session in 41.25ms.
INFO: Running benchmark for at least 5 iterations and at least 0 seconds but terminate if exceeding 150 seconds.
INFO: count=5 first=14120 curr=9050 min=9001 max=14120 avg=10213.4 std=1990

INFO: Running benchmark for at least 50 iterations and at least 0 seconds but terminate if exceeding 150 seconds.
INFO: count=50 first=9102 curr=8870 min=8650 max=9930 avg=8912.36 std=211

INFO: Inference timings in us: Init: 41250, First inference: 14120, Warmup (avg): 10213.4, Inference (avg): 8912.36
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=7.25 overall=9.5
INFO: Overall peak memory footprint (MB) via periodic monitoring: 12.125
INFO: Operator-wise Profiling Info for Regular Benchmark Runs:
============================== Run Order ==============================
\t             [node type]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]
\t                 CONV_2D\t    4.200\t    4.000\t 50.000%\t 50.000%\t     0.000\t        1\t[conv1/Relu6]:0
\t       DEPTHWISE_CONV_2D\t    2.100\t    3.000\t 37.500%\t 87.500%\t     0.000\t        1\t[dw 1/weird:name]:1
\tConvolution (NHWC, F32) IGEMM\t    1.000\t    1.000\t 12.500%\t100.000%\t    12.500\t        2\t[]:2

============================== Top by Computation Time ==============================
\t             [node type]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]
\t                 CONV_2D\t    4.200\t    4.000\t 50.000%\t 50.000%\t     0.000\t        1\t[conv1/Relu6]:0

Number of nodes executed: 3
============================== Summary by node type ==============================
\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]
\t                 CONV_2D\t        1\t     4.000\t    50.000%\t    50.000%\t     0.000\t        1

Timings (microseconds): count=50 first=9000 curr=8000 min=7900 max=9100 avg=8000 std=100
Memory (bytes): count=0
3 nodes observed
"""

OLD = """STARTING!
Num runs: [50]
Graph: [/data/local/tmp/mobilenet.tflite]
Loaded model /data/local/tmp/mobilenet.tflite
The input model file size (MB): 16.9
Initialized session in 17.187ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=3 curr=120000(all same)
Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=1.2e+06 curr=1.1e+06 min=1e+06 max=1.3e+06 avg=1.15e+06 std=20000
Inference timings in us: Init: 17187, First inference: 120000, Warmup (avg): 120000, Inference (avg): 1.15e+06
Peak memory footprint (MB): init=3 overall=4.5
Operator-wise Profiling Info for Regular Benchmark Runs:
============================== Run Order ==============================
\t             [node type]\t          [start]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]
\t                 CONV_2D\t            0.000\t    4.269\t    4.269\t 60.000%\t 60.000%\t     0.000\t        1\t[MobilenetV1/Conv2d_0/Relu6]
\t                 SOFTMAX\t            4.270\t    2.846\t    2.846\t 40.000%\t100.000%\t     0.000\t        1\t[MobilenetV1/Predictions/Softmax]
"""


def test_current_format():
    r = parse_benchmark_output(CURRENT)
    assert (r.init_ms, r.first_inference_ms) == (41.25, 14.12)
    assert r.warmup_avg_ms == pytest.approx(10.2134) and r.inference_avg_ms == pytest.approx(8.91236)
    assert r.warmup == RunStats(5, 14120, 9050, 9001, 14120, 10213.4, 1990)
    assert r.inference == RunStats(50, 9102, 8870, 8650, 9930, 8912.36, 211)
    assert (r.init_mem_mb, r.overall_mem_mb, r.peak_mem_mb) == (7.25, 9.5, 12.125)
    assert r.memory_mb == 12.125 and r.model_size_mb == 3.51234
    assert r.delegates == ["Created TensorFlow Lite XNNPACK delegate for CPU.",
                           "Explicitly applied GPU delegate, and the model graph will be completely "
                           "executed by the delegate."]
    assert [(o.node_type, o.name, o.index, o.avg_ms, o.percent, o.times_called) for o in r.ops] == [
        ("CONV_2D", "conv1/Relu6", 0, 4.0, 50.0, 1),
        ("DEPTHWISE_CONV_2D", "dw 1/weird:name", 1, 3.0, 37.5, 1),
        ("Convolution (NHWC, F32) IGEMM", "", 2, 1.0, 12.5, 2),
    ]
    assert r.ops[2].mem_kb == 12.5 and r.ops[0].first_ms == 4.2


def test_older_format_without_prefix_with_start_column():
    r = parse_benchmark_output(OLD)
    assert r.warmup == RunStats(3, 120000, 120000, 120000, 120000, 120000, 0)  # "(all same)"
    assert r.inference.avg_us == 1.15e6 and r.inference_avg_ms == 1150.0
    assert (r.init_mem_mb, r.overall_mem_mb, r.peak_mem_mb, r.memory_mb) == (3.0, 4.5, None, 4.5)
    assert [(o.node_type, o.name, o.index, o.first_ms, o.avg_ms) for o in r.ops] == [
        ("CONV_2D", "MobilenetV1/Conv2d_0/Relu6", None, 4.269, 4.269),
        ("SOFTMAX", "MobilenetV1/Predictions/Softmax", None, 2.846, 2.846)]


def test_space_aligned_op_table():
    text = ("INFO: Running benchmark for at least 2 iterations and at least 0 seconds but terminate "
            "if exceeding 150 seconds.\n"
            "INFO: count=2 first=10 curr=12 min=10 max=12 avg=11 std=1\n"
            "Operator-wise Profiling Info for Regular Benchmark Runs:\n"
            "============================== Run Order ==============================\n"
            "                   [node type]    [first]   [avg ms]        [%]     [cdf%]   [mem KB] [times called] [Name]\n"
            "       TfLiteXNNPackDelegate      0.500      0.400    80.000%    80.000%      0.000          1 [a b]:0\n"
            "                     SOFTMAX      0.100      0.100    20.000%   100.000%      0.000          1 [prob]:1\n")
    r = parse_benchmark_output(text)
    assert [(o.node_type, o.name, o.avg_ms, o.percent) for o in r.ops] == [
        ("TfLiteXNNPackDelegate", "a b", 0.4, 80.0), ("SOFTMAX", "prob", 0.1, 20.0)]
    assert r.inference_avg_ms == pytest.approx(0.011)  # from the count= line alone


def test_unconsumed_flags_and_errors_are_kept():
    text = CURRENT.replace("INFO: Loaded model", "WARN: Unconsumed cmdline flags: --output_filepath=/x "
                           "--bogus\nERROR: something odd\nINFO: Loaded model")
    r = parse_benchmark_output(text)
    assert r.unconsumed_flags == ["--output_filepath=/x", "--bogus"]
    assert r.errors == ["something odd"]


@pytest.mark.parametrize("text", ["", "Segmentation fault\n", "usage: benchmark_model <flags>\nFlags:\n"])
def test_unparseable_output(text):
    with pytest.raises(DeviceError, match="no inference timings"):
        parse_benchmark_output(text, source="device 'X': benchmark_model")


def test_latency_from_benchmark_combines_bulk_and_samples():
    r = parse_benchmark_output(CURRENT)
    lat = latency_from_benchmark(r, [9.0, 8.0, 10.0, 8.5])
    assert (lat.runs, lat.mean_ms, lat.min_ms, lat.max_ms, lat.std_ms, lat.load_ms) == \
        (50, pytest.approx(8.91236), 8.65, 9.93, 0.211, 41.25)
    # numpy's linear interpolation: sorted 8, 8.5, 9, 10 -> p50 8.75, p90 9.7
    assert lat.p50_ms == pytest.approx(8.75) and lat.p90_ms == pytest.approx(9.7)
    with pytest.raises(ValueError):
        latency_from_benchmark(r, [])
