"""``katas plot xor``: train the learner's network with their own ``train`` and draw it.

Left: the loss curve of the learner's ``train`` beside the oracle trainer's
(torch's own BCELoss and SGD from the same initial weights). Right: the
decision boundary ``net(x) >= 0.5`` over the unit square with the four XOR
points. matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backprop_katas.kit import oracles as O
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import ProbeTimeout, error_from_exception, time_limit
from backprop_katas.lang import ENGLISH, fonts, say

FIGSIZE = (10.0, 4.5)  # inches
DPI = 100  # → a 1000 × 450 pixel PNG
SEED = 70  # the chapter's torch.manual_seed(70)


class PlotError(Exception):
    """The learner's code is not ready or failed; the message is for the learner."""


@dataclass
class PlotResult:
    path: Path
    notes: list[str] = field(default_factory=list)
    departure: Departure | None = None  # where the learner's loss left the oracle's, if it did
    texts: list[str] = field(default_factory=list)  # the titles and notes drawn on the figure
    loss_ylim: tuple[float, float] = (0.0, 0.0)  # the loss panel's y range, as drawn


@dataclass(frozen=True)
class Departure:
    """The first logged step where the learner's loss is not the oracle's within k06's float32 tolerance."""

    step: int
    yours: float
    oracle: float


def departure(
    history: list[tuple[int, float]], oracle_history: list[tuple[int, float]], tol: O.Tol = O.TRAJECTORY32
) -> Departure | None:
    """Where ``history`` leaves ``oracle_history`` (k06 judges train with the same tolerance), else None.

    A step logged by one and not the other is a departure at that step (its missing loss is NaN)."""
    yours, oracle = dict(history), dict(oracle_history)
    for step in sorted(set(yours) | set(oracle)):
        mine, theirs = yours.get(step, float("nan")), oracle.get(step, float("nan"))
        if not abs(mine - theirs) <= tol.atol + tol.rtol * abs(theirs):  # NaN: a departure too
            return Departure(step, mine, theirs)
    return None


def loss_range(oracle_losses: list[float]) -> tuple[float, float]:
    """The loss panel's log-scale y range: the oracle's range with a margin of 3× on each side, so
    that a learner's curve running off to 1e-34 (or to inf) cannot squash the oracle's; the part
    of it outside the range is cut, and the departure note says where it left."""
    positive = [v for v in oracle_losses if v > 0 and np.isfinite(v)] or [1.0]
    return min(positive) / 3, max(positive) * 3


def find_font(families: tuple[str, ...]) -> str | None:
    """The first of ``families`` matplotlib can draw with. matplotlib's font list is a cache made
    when it first ran: a font installed since (``apt-get install fonts-noto-cjk``) is not in it, so
    the system's font files it does not know yet are added (``fontManager.addfont``) before giving up."""
    from matplotlib import font_manager

    manager = font_manager.fontManager

    def known() -> str | None:
        names = {f.name for f in manager.ttflist}
        return next((n for n in families if n in names), None)

    found = known()
    if found is not None or not families:
        return found
    seen = {f.fname for f in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in seen:
            try:
                manager.addfont(path)
            except Exception:  # a font file matplotlib cannot read: passed over, as its cache does
                continue
    return known()


def _network(target: Target) -> tuple[Any, str]:
    """The learner's k02 Network built as the chapter does (a first one discarded), else the oracle's."""
    import torch

    try:
        network_class = target.module("k02_parameters").Network
        torch.manual_seed(SEED)
        network_class(2, 2, 1)
        net = network_class(2, 2, 1)
        names = [n for n, _ in net.named_parameters()]
        if sorted(names) == sorted(O.PARAM_NAMES):
            return net, say("cli_plot_own_network", seed=SEED)
    except Exception:  # an unfinished k02 is expected here: fall back to the oracle's network
        pass
    torch.manual_seed(SEED)
    O.oracle_network(2, 2, 1)
    return O.oracle_network(2, 2, 1), say("cli_plot_oracle_network", seed=SEED)


def _history(raw: Any) -> list[tuple[int, float]]:
    pairs = [(int(step), float(loss)) for step, loss in raw]
    if not pairs:
        raise ValueError("train() returned an empty history")
    return pairs


def plot_xor(
    target: Target, out: Path, lang: str, steps: int = 10001, log_every: int = 100, seconds: float = 300.0
) -> PlotResult:
    """Train with the learner's k06 ``train`` and write the PNG; PlotError if their code is not ready."""
    import torch

    notes: list[str] = []
    try:
        with time_limit(seconds):
            kata = target.module("k06_xor_training")
            net, which = _network(target)
            notes.append(which)
            start = O.params_of(net)
            x = torch.tensor(O.XOR_X, dtype=torch.float32)
            t = torch.tensor(O.XOR_T, dtype=torch.float32)
            raw = kata.train(net, x, t, steps=steps, lr=0.5, log_every=log_every)
            history = _history(raw)
            with torch.no_grad():
                grid_x, grid_y = np.meshgrid(np.linspace(-0.1, 1.1, 121), np.linspace(-0.1, 1.1, 121))
                points = torch.tensor(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), dtype=torch.float32)
                surface = net(points).reshape(grid_x.shape).numpy()
    except NotImplementedError:
        raise PlotError(say("cli_plot_not_ready", lang=lang, function="train()")) from None
    except (Exception, ProbeTimeout) as exc:  # learner code may raise anything
        error = error_from_exception(exc, target)
        if isinstance(exc, (TypeError, ValueError)) and not error.where:
            raise PlotError(say("cli_plot_failed", lang=lang) + f"\n    {type(exc).__name__}: {exc}") from None
        raise PlotError(say("cli_plot_failed", lang=lang) + "\n" + error.render()) from None
    oracle_history, _ = O.oracle_train(start, O.XOR_X, O.XOR_T, steps, 0.5, log_every)

    label_lang = lang
    font = find_font(fonts(lang))  # None for a language any font can show, or when none is found
    if fonts(lang) and font is None:
        label_lang = ENGLISH
        notes.append(say("cli_plot_no_font", lang=lang))
    left = departure(history, oracle_history)
    departs = [say("cli_plot_departs", lang=lang, **_departure_fields(left))] if left is not None else []
    texts, ylim = _draw(out, label_lang, font, history, oracle_history, grid_x, grid_y, surface, left)
    return PlotResult(out, notes + departs, left, texts, ylim)


