"""Writes static/sounds/new-order.wav: the shopkeeper's new-order chime (two short notes,
0.45 s, 16 kHz mono). Run once; the WAV is committed: ``python -m services.web.make_chime``."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
NOTES = ((880.0, 0.18), (1318.5, 0.27))  # A5 then E6: a rising "ding-dong"
TARGET = Path(__file__).with_name("static") / "sounds" / "new-order.wav"


def samples() -> list[int]:
    out: list[int] = []
    for freq, seconds in NOTES:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / 160) * (1 - i / count) ** 2  # soft attack, quick decay
            out.append(int(0.6 * 32767 * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    return out


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TARGET), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        data = samples()
        wav.writeframes(struct.pack(f"<{len(data)}h", *data))


if __name__ == "__main__":
    main()
