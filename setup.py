"""Package discovery that pyproject.toml alone cannot express.

One distribution ships three kinds of packages:

* ``edgeq`` and its subpackages (the core);
* every target plugin under ``plugins/`` (``edgeq_tflite``, ...), each a top-level
  package registered through the ``edgeq`` entry-point group like a third-party plugin;
* ``edgeq._targets``: the built-in target profiles (``targets/*.yaml``) as package data,
  so an installed edgeq resolves ``--target NAME`` without a checkout.

Everything else (metadata, dependencies, entry points, package data) is in pyproject.toml.
"""

from setuptools import find_packages, setup

PLUGINS = find_packages("plugins", include=["edgeq_*"], exclude=["*.tests", "*.tests.*"])

setup(
    packages=find_packages(include=["edgeq", "edgeq.*"]) + PLUGINS + ["edgeq._targets"],
    package_dir={"edgeq._targets": "targets",
                 **{p: "plugins/" + p.replace(".", "/") for p in PLUGINS}},
)
