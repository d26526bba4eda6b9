"""
Style transfer with texture
===========================

``colorot.stylize.stylize`` matches the distribution of 7x7 patches to the style's (sliced W2 on random
projections of the patch space), coarse to fine, from the color-transferred content. The content weight
is the knob between structure kept and texture taken.
"""

from colorot.measures.metrics import structure_similarity
from colorot.stylize import patch_distance, stylize
from _photos import photo, show_row

content, style = photo("astronaut", 192), photo("chelsea", 192)
images, titles = [content, style], ["content", "style"]
for weight in (0.1, 10.0):
    result = stylize(content, style, size=192, content_weight=weight, levels=3, steps=(120, 80, 40), seed=0)
    distance = patch_distance(result, style)
    structure = structure_similarity(result, content / 255.0)
    print(f"content weight {weight}: patch SW {patch_distance(content, style):.4f} -> {distance:.4f}, "
          f"structure {structure:.3f}")
    images.append(result)
    titles.append(f"content weight {weight}\npatch SW {distance:.3f}, structure {structure:.3f}")
show_row(images, titles)
