"""What a model file may make skcnn run: the types :func:`skcnn.load` trusts, and
the recognition of pickle files, which would run code when loaded.

The safety policy of skcnn's model files, kept apart from the format itself
(``_persist``) so that it can be read and reviewed on its own. A leaf: it
imports nothing else of skcnn.
"""

import bz2
import io
import lzma
import pickletools
import zlib

# skcnn's own types, trusted when loading: classes and functions of this package.
_OWN_TYPES = (
    "skcnn._classifier.CNNBinaryClassifier",
    "skcnn._image.ImageLoader",
    "skcnn._baseline.OneThreadLogisticRegression",
    "skcnn._baseline.flatten_images",
)
# scikit-learn's types that its compositions of a classifier (GridSearchCV,
# CalibratedClassifierCV, TunedThresholdClassifierCV, stacking and voting
# ensembles) put in a fitted model and that skops does not trust by default (it
# trusts the public estimators), by module. Each is listed for a reason:
# - classes, which skops rebuilds as ``cls.__new__`` plus their attributes (none
#   defines ``__new__``, nor ``__setstate__`` other than BaseEstimator's), whose
#   methods compute on arrays and call only the objects they hold, which are
#   checked in turn: splitters, scorers, calibrators, metadata-routing records;
#   and Bunch, a dict, which skops rebuilds as ``Bunch()`` and its items;
# - metric functions, which compute a number from labels and scores: those
#   behind the ``scoring`` names for classifiers, and ``fbeta_score``.
# Anything else, from scikit-learn or not, is refused unless the user trusts it.
_SKLEARN_TYPES = tuple(
    f"sklearn.{module}.{name}"
    for module, names in {
        "model_selection._split": "GroupKFold GroupShuffleSplit KFold "
        "LeaveOneGroupOut LeaveOneOut LeavePGroupsOut LeavePOut PredefinedSplit "
        "RepeatedKFold RepeatedStratifiedKFold ShuffleSplit StratifiedGroupKFold "
        "StratifiedKFold StratifiedShuffleSplit TimeSeriesSplit _CVIterableWrapper",
        "metrics._scorer": "_Scorer _CurveScorer _PassthroughScorer "
        "_MultimetricScorer negative_likelihood_ratio positive_likelihood_ratio",
        "calibration": "_CalibratedClassifier _SigmoidCalibration _TemperatureScaling",
        "utils._metadata_requests": "MetadataRequest MethodMetadataRequest",
        "utils._bunch": "Bunch",
        "metrics._classification": "accuracy_score balanced_accuracy_score "
        "brier_score_loss cohen_kappa_score d2_brier_score d2_log_loss_score "
        "f1_score fbeta_score jaccard_score log_loss matthews_corrcoef "
        "precision_score recall_score",
        "metrics._ranking": "average_precision_score roc_auc_score "
        "top_k_accuracy_score",
    }.items()
    for name in names.split()
)
_TRUSTED_TYPES = (*_OWN_TYPES, *_SKLEARN_TYPES)


# How a file compressed by joblib.dump(..., compress=...) begins, and how to
# read its beginning.
_COMPRESSIONS = {
    b"\x78": zlib.decompressobj,
    b"\x1f\x8b": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    b"BZh": bz2.BZ2Decompressor,
    b"\xfd7zXZ\x00": lzma.LZMADecompressor,
}


def _is_pickle(head):
    """Whether ``head``, the beginning of a file, begins a pickle (protocol 2 or
    later, as joblib and pickle write): its first opcodes parse, up to 4."""
    if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:
        return False
    count = 0
    try:
        for opcode, _, _ in pickletools.genops(io.BytesIO(head)):
            count += 1
            if opcode.name == "STOP" or count == 4:
                return True
    except Exception:  # pickletools raises ValueError, or others on bad bytes
        return False
    return False


def _looks_like_pickle(path):
    """Whether the file is a pickle, plain or compressed as joblib does it."""
    with open(path, "rb") as f:
        head = f.read(4096)
        if _is_pickle(head):
            return True
        magic = next((m for m in _COMPRESSIONS if head.startswith(m)), None)
        if magic is None:
            return False
        # bz2 decodes whole blocks, of up to 900 kB.
        head += f.read(1 << 20)
    try:
        return _is_pickle(_COMPRESSIONS[magic]().decompress(head, 4096))
    except Exception:  # zlib.error, OSError, LZMAError: not compressed
        return False
