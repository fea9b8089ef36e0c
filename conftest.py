# backprop-katas' own plugins (--target, the report header, the `run` fixture;
# grading mode) are pytest11 entry points of the installed package, so that
# pytest knows --target before it reads the command line. Here: pytester, for
# the tool's own tests in tests/suite.
pytest_plugins = ["pytester"]
