"""The time model: bytes moved per layer (traffic.py), a device profile (profile.py: profiles/*.yaml), the
roofline prediction (predict.py, predict_view.py) and the time budget (time_budget.py). Nothing here runs torch:
the microbenchmarks that fit a profile are in train/bench/."""
