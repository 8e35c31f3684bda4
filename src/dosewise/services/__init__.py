"""Use cases, one module per resource: patients, plans, doses, symptoms, notes, medicines,
triage, missed_doses, reports, storage, auth, access, clinic; with audit and clock where several
need them, and inputs (the models the pages and the API share).

Each use case takes its collaborators (the engine, the clock's "now", the actor) as arguments
and owns one transaction. Rules live here or in the domain, never in an interface: the CLI,
the pages and the API parse, call one service and render.
"""
