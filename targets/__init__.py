"""Built-in target profiles (``*.yaml``), installed as the package data ``edgeq._targets``.

See docs/plugins.md for the profile format; ``edgeq.targets`` reads them.
"""
