"""Evidence kept when a run fails: artifacts, core dumps, telemetry, tracers.

The hunt loop talks to ``flakehunt.evidence.session.EvidenceSession``; the
modules below it are pure or take their side effects as injected objects.
"""
