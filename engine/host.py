"""Facts about the machine this runs on that several parts need."""

from __future__ import annotations


def available_ram() -> int | None:
    """Bytes of memory available to a new allocation without swapping (Linux's ``MemAvailable``), or
    None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
