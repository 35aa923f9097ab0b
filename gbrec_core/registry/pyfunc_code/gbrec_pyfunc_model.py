"""MLflow "models from code" entry of gbrec's pyfunc model (no pickle is stored).

MLflow copies this file into the logged model and runs it on
``mlflow.pyfunc.load_model``; it names the model through ``set_model``. The class and
its logic live in :mod:`gbrec_core.registry.pyfunc`, so the installed gbrec decides
what a stored model does, not a serialized object. This folder is no package: gbrec
never imports this file (it imports mlflow, which the core must not at module load).
"""

import mlflow.models

from gbrec_core.registry.pyfunc import python_model

mlflow.models.set_model(python_model())
