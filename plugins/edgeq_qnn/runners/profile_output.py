"""Parser of ``qnn-profile-viewer``'s text report of a ``qnn-net-run --profiling_level
basic`` log.

The report has sections headed ``Init Stats:``, ``Compose Graphs Stats:``, ``Finalize
Stats:``, ``De-Init Stats:``, ``Execute Stats (Overall):`` and ``Execute Stats
(Average):``, each followed by a dashed rule and indented ``<Who>: <value> us`` lines;
``Graph <i> (<name>):`` lines name the graph a block belongs to. ``NetRun`` is the tool's
own wall-clock time of the step, ``Backend (...)`` the backend's events (e.g. ``Backend
(QNN accelerator (execute) time): 1234 us`` on HTP). Times are in microseconds; the
overall block gives ``NetRun IPS (includes IO and misc. time): 15.5 inf/sec``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edgeq.sdk import DeviceError

_SECTION = re.compile(r"^(Init|Compose Graphs|Finalize|De-Init|Execute) Stats(?: \((Overall|Average)\))?:\s*$")
_VALUE = re.compile(r"^\s+(.+?):\s+([0-9.]+)\s*(us|inf/sec)\s*$")


@dataclass
class ProfileStats:
    init_us: float | None = None
    execute_us: float | None = None  # NetRun, average per inference
    accelerator_us: float | None = None  # Backend (QNN accelerator (execute) time)
    ips: float | None = None
    sections: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"init_us": self.init_us, "execute_us": self.execute_us,
                "accelerator_us": self.accelerator_us, "ips": self.ips, "sections": self.sections}


def parse_profile_viewer(text: str, *, source: str = "qnn-profile-viewer") -> ProfileStats:
    """Parse the report; DeviceError naming ``source`` when it has no average execute time."""
    stats = ProfileStats()
    section = None
    for line in text.splitlines():
        m = _SECTION.match(line.strip()) if not line.startswith(" ") else None
        if m:
            section = m.group(1) + (f" ({m.group(2)})" if m.group(2) else "")
            stats.sections.setdefault(section, {})
            continue
        v = _VALUE.match(line)
        if v and section:
            stats.sections[section][v.group(1)] = float(v.group(2))
    init = stats.sections.get("Init", {})
    avg = stats.sections.get("Execute (Average)", {})
    overall = stats.sections.get("Execute (Overall)", {})
    stats.init_us = init.get("NetRun")
    stats.execute_us = avg.get("NetRun")
    stats.accelerator_us = next((v for k, v in avg.items() if "accelerator (execute)" in k.lower()), None)
    stats.ips = next((v for k, v in overall.items() if k.startswith("NetRun IPS")), None)
    if stats.execute_us is None:
        raise DeviceError(f"{source}: no 'Execute Stats (Average)' NetRun time in its output; is this "
                          f"the QNN SDK's qnn-profile-viewer?\n{text[-800:]}")
    return stats
