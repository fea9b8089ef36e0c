from hypothesis import settings

# One profile for every kata test: no deadline (torch's first call is slow),
# derandomized so a learner, an instructor and CI see the same examples.
settings.register_profile("katas", deadline=None, derandomize=True, max_examples=40, print_blob=True)
settings.load_profile("katas")