def _departure_fields(left: Departure) -> dict[str, object]:
    tol = O.TRAJECTORY32
    return {"step": left.step, "yours": f"{left.yours:.4g}", "oracle": f"{left.oracle:.4g}", "rtol": f"{tol.rtol:g}"}


def _draw(
    out: Path,
    lang: str,
    font: str | None,
    history: list[tuple[int, float]],
    oracle_history: list[tuple[int, float]],
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    surface: np.ndarray,
    left_at: Departure | None = None,
) -> tuple[list[str], tuple[float, float]]:
    """Draw and save the figure; return the texts drawn on it and the loss panel's y range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def text(key: str, **fields: object) -> str:
        return say(key, lang=lang, **fields)

    rc: dict[str, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):  # type: ignore[arg-type]
        fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI)
        steps, losses = zip(*oracle_history)
        left.plot(steps, losses, color="0.6", linewidth=3, label=text("plot_oracle"))
        steps, losses = zip(*history)
        left.plot(steps, losses, color="tab:blue", linewidth=1.5, label=text("plot_yours"))
        left.set_yscale("log")
        left.set_ylim(*loss_range([loss for _, loss in oracle_history]))
        if left_at is not None:  # say it on the figure: a curve below the oracle's is not a better one
            left.axvline(left_at.step, color="tab:red", linestyle="--", linewidth=1)
            note = textwrap.fill(text("plot_departs", step=left_at.step), 34 if lang == "en" else 20)
            left.text(
                0.97,
                0.97,
                note,
                transform=left.transAxes,
                color="tab:red",
                fontsize="small",
                ha="right",
                va="top",
                bbox={"facecolor": "white", "edgecolor": "tab:red", "alpha": 0.9},
            )
        left.set_xlabel(text("plot_step"))
        left.set_ylabel(text("plot_loss"))
        left.set_title(text("plot_loss_title"))
        left.legend(loc="lower left")
        left.grid(True, alpha=0.3)

        right.contourf(grid_x, grid_y, surface, levels=[0.0, 0.5, 1.0], colors=["#f4c7c3", "#c6e2c3"], alpha=0.8)
        right.contour(grid_x, grid_y, surface, levels=[0.5], colors="k", linewidths=1.5)
        for target_value, marker, colour in ((0, "o", "tab:red"), (1, "s", "tab:green")):
            chosen = O.XOR_T == target_value
            right.scatter(
                O.XOR_X[chosen, 0],
                O.XOR_X[chosen, 1],
                s=90,
                marker=marker,
                c=colour,
                edgecolors="k",
                label=text("plot_target", t=target_value),
                zorder=3,
            )
        right.set_xlim(-0.1, 1.1)
        right.set_ylim(-0.1, 1.1)
        right.set_aspect("equal")
        right.set_xlabel("x₁")
        right.set_ylabel("x₂")
        right.set_title(text("plot_boundary_title"))
        right.legend(loc="center", fontsize="small")
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=DPI)  # no bbox_inches="tight": the size stays FIGSIZE × DPI
        texts = [ax.get_title() for ax in (left, right)] + [t.get_text() for ax in (left, right) for t in ax.texts]
        ylim = left.get_ylim()
        plt.close(fig)
    return texts, (float(ylim[0]), float(ylim[1]))
