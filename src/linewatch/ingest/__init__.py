"""Ingest adapters (the edge before the pipeline): native HTTP lives in api/, the listeners here.

Each adapter decodes its protocol with pure functions (fuzzable), then hands normalised
:class:`~linewatch.alarms.normalise.AlarmEvent` objects to a :class:`Sink`; anything it cannot
use goes to the sink's dead-letter list with a reason. See docs/adding-a-source.md.
"""
