"""``colorot ui``: grade photos in a browser window, with a live preview, on the user's own machine.

* :mod:`colorot.ui.workspace` -- opened files, grades (a map fitted once, then re-applied), masks, exports;
* :mod:`colorot.ui.checks` -- the page's looks and options checked before any work;
* :mod:`colorot.ui.jobs` -- long jobs with progress and cancel;
* :mod:`colorot.ui.figures` -- ``colorot evaluate``'s numbers and the a*b* chroma histograms;
* :mod:`colorot.ui.server` -- the Starlette app and its guard (host, origin, upload size);
* ``static/`` -- the page: plain HTML, CSS and JavaScript, no build step, nothing fetched from the network.

Needs the ``ui`` extra (``pip install "colorot[ui]"``: Starlette and uvicorn).
"""
