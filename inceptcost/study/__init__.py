"""`inceptcost study PLAN.yaml`: train every (spec, seed) of a plan, resumably, and tabulate cost against accuracy;
finished runs are read by results.py, the accuracy-against-cost table and plot are tradeoff.py and tradeoff_plot.py."""
