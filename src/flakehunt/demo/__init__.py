"""The bundled story: a linker racing the next build step, and the three variants.

``flakehunt.demo.link`` and ``flakehunt.demo.runstep`` are runnable modules
(``python -m ...``); ``flakehunt.demo.variants.demo_variants`` gives the
command lines of ``normal``, ``sleep`` and ``flush``. See docs/demo-toolchain.md.
Nothing heavy is imported here: the run step's start-up time is part of the race.
"""
