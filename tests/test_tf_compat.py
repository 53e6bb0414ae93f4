"""skcnn/utils/_tf_compat.py: what it expects of TensorFlow still holds, and it
changes nothing outside skcnn's own calls."""

import logging
import subprocess
import sys
import textwrap

from skcnn.utils._tf_compat import RETRACING_MESSAGE, silence_retracing_warnings


def test_tensorflow_still_warns_as_the_filter_expects():
    """Fails when TensorFlow no longer emits the message the filter drops: the
    filter would then do nothing, and should be updated or removed.

    In a new process: TensorFlow warns at most twice per traced Python function
    and process, and the suite's other tests may have used those up."""
    script = textwrap.dedent(
        """
        import logging
        import keras
        import numpy as np

        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logging.getLogger("tensorflow").addHandler(handler)
        x = np.zeros((4, 3), dtype="float32")
        for _ in range(8):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.predict(x, verbose=0)
        print(sum(%r in r.getMessage() for r in records))
        """
        % RETRACING_MESSAGE
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 1


def test_only_inside_skcnn_calls(caplog):
    logger = logging.getLogger("tensorflow")
    message = "5 out of the last 13 calls to <function f> " + RETRACING_MESSAGE
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with silence_retracing_warnings():
            logger.warning(message)
            logger.warning("another warning")
            with silence_retracing_warnings():  # nested
                logger.warning(message)
            logger.warning(message)
        assert [r.getMessage() for r in caplog.records] == ["another warning"]
        # The same message outside an skcnn call still reaches the user.
        logger.warning(message)
    assert [r.getMessage() for r in caplog.records] == ["another warning", message]
