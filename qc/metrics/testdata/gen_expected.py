#!/usr/bin/python3
"""Writes the test masks of package metrics and their expected metrics.

The expected values are computed independently of the Go code, with scipy:
scipy.ndimage.distance_transform_edt(sampling=spacing) for distances and
binary_erosion with the 6-neighbour structure for surfaces. Run it from this
folder with python3 (numpy and scipy, Debian packages python3-numpy and
python3-scipy); it rewrites cases/*.txt and expected.json.

Mask file format (text): a first line "nz ny nx", then nz*ny lines of nx
characters '0' or '1', the array in C order (z slowest).
"""
import json
import os

import numpy as np
from scipy import ndimage

TOLERANCE_MM = 2.0


def surface(m):
    st = ndimage.generate_binary_structure(3, 1)
    return m & ~ndimage.binary_erosion(m, structure=st, border_value=0)


def metrics(a, b, spacing, tol):
    na, nb = int(a.sum()), int(b.sum())
    inter = int((a & b).sum())
    out = {"voxels_a": na, "voxels_b": nb, "intersection": inter}
    if na == 0 or nb == 0:
        return out
    out["dice"] = 2 * inter / (na + nb)
    out["jaccard"] = inter / (na + nb - inter)
    sa, sb = surface(a), surface(b)
    dab = ndimage.distance_transform_edt(~sb, sampling=spacing)[sa]
    dba = ndimage.distance_transform_edt(~sa, sampling=spacing)[sb]
    out["hausdorff_mm"] = float(max(dab.max(), dba.max()))
    out["hd95_mm"] = float(max(np.percentile(dab, 95), np.percentile(dba, 95)))
    both = np.concatenate([dab, dba])
    out["assd_mm"] = float(both.mean())
    out["nsd"] = float((both <= tol).mean())
    return out


def ellipsoid(shape, centre, radii):
    z, y, x = np.indices(shape)
    r = sum(((g - c) / rr) ** 2 for g, c, rr in zip((z, y, x), centre, radii))
    return r <= 1.0


def write_mask(path, m):
    nz, ny, nx = m.shape
    with open(path, "w") as f:
        f.write(f"{nz} {ny} {nx}\n")
        for z in range(nz):
            for y in range(ny):
                f.write("".join("1" if v else "0" for v in m[z, y]) + "\n")


def main():
    rng = np.random.default_rng(20240607)
    cases = []

    shape = (12, 20, 22)
    a = ellipsoid(shape, (5.5, 9.5, 10.0), (4.0, 7.0, 8.0))
    b = ellipsoid(shape, (6.0, 10.5, 11.5), (3.5, 7.5, 7.0))
    cases.append(("ellipsoids-anisotropic", a, b, (2.5, 0.7, 0.9)))

    shape = (8, 9, 10)
    a = np.zeros(shape, bool)
    a[2:6, 2:7, 3:8] = True
    cases.append(("identical", a, a.copy(), (1.0, 1.0, 1.0)))

    shape = (10, 12, 14)
    a = np.zeros(shape, bool)
    b = np.zeros(shape, bool)
    a[1:4, 1:5, 1:5] = True
    b[6:9, 6:11, 8:13] = True
    cases.append(("disjoint", a, b, (3.0, 1.0, 0.5)))

    # Smoothed noise: several components, holes, voxels on the grid's faces.
    shape = (9, 16, 18)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), 1.2)
    a = noise > 0.05
    b = ndimage.binary_dilation(a) & (rng.random(shape) > 0.1)
    cases.append(("blobs-border", a, b, (1.25, 0.8, 0.6)))

    # A single voxel against a line: every distance by hand is easy.
    shape = (3, 4, 5)
    a = np.zeros(shape, bool)
    b = np.zeros(shape, bool)
    a[1, 1, 1] = True
    b[1, 3, 0:5] = True
    cases.append(("voxel-line", a, b, (2.0, 1.5, 1.0)))

    os.makedirs("cases", exist_ok=True)
    expected = {"tolerance_mm": TOLERANCE_MM, "cases": []}
    for name, a, b, spacing in cases:
        write_mask(f"cases/{name}-a.txt", a)
        write_mask(f"cases/{name}-b.txt", b)
        m = metrics(a, b, spacing, TOLERANCE_MM)
        m.update({"name": name, "spacing": list(spacing)})
        expected["cases"].append(m)

    # The distance transform itself on a small anisotropic grid.
    shape = (5, 6, 7)
    feat = rng.random(shape) > 0.93
    write_mask("cases/edt-features.txt", feat)
    sampling = (1.7, 0.6, 1.1)
    d = ndimage.distance_transform_edt(~feat, sampling=sampling)
    expected["edt"] = {"spacing": list(sampling), "distances": [float(x) for x in d.ravel()]}

    with open("expected.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
