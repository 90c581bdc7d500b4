"""Graph rewrites of the quantizer: :mod:`.prepare` lowers the canonical float graph to
the ops integer kernels run (``lower``; ``executable`` for the float interpreter), and
the expansions of ops a target's spec asks for (:mod:`.hardswish` as MUL/ADD/MUL,
:mod:`.gelu16` and :mod:`.sqrt16` as int16-capable ops)."""
