"""k02 · Counting parameters: the chapter's Network and its 9 parameters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn as nn

from backprop_katas.kit import call as C
from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import (
    as_sent,
    expect_close,
    expect_equal,
    expect_number,
    expect_plain,
    expect_untouched,
    fail,
)
from backprop_katas.kit.probes import k02_parameters as P
from backprop_katas.kit.state import global_state
from backprop_katas.lang import msg

KATA = "k02_parameters"

# The contract of every public function: what the tests below hold it to.
CONTRACTS = {
    "Network": {
        "inputs": "Network(input_size, hidden_size, output_size), any sizes ≥ 1; forward: x of shape (N, input_size), "
        "N ≥ 1, float32 (or float64 after net.double())",
        "values": "any finite x",
        "returns": "an nn.Module with children linear_ih, linear_ho, activation_layer in that order; "
        "forward: σ(linear_ho(σ(linear_ih(x)))), shape (N, output_size), x's dtype",
        "aliasing": "forward leaves x unchanged (value and version counter)",
        "side effects": "__init__ draws exactly the random numbers of nn.Linear(I, H) then nn.Linear(H, O) "
        "(the random state after it is the oracle's); forward changes no global state",
        "forbidden": "torch.manual_seed inside (the caller seeds)",
    },
    "count_parameters": {
        "inputs": "any nn.Module: tied weights, frozen layers, layers without bias or of zero width, buffers "
        "(BatchNorm); other kinds than nn.Linear (convolutions, an embedding tied to a decoder, an LSTM, a "
        "parameter of the module itself, one layer used twice, no parameters at all)",
        "values": "modules of 0 to a few thousand parameters",
        "returns": "a plain Python int: the number of parameter elements, a shared tensor counted once, "
        "buffers not counted (not a tensor, not numpy.int64, not bool)",
        "aliasing": "the module unchanged: values, version counters, requires_grad flags, .grad fields",
        "side effects": "none",
        "state": "counted afresh: a second call after the module grew or froze a weight sees it",
        "forbidden": "nothing",
    },
    "count_trainable_parameters": {
        "inputs": "as count_parameters",
        "values": "as count_parameters",
        "returns": "a plain Python int: the elements with requires_grad=True",
        "aliasing": "as count_parameters: the flags are read, never set",
        "side effects": "none",
        "state": "counted afresh: a second call after the module grew or froze a weight sees it",
        "forbidden": "nothing",
    },
    "mlp_parameter_count": {
        "inputs": "layer_sizes: a list or a tuple of ints ≥ 1, of length ≥ 1",
        "values": "sizes 1 to 50, 1 to 6 layers; one size (no layer) gives 0",
        "returns": "a plain Python int, by arithmetic: Σ (n_in · n_out + n_out)",
        "aliasing": "layer_sizes unchanged",
        "side effects": "none",
        "forbidden": "nothing (no answer fixed for the chapter's [2, 2, 1])",
    },
}
MODULE = "torch.nn.modules.module.Module"  # Network must be an nn.Module: its class hierarchy holds this
CHAPTER_CHILDREN = [["linear_ih", "Linear"], ["linear_ho", "Linear"], ["activation_layer", "Sigmoid"]]


# --- the judge's own counts -----------------------------------------------------------------


def expected_counts(spec):
    """(all, trainable) element counts, by arithmetic on the spec; a tied tensor counts once."""
    tied_away = {b for _, b in spec["ties"]}
    total = trainable = 0
    for index, (n_in, n_out, bias) in enumerate(zip(spec["sizes"], spec["sizes"][1:], spec["bias"])):
        source = next((a for a, b in spec["ties"] if b == index), index)
        counts = ([] if index in tied_away else [(n_in * n_out, source)]) + ([(n_out, index)] if bias else [])
        for n, owner in counts:
            total += n
            # a tied weight is trainable when its owner's layer is not frozen
            trainable += 0 if owner in spec["frozen"] else n
    return total, trainable


def random_spec(rng):
    """A stack of 1 to 4 layers of widths 1 to 7, bias and frozen flags drawn, and a tie between two
    layers of the same shape when there are some."""
    depth = int(rng.integers(1, 5))
    sizes = [int(n) for n in rng.integers(1, 8, depth + 1)]
    bias = [bool(b) for b in rng.integers(0, 2, depth)]
    frozen = sorted(int(i) for i in np.flatnonzero(rng.integers(0, 2, depth)))
    same_shape = [
        [a, b]
        for a in range(depth)
        for b in range(a + 1, depth)
        if (sizes[a], sizes[a + 1]) == (sizes[b], sizes[b + 1])
    ]
    ties = [same_shape[int(rng.integers(len(same_shape)))]] if same_shape and rng.integers(0, 2) else []
    return {"sizes": sizes, "bias": bias, "frozen": frozen, "ties": ties}


def linear_spec(sizes, bias=None, frozen=(), ties=()):
    return {
        "sizes": list(sizes),
        "bias": list(bias or [True] * (len(sizes) - 1)),
        "frozen": list(frozen),
        "ties": [list(t) for t in ties],
    }


# The cases counting is judged on: the edges the kata is about, written out, and a small seeded sample
# beside them (the same list for a learner's `katas`, `pytest` and grading: no example is drawn at run time).
SPECS = [
    pytest.param(linear_spec([2, 2, 1]), id="the-chapters-2-2-1"),
    pytest.param(linear_spec([5, 3]), id="one-layer"),
    pytest.param(linear_spec([5, 3], bias=[False]), id="one-layer-bias-off"),
    pytest.param(linear_spec([1, 1], bias=[False]), id="one-weight"),
    pytest.param(linear_spec([4, 6, 2], bias=[False, False]), id="bias-off-everywhere"),
    pytest.param(linear_spec([3, 0, 2]), id="zero-width-hidden-layer"),
    pytest.param(linear_spec([3, 0, 0, 2], frozen=[2]), id="two-zero-width-layers-last-frozen"),
    pytest.param(linear_spec([3, 3, 3, 3], bias=[True, False, True], ties=[[0, 2]]), id="tied"),
    pytest.param(linear_spec([4, 4, 4], frozen=[1], ties=[[0, 1]]), id="tied-borrower-frozen"),
    pytest.param(linear_spec([4, 4, 4], frozen=[0], ties=[[0, 1]]), id="tied-owner-frozen"),
    pytest.param(linear_spec([2, 5, 1], frozen=[0]), id="frozen-first-layer"),
    pytest.param(linear_spec([5, 7, 2], frozen=[0, 1]), id="all-frozen"),
    *(pytest.param(random_spec(np.random.default_rng(seed)), id=f"drawn-{seed}") for seed in range(6)),
]

# Other module kinds (the probe builds each from its name and sizes): (kind, sizes, frozen, (all, trainable)),
# each count by arithmetic on the layer shapes torch documents. A shared tensor counts once, buffers never.
KINDS = [
    ("conv2d", [3, 4, 3], False, (4 * 3 * 3 * 3 + 4,) * 2),
    ("conv1d-no-bias", [2, 5, 4], True, (5 * 2 * 4, 0)),
    ("embedding-tied-to-decoder", [10, 6, 0], False, (10 * 6 + 10,) * 2),
    ("embedding-tied-to-decoder", [10, 6, 0], True, (10 * 6 + 10, 10)),
    ("lstm", [3, 4, 0], False, (4 * 4 * 3 + 4 * 4 * 4 + 2 * 4 * 4,) * 2),
    ("own-parameter", [2, 3, 5], True, (5 + 2 * 3 + 3, 5)),
    ("one-layer-used-twice", [4, 0, 0], True, (4 * 4 + 4 + 2 * 4, 2 * 4)),
    ("no-parameters", [0, 0, 0], False, (0, 0)),
]


def describe_spec(spec):
    return msg(
        "arg_module_spec",
        name="module",
        sizes=spec["sizes"],
        bias=spec["bias"],
        frozen=spec["frozen"],
        ties=spec["ties"],
    )


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.part("Network")
@pytest.mark.parametrize("sizes", [(2, 2, 1), (3, 5, 1), (4, 1, 2)], ids=lambda s: "x".join(map(str, s)))
def test_network_has_the_chapters_layers_in_order(run, sizes):
    x = np.random.default_rng(10).normal(size=(5, sizes[0]))
    result = run(P.network, list(sizes), 0, x)
    call = f"{KATA}.Network{tuple(sizes)}"
    if MODULE not in result["kinds"]:
        fail(
            msg("called", call=call), msg("wrong_type", got=msg("kind_something_else"), expected=msg("expected_module"))
        )
    expect_equal(result["children"], CHAPTER_CHILDREN, call, "The submodules [name, type], in creation order")
    i, h, o = sizes
    shapes = {"linear_ih.weight": (h, i), "linear_ih.bias": (h,), "linear_ho.weight": (o, h), "linear_ho.bias": (o,)}
    got_shapes = {k: tuple(v.shape) for k, v in result["params"].items()}
    expect_equal(got_shapes, shapes, call, "The parameter shapes")


@pytest.mark.part("Network")
@pytest.mark.parametrize("seed", [0, 70, 1234])
@pytest.mark.parametrize("sizes", [(2, 2, 1), (3, 4, 1), (2, 6, 3)], ids=lambda s: "x".join(map(str, s)))
def test_network_forward_matches_the_formula_with_its_own_weights(run, sizes, seed):
    x = np.random.default_rng(seed).normal(size=(7, sizes[0]))
    result = run(P.network, list(sizes), seed, x)
    call = C.Call(f"{KATA}.Network{tuple(sizes)}(x)", msg("arg_shape", name="x", shape=(7, sizes[0])))
    if MODULE not in result["kinds"]:
        fail(
            msg("called", call=call), msg("wrong_type", got=msg("kind_something_else"), expected=msg("expected_module"))
        )
    params = {k: v.astype(np.float64) for k, v in result["params"].items()}
    if sorted(params) != sorted(O.PARAM_NAMES):
        expect_equal(sorted(params), sorted(O.PARAM_NAMES), call, "The parameter names")
    _, expected = O.xor_forward(params, x.astype(np.float32))
    expect_close(result["y"], expected, O.FLOAT32, call, "net(x)", dtype="float32")


@pytest.mark.part("Network")
@pytest.mark.parametrize("seed", [70, 3])
def test_network_starts_from_torchs_initial_weights_under_a_seed(run, seed):
    # Layers created in the chapter's order draw the same random numbers as the oracle's.
    result = run(P.network, [2, 2, 1], seed, np.zeros((1, 2)))
    torch.manual_seed(seed)
    oracle = O.params_of(O.oracle_network(2, 2, 1))
    call = f"torch.manual_seed({seed}); {KATA}.Network(2, 2, 1)"
    for name, value in oracle.items():
        if name not in result.get("params", {}):
            fail(
                msg("called", call=call),
                msg(
                    "not_equal",
                    what="The parameter names",
                    got=sorted(result.get("params", {})),
                    expected=sorted(oracle),
                ),
            )
        expect_close(result["params"][name], value, O.AUTOGRAD64, call, msg("what_initial", name=name))


@pytest.mark.part("count_parameters")
def test_chapter_network_has_9_parameters(run):
    got = run(P.count_network, [2, 2, 1])
    expect_equal(expect_number(got, "count_parameters"), 9.0, f"{KATA}.count_parameters(Network(2, 2, 1))", "The count")


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize(
    "fn_name",
    [pytest.param(n, marks=pytest.mark.part(n), id=n) for n in ("count_parameters", "count_trainable_parameters")],
)
def test_counts_every_element_once_and_only_the_trainable_ones(run, fn_name, spec):
    total, trainable = expected_counts(spec)
    call = C.Call(f"{KATA}.{fn_name}(module)", describe_spec(spec))
    expected = total if fn_name == "count_parameters" else trainable
    expect_equal(run(P.count, fn_name, spec), expected, call, "The count")


@pytest.mark.parametrize(
    ("kind", "sizes", "frozen", "expected"),
    KINDS,
    ids=[f"{k}-{'frozen' if f else 'trainable'}" for k, _, f, _ in KINDS],
)
@pytest.mark.parametrize(
    "fn_name",
    [pytest.param(n, marks=pytest.mark.part(n), id=n) for n in ("count_parameters", "count_trainable_parameters")],
)
def test_counts_modules_of_other_kinds(run, fn_name, kind, sizes, frozen, expected):
    call = C.Call(
        f"{KATA}.{fn_name}(module)", msg("arg_module_kind", name="module", kind=kind, sizes=sizes, frozen=frozen)
    )
    got = run(P.count_kind, fn_name, kind, sizes, frozen)
    expect_equal(got, expected[0] if fn_name == "count_parameters" else expected[1], call, "The count")


MLP_SIZES = [
    [1, 1],
    [2, 2, 1],
    [50, 1],
    [1, 50],
    [3, 7, 7, 7, 7, 2],
    [50] * 6,
    *([int(n) for n in np.random.default_rng(seed).integers(1, 51, 2 + seed % 5)] for seed in range(6)),
]


@pytest.mark.part("mlp_parameter_count")
@pytest.mark.parametrize("sizes", MLP_SIZES, ids=lambda s: "-".join(map(str, s)))
def test_mlp_parameter_count_matches_torch(run, sizes):
    # The oracle: build the layers with torch and count their elements.
    layers = [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
    expected = sum(p.numel() for layer in layers for p in layer.parameters())
    call = f"{KATA}.mlp_parameter_count({sizes})"
    expect_equal(run(P.mlp_count, sizes), expected, call, "The count", candidates=M.count_candidates(sizes))


@pytest.mark.part("mlp_parameter_count")
def test_mlp_parameter_count_gives_9_for_the_chapters_network(run):
    call = f"{KATA}.mlp_parameter_count([2, 2, 1])"
    expect_equal(run(P.mlp_count, [2, 2, 1]), 9, call, "The count", candidates=M.count_candidates([2, 2, 1]))


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"sizes": [3, 3, 3, 3], "bias": [True, False, True], "frozen": [], "ties": [[0, 2]]}, id="tied"),
        pytest.param(
            {"sizes": [4, 4, 4], "bias": [True, True], "frozen": [1], "ties": [[0, 1]]}, id="tied-frozen-bias"
        ),
        pytest.param({"sizes": [2, 5, 1], "bias": [True, True], "frozen": [0], "ties": []}, id="frozen-first-layer"),
    ],
)
@pytest.mark.part("tied_and_frozen")
def test_counts_of_tied_and_frozen_layers(run, spec):
    total, trainable = expected_counts(spec)
    for fn_name, expected in (("count_parameters", total), ("count_trainable_parameters", trainable)):
        call = C.Call(f"{KATA}.{fn_name}(module)", describe_spec(spec))
        expect_equal(run(P.count, fn_name, spec), expected, call, "The count")


# --- the edges of the contracts --------------------------------------------------------------

CONTRACT_SPECS = [
    pytest.param(
        {"sizes": [3, 3, 3, 3], "bias": [True, False, True], "frozen": [1], "ties": [[0, 2]]}, id="tied-frozen"
    ),
    pytest.param({"sizes": [1, 1], "bias": [False], "frozen": [], "ties": []}, id="one-weight"),
    pytest.param({"sizes": [5, 7, 2], "bias": [True, True], "frozen": [0, 1], "ties": []}, id="all-frozen"),
]


@pytest.mark.parametrize("batchnorm", [False, True], ids=["linear", "with-batchnorm"])
@pytest.mark.parametrize("spec", CONTRACT_SPECS)
@pytest.mark.parametrize(
    "fn_name",
    [pytest.param(n, marks=pytest.mark.part(n), id=n) for n in ("count_parameters", "count_trainable_parameters")],
)
def test_counts_are_plain_ints_skip_buffers_and_leave_the_module_alone(run, fn_name, spec, batchnorm):
    total, trainable = expected_counts(spec)
    extra = 2 * spec["sizes"][-1] if batchnorm else 0  # BatchNorm's weight and bias; its buffers do not count
    expected = (total if fn_name == "count_parameters" else trainable) + extra
    module = [describe_spec(spec), *([msg("arg_batchnorm")] if batchnorm else [])]
    call = C.Call(f"{KATA}.{fn_name}(module)", *module, msg("arg_grads_held"))
    out = run(P.count_contract, fn_name, spec, batchnorm)
    count = expect_plain(out["count"], "int", call, "The count")
    expect_equal(count, expected, call, "The count")
    expect_untouched(call, f"{KATA}.{fn_name}", {"module": out["before"]}, {"module": out["after"]}, out["globals"])


@pytest.mark.part("mlp_parameter_count")
@pytest.mark.parametrize("as_tuple", [False, True], ids=["list", "tuple"])
@pytest.mark.parametrize("sizes", [[7], [2, 2, 1], [1, 1], [4, 9, 9, 3, 1]], ids=lambda s: "-".join(map(str, s)))
def test_mlp_parameter_count_is_a_plain_int_for_lists_and_tuples(run, sizes, as_tuple):
    expected = sum(a * b + b for a, b in itertools.pairwise(sizes))
    call = f"{KATA}.mlp_parameter_count({tuple(sizes) if as_tuple else sizes})"
    out = run(P.mlp_count_contract, sizes, as_tuple)
    expect_equal(expect_plain(out["count"], "int", call, "The count"), expected, call, "The count")
    expect_equal(out["sizes_after"], sizes, call, "layer_sizes after the call")


@pytest.mark.part("Network")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("sizes", "batch"), [((2, 2, 1), 1), ((3, 4, 2), 1), ((2, 3, 1), 33)], ids=str)
def test_network_works_for_any_batch_in_both_dtypes_and_leaves_x_alone(run, sizes, batch, dtype):
    seed = 5
    x = np.random.default_rng(batch).normal(size=(batch, sizes[0])).astype(dtype)
    code = f"torch.manual_seed({seed}); net = {KATA}.Network{tuple(sizes)}" + (
        ".double()" if dtype == "float64" else ""
    )
    call = C.Call(code + "; net(x)", C.tensor("x", dtype, (batch, sizes[0])))
    out = run(P.network_contract, list(sizes), seed, x, dtype)
    torch.manual_seed(seed)
    O.oracle_network(*sizes)
    if out["rng_after_init"] != global_state()["rng"]:
        fail(
            msg("called", call=call),
            msg(
                "side_effect",
                function=f"{KATA}.Network",
                what=msg("state_rng"),
                before=msg("rng_after_linear_draws"),
                after=msg("rng_another"),
            ),
            msg("likely_cause", cause=msg("cause_rng_side_effect")),
        )
    params = {k: np.asarray(v, dtype=np.float64) for k, v in out["params"].items()}
    _, expected = O.xor_forward(params, x)
    expect_close(out["y"], expected, O.FLOAT32 if dtype == "float32" else O.AUTOGRAD64, call, "net(x)", dtype=dtype)
    expect_untouched(call, "net.forward", {"x": as_sent(x)}, {"x": out["x_after"]}, out["globals"])


@pytest.mark.parametrize(
    ("fn_name", "before", "after"),
    [
        pytest.param("count_parameters", 13, 21, marks=pytest.mark.part("count_parameters"), id="count_parameters"),
        pytest.param(
            "count_trainable_parameters",
            13,
            15,
            marks=pytest.mark.part("count_trainable_parameters"),
            id="count_trainable_parameters",
        ),
    ],
)
def test_a_count_sees_the_module_change_between_two_calls(run, fn_name, before, after):
    # Linear(2, 3), Linear(3, 1): 9 + 4 = 13; then Linear(1, 4) appended (+8) and the 6 first weights frozen.
    # An answer cached by the module's identity gives 13 again.
    out = run(P.count_after_a_change, fn_name)
    call = C.Call(
        f"{KATA}.{fn_name}(net); net.append(nn.Linear(1, 4)); net[0].weight.requires_grad_(False); "
        f"{KATA}.{fn_name}(net)"
    )
    expect_equal(expect_plain(out["first"], "int", call, "The count"), before, call, "The count")
    second = expect_plain(out["second"], "int", call, msg("what_of_second_call", name="The count"))
    expect_equal(second, after, call, msg("what_of_second_call", name="The count"))
