"""
Color transfer in one call
==========================

``colorot.transfer(source, style)`` gives the source the style's color distribution. The result keeps
the source's type (here uint8 numpy arrays). The sliced W2 distance between the color clouds drops from
the source's to the result's.
"""

import colorot
from _photos import photo, show_row

for source_name, style_name in [("astronaut", "coffee"), ("rocket", "chelsea")]:
    source, style = photo(source_name), photo(style_name)
    result = colorot.transfer(source, style, seed=0)
    before, after = colorot.color_distance(source, style), colorot.color_distance(result, style)
    print(f"{source_name} -> {style_name}: sliced W2 to the style {before:.4f} -> {after:.4f}")
    show_row([source, style, result], ["source", "style", f"result (SW {before:.3f} -> {after:.3f})"])
