# The kata tests' plugin: --target, the report header, the `run` fixture;
# grading mode (--grade) for instructors.
pytest_plugins = ["backprop_katas.pytest_plugin", "backprop_katas.grading.plugin", "pytester"]
