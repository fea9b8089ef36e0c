# The kata tests' plugin: --target, the report header, the `run` fixture.
pytest_plugins = ["backprop_katas.pytest_plugin"]
