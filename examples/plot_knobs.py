"""
Strength and regularization
===========================

``strength`` moves every color part of the way along its transport path, ``x + t (T(x) - x)``.
``smoothing`` (in color space) bounds the slope of the map, ``lut_blur`` blurs its displacement over the
color cube, and ``regrain_radius`` filters the displacement along the photo's edges (spatial, guided
filter). Each trades a little of the look for less amplified noise. ``refine`` leaves that trade: it
alternates the filter, from coarse to fine, with a fresh transfer, so the result is closer to the style
and keeps more of the photo's detail at once; it is no longer a function of color (no LUT reproduces it)
and costs a few transfers.
"""

import colorot
from _photos import photo, show_row

source, style = photo("coffee"), photo("hubble")
results = [colorot.transfer(source, style, strength=t, seed=0) for t in (0.0, 0.5, 1.0)]
show_row([style, *results], ["style", "strength 0", "strength 0.5", "strength 1"])

settings = {
    "smoothing 0": dict(smoothing=0.0),
    "default": dict(),
    "lut_blur 0.03": dict(lut_blur=0.03),
    "regrain radius 2": dict(regrain_radius=2, regrain_eps=1e-4),
    "refine 11": dict(refine=11),
}
images, titles = [], []
for name, options in settings.items():
    result = colorot.transfer(source, style, seed=0, **options)
    distance = colorot.color_distance(result, style)
    structure = colorot.structure_similarity(result, source)
    print(f"{name:18s} SW {distance:.4f}  structure {structure:.3f}")
    images.append(result)
    titles.append(f"{name}\nSW {distance:.3f}, structure {structure:.3f}")
show_row(images, titles)
