"""The kit: what kata tests and instructors' hidden tests import.

Probes that run learner code (``probes``), the judges that compare what came
back with an oracle (``judge``, ``oracles``), the plain data that travels
between them (``plain``, ``state``), the learner-module loader and runner, the
grader's source check (``shortcuts``) and the pytest plugin that gives kata
tests their ``target``. Nothing here imports the learner's tool
(:mod:`backprop_katas.tool`) or grading (:mod:`backprop_katas.grading`).
"""
