from hypothesis import Phase, settings

# One profile for every kata test: no deadline (torch's first call is slow),
# derandomized so a learner, an instructor and CI see the same examples, and
# no "explain" phase: a failing kata reports its first counterexample quickly.
settings.register_profile(
    "katas",
    deadline=None,
    derandomize=True,
    max_examples=40,
    print_blob=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
settings.load_profile("katas")
