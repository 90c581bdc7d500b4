"""Stand-in for the QNN SDK's ``qnn-profile-viewer``: reads the fake qnn-net-run's log
(``--input_log``) and prints the sections of the real viewer's text report ("Init Stats",
"Execute Stats (Overall)", "Execute Stats (Average)" with ``NetRun: N us`` and
``Backend (...)`` lines)."""

import json
import sys


def main(argv):
    log = argv[argv.index("--input_log") + 1]
    data = json.load(open(log))
    ex = data["execute_us"]
    avg = sum(ex) / max(len(ex), 1)
    graph = data["graph"]
    print(f"Input Log File Location: {log}")
    print("Time Scale: 1e-06")
    print("Qnn Init/Prepare/Finalize/De-Init/Execute/Lib-Load Statistics:")
    print("------------------------------------------------------------")
    print("Init Stats:\n-----------")
    print(f"    NetRun: {int(data['init_us'])} us")
    print("\nCompose Graphs Stats:\n--------------")
    print("    NetRun: 0 us")
    print("\nFinalize Stats:\n---------------")
    print(f"Graph 0 ({graph}):")
    print("    NetRun: 0 us")
    print("\nDe-Init Stats:\n--------------")
    print("    NetRun: 120 us")
    print("    Backend (null): 0 us")
    print("\nExecute Stats (Overall):\n------------------------")
    print(f"    NetRun IPS (includes IO and misc. time): {1e6 / max(avg, 1):.4f} inf/sec")
    print("\nExecute Stats (Average):\n------------------------")
    print("Total Inference Time:\n---------------------")
    print(f"Graph 0 ({graph}):")
    print(f"    NetRun: {int(avg)} us")
    print(f"    Backend (RPC (execute) time): {int(avg * 0.98)} us")
    print(f"    Backend (QNN accelerator (execute) time): {int(avg * 0.95)} us")
    print(f"    Backend (Accelerator (execute excluding wait) time): {int(avg * 0.93)} us")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
