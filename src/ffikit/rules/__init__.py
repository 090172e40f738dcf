"""What each C type accepts and returns at the boundary, described once, backend-free.

``kinds`` answers value facts (integer ranges, buffer item kinds),
``params`` classifies every declared parameter into a :class:`~ffikit.rules.params.ParamRule`
(the DESIGN table as data), ``sizes`` holds the size relations of a function
and the check over them, ``formats`` matches variadic arguments to a literal
``printf``/``scanf`` format, and ``messages`` words every refusal.  A backend
reads these; it decides nothing on its own.
"""
