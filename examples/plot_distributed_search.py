"""
Grid search on a Dask cluster
=============================

:class:`~sklearn.model_selection.GridSearchCV` hands its fits to joblib, and
joblib's ``"dask"`` backend sends them to the workers of a
`dask.distributed <https://distributed.dask.org>`_ cluster: nothing else changes
in the code. With the same ``random_state``, every candidate and fold scores as
with ``n_jobs=1`` in this process.

Here the cluster is a :class:`~distributed.LocalCluster` of one worker process,
listening on the loopback interface only; on several machines, connect the
:class:`~distributed.Client` to the cluster's scheduler instead (see the user
guide). Needs ``pip install "skcnn[distributed]"`` (on every worker too, with the
same versions). The network and the grid are tiny (one block of 4 filters, 2
epochs, 2 candidates x 2 folds) so that the example runs in seconds.
"""

# %%
# Data and search
# ---------------
# The log loss scores the folds: unlike a count of right answers, it shows any
# difference between two fits.
import joblib
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from skcnn import CNNBinaryClassifier
from skcnn.datasets import load_digits_pair

X, y = load_digits_pair(return_X_y=True)
cnn = CNNBinaryClassifier(
    filters=(4,),
    global_pooling=None,
    augment=None,
    learning_rate=0.01,
    learning_rate_schedule=None,
    epochs=2,
    metrics=(),
    random_state=0,
)
search = GridSearchCV(
    cnn, {"dropout": [0.0, 0.5]}, cv=2, scoring="neg_log_loss", refit=False
)

# %%
# A local cluster
# ---------------
# The worker process starts by importing this script, as Python's
# multiprocessing does on macOS and Windows (and Dask everywhere): the
# ``if __name__ == "__main__":`` guard keeps it from starting a cluster of its
# own. ``memory_limit=0`` keeps Dask from pausing or restarting a worker on a
# busy machine. ``scale(1)`` starts the worker in the background: it imports
# TensorFlow while this process runs the search itself.
if __name__ == "__main__":
    cluster = LocalCluster(
        n_workers=0,
        threads_per_worker=2,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        memory_limit=0,
    )
    cluster.scale(1)

# %%
# The same search, here and on the cluster
# ----------------------------------------
# First with ``n_jobs=1`` in this process, then, connected to the cluster by a
# :class:`~distributed.Client`, inside ``joblib.parallel_config(backend="dask")``,
# where the search's fits run on the cluster's workers. ``scatter`` sends the
# arrays to the workers once, not with every task.
if __name__ == "__main__":
    local = search.fit(X, y).cv_results_
    client = Client(cluster)  # waits for the worker
    print(f"workers: {list(client.scheduler_info()['workers'])}")
    with joblib.parallel_config(backend="dask", scatter=[X, y]):
        on_dask = search.fit(X, y).cv_results_

# %%
# Same scores
# -----------
# The log loss of each fold, in this process and on Dask. TensorFlow's
# float32 sums may differ in the last bits between processes: compare to a
# relative 1e-5.
if __name__ == "__main__":
    keys = ["split0_test_score", "split1_test_score"]
    local_losses = -np.array([local[k] for k in keys]).T  # candidates x folds
    dask_losses = -np.array([on_dask[k] for k in keys]).T
    for params, here, there in zip(
        local["params"], local_losses, dask_losses, strict=True
    ):
        print(
            f"{params}: log loss per fold here {here.round(5)}, Dask {there.round(5)}"
        )
    np.testing.assert_allclose(dask_losses, local_losses, rtol=1e-5)
    print("the same log losses on the cluster as in this process")

    figure, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    positions = np.arange(local_losses.size)
    ax.bar(positions - 0.2, local_losses.ravel(), width=0.4, label="n_jobs=1")
    ax.bar(positions + 0.2, dask_losses.ravel(), width=0.4, label="Dask cluster")
    labels = [
        f"dropout {p['dropout']}\nfold {k + 1}"
        for p in local["params"]
        for k in range(len(keys))
    ]
    ax.set_xticks(positions, labels, fontsize="small")
    ax.set_ylabel("log loss on the held-out fold")
    ax.legend(loc="lower right")
    plt.show()

# %%
# Close the cluster
# -----------------
# This stops the worker process and the scheduler.
if __name__ == "__main__":
    client.close()
    cluster.close()
