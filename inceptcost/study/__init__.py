"""`inceptcost study PLAN.yaml`: train every (spec, seed) of a plan, resumably, and tabulate cost against accuracy."""
