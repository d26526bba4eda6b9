"""
Learned generators
==================

A generator trained with the sliced W2 loss on a few photos (a minimum Kantorovich estimator) grades new
photos with no further fitting. The shipped style-conditioned generator maps any photo to any style in
one forward pass (``method="conditioned"``), a looser match than the iterative engine.
"""

import numpy as np

import colorot
from _photos import photo, show_row

style = photo("coffee")
shoot = [photo("astronaut")[:, :160], photo("rocket")[:, :160]]
losses = []
generator = colorot.train_generator(style, shoot, n_steps=300, batch_size=2048, seed=0,
                                    progress=lambda step, loss: losses.append(loss))
print(f"{len(losses)} steps, loss {np.mean(losses[:10]):.4f} -> {np.mean(losses[-10:]):.4f}")
table = generator.to_lut(33)
new_photos = [photo("astronaut")[:, 160:], photo("chelsea")]
show_row([style, *[colorot.apply_lut(table, p) for p in new_photos]], ["style", "new photo 1", "new photo 2"])

source = photo("rocket")
results = [colorot.transfer(source, photo(name), method="conditioned") for name in ("coffee", "hubble", "chelsea")]
show_row([source, *results], ["source", "conditioned: coffee", "conditioned: hubble", "conditioned: chelsea"])
