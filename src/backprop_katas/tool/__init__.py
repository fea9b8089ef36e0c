"""The learner's tool: the ``katas`` command, its checks and cache, progress, hints, watch, plots and notebooks.

It runs the kit's kata tests in child processes and renders their outcomes;
it imports the kit, never grading's internals beyond the commands it exposes.
"""
