"""Training the look model (:mod:`colorot.learned.look`) by construction: ungraded photos under random grades.

A training pair is two crops (of two photos, or of one photo) under the *same* random grade ``G``: the network
reads the statistics of ``G(Q)`` (the reference) and predicts a grade ``H``; the loss compares ``H(P)`` with the
truth ``G(P)`` on the other crop's colors: the mean CIELAB distance (Charbonnier), plus a sliced W2 term between
the two color clouds (a minimum Kantorovich estimator; Bassetti et al. 2006). Since the reference and the target
show other content, the network can only lower the loss by telling the grade from the scene, which it learns from
how ungraded photos look.

Grades are drawn from broad families of colorists' operations, composed one to three at a time at random
strengths, one pair in eight left ungraded: tone curves per channel, channel mixing and saturation, white
balance and tints (in linear light or not), split toning, fades and crushed blacks, monochrome with a tint, hue
rotation, film-like contrast with a chroma shift, and random smooth 3D LUTs. Photos are jittered first (exposure,
white balance): a photo's own cast is part of the variety of "ungraded".
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np
import torch

from ..measures.colorspaces import REC709_LUMA, linear_to_srgb, rgb_to_lab, srgb_to_linear
from .look import LookModel

__all__ = ["GRADE_FAMILIES", "random_grade", "PairSampler", "train_look", "look_loss", "evaluate_look"]

_LUMA = torch.tensor(REC709_LUMA)


def _luma(x: torch.Tensor) -> torch.Tensor:
    return x @ _LUMA.to(x)[:, None]


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    t = t.clamp(0, 1)
    return t * t * (3 - 2 * t)


# -- grade families: each draws its parameters from ``rng`` and returns a function of (n, 3) colors in [0, 1] --


def tone_curves(rng: np.random.Generator) -> Callable:
    gamma = np.exp(rng.normal(0, 0.12) + rng.normal(0, 0.18, 3))
    contrast = rng.uniform(-0.6, 0.9, 3) * (rng.random() < 0.7)
    low, high = rng.uniform(-0.08, 0.12, 3), 1 - rng.uniform(-0.05, 0.15, 3)
    def grade(x):
        g = torch.as_tensor(gamma).to(x)
        y = x.clamp(1e-6, 1) ** g
        c = torch.as_tensor(contrast).to(x)
        y = y + c * (_smoothstep(y) - y)
        return torch.as_tensor(low).to(x) + (torch.as_tensor(high).to(x) - torch.as_tensor(low).to(x)) * y
    return grade


def channel_mix(rng: np.random.Generator) -> Callable:
    matrix = np.eye(3) + rng.normal(0, 0.1, (3, 3))
    saturation = np.exp(rng.normal(0, 0.35))
    offset = rng.normal(0, 0.03, 3)
    def grade(x):
        y = x @ torch.as_tensor(matrix).to(x).T + torch.as_tensor(offset).to(x)
        return _luma(y) + saturation * (y - _luma(y))
    return grade


def white_balance(rng: np.random.Generator) -> Callable:
    gains = np.exp(rng.normal(0, 0.12, 3))
    gains /= gains @ np.array(REC709_LUMA) if rng.random() < 0.5 else 1
    linear = rng.random() < 0.5
    def grade(x):
        g = torch.as_tensor(gains).to(x)
        return linear_to_srgb(srgb_to_linear(x) * g) if linear else x * g
    return grade


def split_toning(rng: np.random.Generator) -> Callable:
    shadow, highlight = rng.normal(0, 0.07, 3), rng.normal(0, 0.07, 3)
    pivot, width = rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.5)
    def grade(x):
        t = _smoothstep((_luma(x) - pivot + width) / (2 * width))
        return x + (1 - t) * torch.as_tensor(shadow).to(x) + t * torch.as_tensor(highlight).to(x)
    return grade


def fade(rng: np.random.Generator) -> Callable:
    lift, lower = rng.uniform(0, 0.22), rng.uniform(0, 0.15)
    tint = rng.normal(0, 0.03, 3)
    keep = rng.uniform(0.5, 1.0)
    def grade(x):
        y = _luma(x) + keep * (x - _luma(x))
        return lift + torch.as_tensor(tint).to(x) * (1 - y) + (1 - lift - lower) * y
    return grade


def crush(rng: np.random.Generator) -> Callable:
    black, white = rng.uniform(0, 0.15), rng.uniform(0.8, 1.0)
    def grade(x):
        return (x - black) / (white - black)
    return grade


def monochrome(rng: np.random.Generator) -> Callable:
    tint = 1 + rng.normal(0, 0.12, 3)
    tint /= tint @ np.array(REC709_LUMA)
    amount = rng.uniform(0.5, 1.0)
    def grade(x):
        y = _luma(x) * torch.as_tensor(tint).to(x)
        return x + amount * (y - x)
    return grade


def hue_rotation(rng: np.random.Generator) -> Callable:
    angle = rng.normal(0, 0.35)
    axis = np.ones(3) / math.sqrt(3)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross  # Rodrigues
    def grade(x):
        return x @ torch.as_tensor(rotation).to(x).T
    return grade


def film(rng: np.random.Generator) -> Callable:
    contrast = rng.uniform(2, 7)
    mid = rng.uniform(0.35, 0.6)
    shift = rng.normal(0, 0.05, 3)
    saturation = rng.uniform(0.6, 1.3)
    def grade(x):
        y = _luma(x)
        s = torch.sigmoid(contrast * (y - mid))
        lo, hi = torch.sigmoid(torch.tensor(-contrast * mid)), torch.sigmoid(torch.tensor(contrast * (1 - mid)))
        curved = (s - lo.to(x)) / (hi - lo).to(x)
        chroma = saturation * (x - y)
        return curved + chroma + torch.as_tensor(shift).to(x) * (1 - curved) * curved * 4
    return grade


def smooth_lut(rng: np.random.Generator) -> Callable:
    nodes = int(rng.integers(2, 5))
    displacement = torch.as_tensor(rng.normal(0, 0.07, (1, 3, nodes, nodes, nodes)))
    def grade(x):
        grid = (x.clamp(0, 1) * 2 - 1).reshape(1, -1, 1, 1, 3)
        moved = torch.nn.functional.grid_sample(displacement.to(x), grid, mode="bilinear", align_corners=True)
        return x + moved.reshape(3, -1).T
    return grade


GRADE_FAMILIES = [tone_curves, channel_mix, white_balance, split_toning, fade, crush, monochrome, hue_rotation,
                  film, smooth_lut]


def random_grade(rng: np.random.Generator, p_identity: float = 0.125) -> Callable:
    """A random grade: one to three families composed, blended with the identity at a random strength (one in
    eight is the identity). A function of ``(n, 3)`` sRGB colors in ``[0, 1]``, clipped."""
    if rng.random() < p_identity:
        return lambda x: x
    count = rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2])
    parts = [GRADE_FAMILIES[i](rng) for i in rng.choice(len(GRADE_FAMILIES), count, replace=False)]
    strength = rng.uniform(0.25, 1.0) if rng.random() < 0.5 else 1.0
    def grade(x):
        y = x
        for part in parts:
            y = part(y).clamp(0, 1)
        return (x + strength * (y - x)).clamp(0, 1)
    return grade


# -- pairs ------------------------------------------------------------------------------------------------------


class PairSampler:
    """Random training pairs from a list of photos (``(H, W, 3)`` uint8 arrays).

    Each pair: a reference crop and a target crop (another photo, or with probability ``p_same`` another crop of
    the same photo), each mixed with probability ``p_mix`` with crops of other photos, ``n_colors`` colors drawn, both jittered (exposure, white balance) and put under
    one random grade. Deterministic given ``seed``.
    """

    def __init__(self, photos: Sequence[np.ndarray], n_colors: int = 2048, p_same: float = 0.25, seed: int = 0,
                 n_target: int | None = None, p_mix: float = 0.5):
        self.photos = [torch.from_numpy(np.array(p[..., :3])).float() / 255 for p in photos]
        self.n_colors, self.p_same, self.p_mix = n_colors, p_same, p_mix
        self.n_target = n_colors if n_target is None else n_target
        self.rng = np.random.default_rng(seed)

    def _window(self, photo: torch.Tensor, min_area: float) -> tuple[int, int, int, int]:
        """``(top, left, h, w)`` of a random window: ``min_area`` to all of the photo, aspect ratio within 2x."""
        rng = self.rng
        height, width = photo.shape[:2]
        area = rng.uniform(min_area, 1.0)
        aspect = math.exp(rng.uniform(-0.7, 0.7))
        h = min(height, max(8, round(height * math.sqrt(area * aspect))))
        w = min(width, max(8, round(width * math.sqrt(area / aspect))))
        return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w

    def _crop_colors(self, photo: torch.Tensor, count: int, min_area: float = 0.12) -> torch.Tensor:
        rng = self.rng
        top, left, h, w = self._window(photo, min_area)
        rows = torch.from_numpy(rng.integers(top, top + h, count))
        cols = torch.from_numpy(rng.integers(left, left + w, count))
        colors = photo[rows, cols]
        exposure = math.exp(rng.normal(0, 0.15))
        balance = torch.from_numpy(np.exp(rng.normal(0, 0.03, 3))).float()
        return linear_to_srgb((srgb_to_linear(colors) * exposure * balance).clamp(0, 1))

    def shifted_views(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Two overlapping views ``(H, w, 3)`` of photo ``index``, as two frames of one scene are: windows of 50-90%
        of its width (full height), shifted so that they share 20-80% of their width, in random order. Not
        jittered."""
        photo = self.photos[index]
        width = photo.shape[1]
        span = self.rng.uniform(0.5, 0.9)
        shift = span * (1 - self.rng.uniform(0.2, 0.8))
        start = self.rng.uniform(0, max(1 - span - shift, 0))
        views = [photo[:, int(left * width):max(int((left + span) * width), int(left * width) + 8)]
                 for left in (start, min(start + shift, 1 - span))]
        order = self.rng.permutation(2)
        return views[order[0]], views[order[1]]

    def crop(self, index: int, min_area: float = 0.25) -> torch.Tensor:
        """A random crop ``(h, w, 3)`` of photo ``index``: ``min_area`` to all of its area, aspect ratio within 2x."""
        top, left, h, w = self._window(self.photos[index], min_area)
        return self.photos[index][top:top + h, left:left + w]

    def _mixture(self, index: int, count: int) -> torch.Tensor:
        """Colors of a crop of photo ``index``, and with probability ``p_mix`` of crops of one or two other photos
        in random proportions: a new scene's color distribution, so that a few dozen photos teach many."""
        parts = [index]
        if len(self.photos) > 2 and self.rng.random() < self.p_mix:
            others = [i for i in range(len(self.photos)) if i != index]
            parts += list(self.rng.choice(others, int(self.rng.integers(1, 3)), replace=False))
        shares = self.rng.dirichlet(np.ones(len(parts)) * 2.0)
        shares[0] = max(shares[0], 0.5)  # the named photo keeps at least half: same-scene pairs stay shared
        counts = np.floor(shares / shares.sum() * count).astype(int)
        counts[0] += count - counts.sum()
        return torch.cat([self._crop_colors(self.photos[i], int(n)) for i, n in zip(parts, counts) if n > 0])

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(reference G(Q), target P, truth G(P))``: ``(batch, n_colors, 3)``, then twice ``(batch, n_target, 3)``."""
        references, targets, truths = [], [], []
        for _ in range(batch):
            first = int(self.rng.integers(len(self.photos)))
            if self.rng.random() < self.p_same or len(self.photos) == 1:
                second = first
            else:
                second = int(self.rng.integers(len(self.photos) - 1))
                second += second >= first
            q = self._mixture(first, self.n_colors)
            p = self._mixture(second, self.n_target)
            grade = random_grade(self.rng)
            references.append(grade(q))
            targets.append(p)
            truths.append(grade(p))
        return torch.stack(references), torch.stack(targets), torch.stack(truths)


# -- loss and training ------------------------------------------------------------------------------------------


def look_loss(graded: torch.Tensor, truth: torch.Tensor, sliced_weight: float = 0.1, n_directions: int = 8,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean CIELAB distance (Charbonnier, in L*a*b* units) between ``graded`` and ``truth`` ``(B, n, 3)`` (sRGB),
    plus ``sliced_weight`` times their sliced W2 in Lab (random directions)."""
    lab, lab_truth = rgb_to_lab(graded), rgb_to_lab(truth)
    per_pixel = (((lab - lab_truth) ** 2).sum(dim=-1) + 0.25).sqrt().mean()
    if sliced_weight == 0:
        return per_pixel
    directions = torch.randn(3, n_directions, generator=generator, dtype=lab.dtype)
    directions = directions / directions.norm(dim=0, keepdim=True)
    projected = (lab @ directions).transpose(1, 2).contiguous().sort(dim=-1).values
    projected_truth = (lab_truth @ directions).transpose(1, 2).contiguous().sort(dim=-1).values
    sliced = ((projected - projected_truth) ** 2).mean(dim=-1).mean().clamp_min(1e-8).sqrt()
    return per_pixel + sliced_weight * sliced


