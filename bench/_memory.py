"""Peak resident memory of the current process, for the benchmark workers.

``getrusage(RUSAGE_SELF).ru_maxrss`` is not the worker's own peak on Linux: exec keeps the
high-water mark of the process image it replaces (``signal->maxrss``), and a worker is
forked from the driver, so every worker reported at least the driver's size at the time
(the MBG/NBD and Pareto/NBD tables once showed the same peak for both libraries). The
kernel's ``VmHWM`` in ``/proc/self/status`` belongs to the current address space only,
so it is this worker's peak. Elsewhere ``ru_maxrss`` is the fallback (KiB on Linux,
bytes on macOS).
"""

from __future__ import annotations

import resource
import sys


def peak_mib() -> float:
    """Peak resident set size of this process's own address space, in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # the line reads "VmHWM:  123 kB"
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def reset_peak() -> bool:
    """Start a new peak: the kernel's VmHWM is set back to the current resident size
    (``/proc/self/clear_refs``, Linux), so that ``peak_mib`` afterwards measures what the
    code that follows adds to what is resident now. False where that is not available
    (``peak_mib`` then still includes everything before)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True
