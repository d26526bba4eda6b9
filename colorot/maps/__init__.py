"""Maps: a fitted transport map as a function of color, baked into a 3D LUT, and applied to pixels.

* :mod:`colorot.maps.protocol` -- :class:`~colorot.maps.protocol.ColorMap`, what every fitted map implements;
* :mod:`colorot.maps.lut` -- the 3D lookup table (:class:`~colorot.maps.lut.ColorLUT`) and its baking;
* :mod:`colorot.maps.shaper` -- a table's input side (domain, 1-D shaper), numpy only;
* :mod:`colorot.maps.dense` -- a table tabulated at every 8-bit color, numpy only;
* :mod:`colorot.maps.kernels` -- which lookup kernel applies a table to an image, and finishing the output;
* :mod:`colorot.maps.regrain` -- the guided filter of the displacement (spatial regularization).
"""