@torch.no_grad()
def evaluate_look(model: LookModel, pairs: tuple) -> dict:
    """Mean CIELAB distance to the truth of ``model``'s grade and of doing nothing, on fixed ``pairs``."""
    reference, target, truth = pairs
    graded = model.grade(target, model(reference, target))
    distance = lambda a: float((rgb_to_lab(a) - rgb_to_lab(truth)).norm(dim=-1).mean())  # noqa: E731
    model_error, identity_error = distance(graded), distance(target)
    return {"model": model_error, "identity": identity_error, "recovered": 1 - model_error / identity_error}


def train_look(photos: Sequence[np.ndarray], *, steps: int = 6000, batch: int = 48, n_colors: int = 2048,
               lr: float = 2e-3, hidden: int = 128, reads_photo: bool = True, seed: int = 0, validation: Sequence[np.ndarray] = (),
               report_every: int = 500, time_limit: float | None = None, feature_noise: float = 0.0,
               p_mix: float = 0.5, log: Callable = print) -> LookModel:
    """Train a :class:`LookModel` from scratch on ``photos``; deterministic given ``seed`` (single-threaded
    order of operations aside). ``validation`` photos, never trained on, are scored every ``report_every`` steps.
    ``time_limit`` (seconds) ends training early, at the learning-rate schedule's end. ``feature_noise`` adds
    Gaussian noise of that standard deviation to the normalized features (a regularizer against memorizing the
    few photos), ``p_mix`` is the share of references and targets mixed from several photos."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = LookModel(hidden=hidden, reads_photo=reads_photo)
    sampler = PairSampler(photos, n_colors=n_colors, n_target=n_colors // 2, seed=seed, p_mix=p_mix)
    with torch.no_grad():  # normalize the features by their spread over graded references
        reference, target, _ = sampler.sample(512)
        features = model.features(reference, target)
        model.feature_mean.copy_(features.mean(dim=0))
        model.feature_scale.copy_(features.std(dim=0).clamp_min(1e-3))
    held = PairSampler(validation, n_colors=n_colors, p_same=0.0, p_mix=0.0, seed=seed + 1).sample(512) \
        if len(validation) > 1 else None
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    start = time.perf_counter()
    batches = _prefetched(sampler, batch, steps)
    for step in range(steps):
        progress = step / steps
        if time_limit is not None:
            progress = max(progress, (time.perf_counter() - start) / time_limit)
            if progress >= 1:
                break
        for group in optimizer.param_groups:  # warm-up, then cosine decay to 2% of lr
            group["lr"] = lr * min(1.0, (step + 1) / 200) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
        reference, target, truth = next(batches)
        parameters = model(reference, target, noise=feature_noise, generator=generator)
        loss = look_loss(model.grade(target, parameters), truth, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if report_every and (step % report_every == 0 or step == steps - 1):
            line = f"step {step:6d}  {time.perf_counter() - start:7.0f} s  loss {loss.item():.3f}"
            if held is not None:
                model.eval()
                scores = evaluate_look(model, held)
                model.train()
                line += (f"  held-out: dE {scores['model']:.2f} vs identity {scores['identity']:.2f}"
                         f" (recovered {scores['recovered']:.1%})")
            log(line)
    return model.eval()


def _prefetched(sampler: PairSampler, batch: int, count: int, depth: int = 4):
    """``count`` batches of ``sampler``, drawn in order by a background thread while the model trains."""
    import queue
    import threading

    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        for _ in range(count):
            if stop.is_set():
                return
            ready.put(sampler.sample(batch))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        for _ in range(count):
            yield ready.get()
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(0.05)
