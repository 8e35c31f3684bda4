"""Use cases: each takes its collaborators as arguments and owns one transaction."""
