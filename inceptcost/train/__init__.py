"""Training of compiled specs: `train(TrainConfig(...))`, the library side of `inceptcost train`.

Importing this package imports torch; the static analysis path never does.
"""

from inceptcost.train.config import TrainConfig
from inceptcost.train.errors import CheckpointError, DivergedError, TrainError
from inceptcost.train.launch import train
from inceptcost.train.recipe import Recipe, load_recipe

__all__ = ["CheckpointError", "DivergedError", "Recipe", "TrainConfig", "TrainError", "load_recipe", "train"]
